"""The shared skeleton of the one-class baseline adapters: what to fit on, and the threshold.

Every one-class baseline (exact and scalable OCSVM, every PyOD model) answers two questions the
same way, so they are answered once here:

* **What rows to fit on** (``fit_on``): ``"all"`` fits on every training row, labelled or not
  (the unsupervised way, the paper's OCSVM); ``"normals"`` fits on the known normals (the P set)
  only, the semi-supervised "normals only" variant.
* **Where the threshold goes**, without test labels: a share (``calibration_fraction``, 20% by
  default) of the known normals is held out of the fit, and ``threshold_`` is the
  ``threshold_quantile`` quantile of their scores. Held-out normals are scored like unseen
  records, so the threshold matches how test records are scored; normals the model was fitted
  on would score optimistically low (for KNN they would be their own nearest neighbour).
  With no calibration normals (``known_normal=None``, a single known normal, or
  ``calibration_fraction=0``) the threshold falls back to the ``1 - contamination`` quantile of
  the scores of every training row, a contamination estimate, and the fit logs that it did.
  The ``"all"`` variant has then scored every row in-sample; the ``"normals"`` variant mixes
  the fitted normals' in-sample scores with the other rows' out-of-sample ones, so its
  threshold is a rougher estimate. The ``"normals"`` variant without known normals, or with
  a single one, cannot fit at all and raises.
"""

from __future__ import annotations

import logging
import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.validation import check_is_fitted

from pugan.base import (
    AnomalyDetectorMixin,
    check_features,
    check_known_normal,
    labels_at_threshold,
    quantile_threshold,
)

__all__ = ["CalibratedOneClassDetector", "calibration_split", "check_finite_scalar",
           "own_random_state"]

logger = logging.getLogger(__name__)

FIT_ON = ("all", "normals")

#: what usually makes a model's scores NaN or infinite, for the errors that report them
NON_FINITE_CAUSES = (
    "likely causes: a column constant among the fit rows (a model that divides by a "
    "column's spread), too few fit rows, or values beyond the float32 range "
    f"(about {np.finfo(np.float32).max:.1e}) that a torch model computes in")


def check_finite_scalar(value, name: str, target_type, **bounds):
    """``sklearn.utils.check_scalar``, also refusing NaN, which passes every bound comparison
    and would otherwise surface later as an obscure error (or a NaN threshold) inside ``fit``."""
    check_scalar(value, name, target_type, **bounds)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value


def own_random_state(random_state) -> np.random.RandomState:
    """The generator ``fit`` draws from: ``check_random_state``, except that None gives a fresh
    unseeded generator instead of NumPy's global one, so fitting never advances ``np.random``."""
    if random_state is None:
        return np.random.RandomState()
    return check_random_state(random_state)


def calibration_split(known_normal: np.ndarray, fraction: float, rng) -> np.ndarray:
    """Pick the calibration normals: ``round(fraction * |P|)`` known normals, at least one.

    At least one known normal always stays for fitting, so fewer than two known normals give
    no calibration set (an all-False mask). Returns a boolean mask over the rows.
    """
    idx = np.flatnonzero(known_normal)
    cal = np.zeros(known_normal.shape[0], dtype=bool)
    if idx.size < 2 or fraction == 0:
        return cal
    n_cal = int(min(max(round(fraction * idx.size), 1), idx.size - 1))
    cal[rng.choice(idx, size=n_cal, replace=False)] = True
    return cal


class CalibratedOneClassDetector(AnomalyDetectorMixin, BaseEstimator):
    """Base class: fit a one-class model on the chosen rows, threshold on held-out normals.

    Public (``from baselines import CalibratedOneClassDetector``): a new normals-only detector
    built on it gets the same threshold rule as the built-in ones, so their F1 compare fairly.
    docs/plugins.md has a complete example.

    Subclasses store their own parameters in ``__init__`` (plus the four below, by name) and
    implement ``_fit_model(X_fit, random_state) -> model`` and ``_score_model(model, X) ->
    scores`` (higher = more anomalous). They may override ``_fit_scores`` when the model keeps
    scores of its own fitted rows, ``_validate_model`` to check their own parameters without
    data (``fit`` and the config reader both run it), and ``_min_fit_rows`` when the model
    needs more than one row to fit.

    Parameters (shared)
    -------------------
    fit_on : {"all", "normals"}
        ``"all"``: every training row except the calibration normals (unsupervised);
        ``"normals"``: only the known normals, except the calibration normals.
    threshold_quantile : float in (0, 1]
        Share of calibration normals kept below the threshold (0.99: about 1% of normals
        flagged).
    calibration_fraction : float in [0, 1)
        Share of known normals held out of the fit to set the threshold. 0 disables the hold
        out: the threshold then comes from the contamination estimate.
    contamination : float in (0, 0.5]
        Assumed anomaly share of the training rows, used for the threshold only when there
        are no calibration normals (either variant; see the module docstring).
    """

    def _validate_common(self):
        """Check every parameter without data: first thing in ``fit``, and when a benchmark
        config is read (so a bad value is refused once, not in every cell)."""
        if self.fit_on not in FIT_ON:
            raise ValueError(f"fit_on must be one of {FIT_ON}, got {self.fit_on!r}")
        check_finite_scalar(self.threshold_quantile, "threshold_quantile", numbers.Real,
                            min_val=0.0, max_val=1.0, include_boundaries="right")
        check_finite_scalar(self.calibration_fraction, "calibration_fraction", numbers.Real,
                            min_val=0.0, max_val=1.0, include_boundaries="left")
        check_finite_scalar(self.contamination, "contamination", numbers.Real, min_val=0.0,
                            max_val=0.5, include_boundaries="right")
        self._validate_model()

    @property
    def _display_name(self) -> str:
        """How errors name this detector."""
        return type(self).__name__

    # --- hooks -------------------------------------------------------------------------------
    def _validate_model(self):
        """Data-free checks of a subclass's own parameters (run by ``_validate_common``)."""

    def _min_fit_rows(self) -> tuple[int, str]:
        """The fewest rows the model can be fitted on, and why; checked before fitting so that
        too few rows get an error naming the need instead of one from deep inside a library."""
        return 1, "a model needs a row to fit"

    def _fit_model(self, X_fit: np.ndarray, random_state: np.random.RandomState):
        raise NotImplementedError

    def _score_model(self, model, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _fit_scores(self, model, X_fit: np.ndarray) -> np.ndarray:
        """Scores of the rows the model was fitted on (default: score them again)."""
        return self._score_model(model, X_fit)

    # --- the contract ------------------------------------------------------------------------
    def fit(self, X, y=None, *, known_normal=None):
        """Fit on the rows ``fit_on`` names and set the threshold from held-out known normals.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training records.
        y : ignored
            Present for API consistency; the labels of training anomalies are never used.
        known_normal : array-like of bool, shape (n_samples,), or None
            True for records labelled normal (the P set); everything else is unlabelled.
            None: every record is unlabelled.

        Returns
        -------
        self
        """
        self._validate_common()
        X = check_features(X)
        mask = check_known_normal(known_normal, X.shape[0],
                                  require_some=self.fit_on == "normals")
        rng = own_random_state(self.random_state)
        cal = calibration_split(mask, self.calibration_fraction, rng)
        fit_rows = (mask & ~cal) if self.fit_on == "normals" else ~cal
        if self.fit_on == "normals" and not cal.any() and mask.sum() < 2:
            raise ValueError(
                "known_normal marks only one record: the 'normals' variant needs at least two "
                "known normals (one to fit, one to set the threshold)")
        if not fit_rows.any():
            raise ValueError("no training row left to fit after holding out calibration normals")
        n_fit, (need, why) = int(fit_rows.sum()), self._min_fit_rows()
        if n_fit < need:
            raise ValueError(
                f"{self._display_name}: {n_fit} row(s) left to fit after holding out "
                f"{int(cal.sum())} calibration normal(s), but it needs at least {need}: {why}")

        model = self._fit_model(X[fit_rows], rng)
        scores = np.empty(X.shape[0], dtype=np.float64)
        scores[fit_rows] = self._fit_scores(model, X[fit_rows])
        if (~fit_rows).any():
            scores[~fit_rows] = self._score_model(model, X[~fit_rows])
        n_bad = int(np.count_nonzero(~np.isfinite(scores)))
        if n_bad:
            raise ValueError(
                f"{self._display_name}: the model produced {n_bad} non-finite score(s) on the "
                f"{scores.size} training rows ({n_fit} fitted); {NON_FINITE_CAUSES}")

        if cal.any():
            self.threshold_ = quantile_threshold(scores[cal], self.threshold_quantile)
            self.threshold_source_ = "calibration-normals"
        else:
            self.threshold_ = quantile_threshold(scores, 1.0 - self.contamination)
            self.threshold_source_ = "contamination"
            logger.info("%s: no calibration normals; threshold from contamination=%s over "
                        "training scores", type(self).__name__, self.contamination)
        self.model_ = model
        self.n_features_in_ = X.shape[1]
        self.calibration_mask_ = cal
        self.fit_mask_ = fit_rows
        self.decision_scores_ = scores
        self.labels_ = labels_at_threshold(scores, self.threshold_)
        return self

    def decision_function(self, X) -> np.ndarray:
        """Anomaly scores of ``X``: higher = more anomalous. Writes nothing to ``self``."""
        check_is_fitted(self, "model_")
        X = check_features(X, n_features=self.n_features_in_)
        return self._finite(np.asarray(self._score_model(self.model_, X),
                                       dtype=np.float64).ravel())

    def _finite(self, scores: np.ndarray) -> np.ndarray:
        """``scores``, or a ValueError: a NaN score would compare False with the threshold and
        pass as "normal" without anyone noticing."""
        n_bad = int(np.count_nonzero(~np.isfinite(scores)))
        if n_bad:
            raise ValueError(f"{self._display_name}: {n_bad} of {scores.size} scores are not "
                             f"finite; {NON_FINITE_CAUSES}")
        return scores
