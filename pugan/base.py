"""The detector contract shared by PU-GAN and every baseline adapter.

Every detector in the suite follows one PyOD-compatible interface (see README, "Detector
interface"): ``fit(X, known_normal=mask)`` learns from training records of which some are
labelled normal (the P set) and the rest unlabelled; ``decision_function`` returns scores where
higher means more anomalous; ``predict`` returns 1 for anomaly by ``threshold_``.

The threshold rule lives here, once, so that every detector breaks ties the same way:
a record is an anomaly when its score is **greater than or equal to** ``threshold_``.
Scores tied at the threshold therefore all fall on the anomaly side. A strict ``>`` would flag
nothing when a block of records shares the maximal score (a PU-bagging ensemble put 2.2% of KDD
training rows at exactly 1.0); with ``>=`` the whole tied block is flagged, and the number of
reference normals flagged is reported rather than hidden.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "MAX_SEED",
    "AnomalyDetectorMixin",
    "check_features",
    "check_known_normal",
    "draw_seed",
    "labels_at_threshold",
    "positive_proba",
    "quantile_threshold",
]

#: exclusive upper bound of a child estimator's seed: every seed fits a 32-bit signed int, which
#: is what libraries that take an int seed (scikit-learn, PyOD, torch) all accept
MAX_SEED = np.iinfo(np.int32).max


def draw_seed(rng: np.random.RandomState) -> int:
    """An int seed for a child estimator, drawn from a RandomState (one ``randint`` call).

    So that a parent's ``random_state`` fixes every child's randomness, and one child's draws
    never shift another's, each child gets its own seed from the parent's generator.
    """
    return int(rng.randint(MAX_SEED))


def check_features(X, *, name: str = "X", n_features: int | None = None) -> np.ndarray:
    """Return ``X`` as a 2-D float64 array, or raise a ValueError that names the problem.

    Rejects non-numeric or complex data, wrong dimensionality, empty input, NaN/inf, and (when
    ``n_features`` is given) a column count different from the one seen in ``fit``.
    """
    try:  # a ragged list fails already in the complex check: both named as not numeric
        is_complex = np.iscomplexobj(X)
        arr = None if is_complex else np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{name} must be numeric; could not convert to float: {exc}") from exc
    if is_complex:  # numpy would drop the imaginary parts with only a warning
        raise ValueError(f"{name} must be real-valued; got complex numbers")
    if arr.ndim == 1:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features); got a 1-D array of shape {arr.shape}. "
            "Reshape with X.reshape(-1, 1) for a single feature."
        )
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features); got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: 0 samples")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has 0 features")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))
        r, c = bad[0]
        raise ValueError(
            f"{name} contains NaN or infinite values ({len(bad)} cells, first at row {r}, "
            f"column {c}); impute or drop them before fitting"
        )
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(
            f"{name} has {arr.shape[1]} features, but the detector was fitted with {n_features}"
        )
    return arr


def check_known_normal(known_normal, n_samples: int, *, require_some: bool = False,
                       forbid_all: bool = False) -> np.ndarray:
    """Validate the P mask: True for records labelled normal (the P set), the rest unlabelled.

    ``None`` means every record is unlabelled. ``require_some`` rejects an empty P set (a
    detector that needs known normals); ``forbid_all`` rejects a mask with no unlabelled record
    (a PU method needs U).
    """
    if known_normal is None:
        mask = np.zeros(n_samples, dtype=bool)
    else:
        mask = np.asarray(known_normal)
        if mask.ndim != 1 or mask.shape[0] != n_samples:
            raise ValueError(
                f"known_normal must be a 1-D boolean mask of length {n_samples} (one entry per "
                f"row of X); got shape {mask.shape}"
            )
        if mask.dtype != bool:
            if not np.isin(mask, [0, 1]).all():
                raise ValueError("known_normal must be boolean (True = labelled normal)")
            mask = mask.astype(bool)
    if require_some and not mask.any():
        raise ValueError(
            "known_normal has no True entry: this detector needs some records labelled normal "
            "(the P set)"
        )
    if forbid_all and mask.all():
        raise ValueError(
            "known_normal is True for every record: a PU detector needs unlabelled records (U)"
        )
    return mask


def quantile_threshold(reference_scores, quantile: float) -> float:
    """The ``quantile`` of scores of records believed normal, used as the decision threshold.

    ``quantile`` is the share of reference normals to keep below the threshold (0.99: about 1%
    of normals flagged). Uses the "higher" order statistic so the threshold is a score that
    actually occurs, which makes the tie rule (``>=``) exact.
    """
    if not 0.0 < quantile <= 1.0:
        raise ValueError(f"threshold quantile must be in (0, 1]; got {quantile}")
    ref = np.asarray(reference_scores, dtype=np.float64).ravel()
    if ref.size == 0:
        raise ValueError("cannot set a threshold from 0 reference scores")
    return float(np.quantile(ref, quantile, method="higher"))


def positive_proba(classifier, X) -> np.ndarray:
    """Probability of the label 1 from a fitted binary classifier (0 where it never saw a 1)."""
    proba = classifier.predict_proba(X)
    classes = list(classifier.classes_)
    if 1 not in classes:
        return np.zeros(proba.shape[0])
    return proba[:, classes.index(1)]


def labels_at_threshold(scores, threshold: float) -> np.ndarray:
    """1 (anomaly) where ``score >= threshold``, else 0: ties fall on the anomaly side."""
    return (np.asarray(scores) >= threshold).astype(int)


class AnomalyDetectorMixin:
    """``predict`` and ``fit_predict`` from ``decision_function`` and ``threshold_``.

    Subclasses implement ``fit`` (setting ``decision_scores_``, ``threshold_``, ``labels_``,
    ``n_features_in_``) and ``decision_function`` (which must not write to ``self``).
    """

    _estimator_type = "outlier_detector"

    def predict(self, X) -> np.ndarray:
        """1 for anomaly, 0 for normal, by ``threshold_`` (ties count as anomalies)."""
        check_is_fitted(self, "threshold_")
        return labels_at_threshold(self.decision_function(X), self.threshold_)

    def fit_predict(self, X, y=None, *, known_normal=None) -> np.ndarray:
        """Fit, then return the training labels ``labels_``."""
        return self.fit(X, y, known_normal=known_normal).labels_
