"""Reference scorers that use labels: a plain P-vs-U classifier, and a supervised oracle.

They bracket PU-GAN from below and above. If PU-GAN cannot beat a single classifier trained to
tell the labelled normals (P) from the unlabelled rest (U), its GAN stages add nothing; the
oracle sees the training anomalies' labels, which no real deployment has, and so bounds what a
detector could reach on the split (it is named ``oracle`` everywhere it appears).

Both thresholds are set without test labels, by cross-fitting: records are split into folds, a
model fitted without a fold scores that fold, and ``threshold_`` is the ``threshold_quantile``
quantile of the out-of-fold scores of the reference normals (the known normals for the P-vs-U
classifier; the training normals for the oracle). In-sample scores would be optimistic (a
classifier that memorised a normal scores it as very normal), and the threshold would sit too low.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import check_scalar
from sklearn.utils.validation import check_is_fitted

from baselines._calibrated import check_finite_scalar, own_random_state
from pugan.base import (
    AnomalyDetectorMixin,
    check_features,
    check_known_normal,
    draw_seed,
    labels_at_threshold,
    positive_proba,
    quantile_threshold,
)

__all__ = ["OracleSupervisedDetector", "PUClassifierDetector"]


def _default_classifier():
    # balanced: P is often a few percent of the rows; without weights the classifier would
    # call everything U and every score would be near 1
    return HistGradientBoostingClassifier(max_iter=100, class_weight="balanced")


def _seeded(estimator, seed: int):
    """A clone of ``estimator`` whose unset ``random_state`` parameters, nested ones included,
    are ``seed``.

    A Pipeline or a search keeps its random estimators one level down
    (``randomforestclassifier__random_state``); seeding the top level only would leave them
    drawing from NumPy's global generator. Seeds the caller set on purpose are kept.
    """
    est = clone(estimator)
    unset = {key: seed for key, value in est.get_params(deep=True).items()
             if (key == "random_state" or key.endswith("__random_state")) and value is None}
    return est.set_params(**unset)


class _CrossFittedClassifier(AnomalyDetectorMixin, BaseEstimator):
    """Shared fit: a binary classifier, its score, and a cross-fitted threshold.

    ``target`` is 1 for the class the anomaly score points *away from* (P, or normal) in
    :class:`PUClassifierDetector`, and 1 for anomalies in :class:`OracleSupervisedDetector`;
    subclasses define it via ``_score_from_proba``.
    """

    def __init__(self, *, estimator=None, n_folds=3, threshold_quantile=0.99, random_state=None):
        self.estimator = estimator
        self.n_folds = n_folds
        self.threshold_quantile = threshold_quantile
        self.random_state = random_state

    def _score_from_proba(self, p1: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _check_params(self):
        """Check the parameters without data: first thing in ``fit``, and when a benchmark
        config is read (so a bad value is refused once, not in every cell)."""
        check_scalar(self.n_folds, "n_folds", numbers.Integral, min_val=2)
        check_finite_scalar(self.threshold_quantile, "threshold_quantile", numbers.Real,
                            min_val=0.0, max_val=1.0, include_boundaries="right")
        if self.estimator is not None and not hasattr(self.estimator, "predict_proba"):
            raise TypeError("estimator must have predict_proba; "
                            f"{type(self.estimator).__name__} does not")

    def _fit_classifier(self, X, target, reference, rng):
        base = self.estimator if self.estimator is not None else _default_classifier()
        n_minor = int(min(target.sum(), (1 - target).sum()))
        n_folds = min(int(self.n_folds), n_minor)
        oof = np.full(X.shape[0], np.nan)
        if n_folds >= 2:
            skf = StratifiedKFold(n_splits=n_folds, shuffle=True,
                                  random_state=draw_seed(rng))
            for tr, te in skf.split(X, target):
                m = _seeded(base, draw_seed(rng)).fit(X[tr], target[tr])
                oof[te] = self._score_from_proba(positive_proba(m, X[te]))
        model = _seeded(base, draw_seed(rng)).fit(X, target)
        scores = self._score_from_proba(positive_proba(model, X))
        ref = oof[reference]
        if np.isnan(ref).any():
            raise ValueError(
                f"too few records in the smaller class ({n_minor}) to cross-fit the threshold "
                "with at least 2 folds")
        self.model_ = model
        self.n_features_in_ = X.shape[1]
        self.oof_scores_ = oof
        self.decision_scores_ = scores
        self.threshold_ = quantile_threshold(ref, self.threshold_quantile)
        self.labels_ = labels_at_threshold(scores, self.threshold_)
        return self

    def decision_function(self, X) -> np.ndarray:
        """Anomaly scores of ``X`` (higher = more anomalous); writes nothing to ``self``."""
        check_is_fitted(self, "model_")
        X = check_features(X, n_features=self.n_features_in_)
        return self._score_from_proba(positive_proba(self.model_, X))


class PUClassifierDetector(_CrossFittedClassifier):
    """P-vs-U classifier: anomaly score = 1 - P(labelled normal | x).

    A classifier trained to tell the known normals (P, class 1) from the unlabelled records
    (U, class 0) gives unlabelled anomalies a low P-probability, since nothing like them is in
    P; unlabelled normals look like P and score higher. Elkan and Noto (2008) show the P-vs-U
    probability is proportional to P(normal | x) when P is a random sample of normals, so it
    ranks records as a normal-vs-anomaly classifier would. This is stage 1 of PU-GAN without
    the bagging: the simplest PU reference.

    Parameters
    ----------
    estimator : classifier with predict_proba, or None
        Cloned for every fit. None: ``HistGradientBoostingClassifier(max_iter=100,
        class_weight="balanced")``.
    n_folds : int, default=3
        Folds for the cross-fitted threshold (capped at the size of the smaller class).
    threshold_quantile : float in (0, 1], default=0.99
        Quantile of the out-of-fold scores of the known normals used as ``threshold_``.
    random_state : int, RandomState or None
        Seeds the folds and the classifiers (every ``random_state`` the estimator leaves None,
        nested ones included). None: unseeded, without touching NumPy's global generator.
    """

    def _score_from_proba(self, p1):
        return 1.0 - p1

    def fit(self, X, y=None, *, known_normal=None):
        """Fit P (``known_normal``) vs U (the rest); ``y`` is ignored (labels are never used).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
        known_normal : array-like of bool, shape (n_samples,)
            True for records labelled normal (the P set); everything else is unlabelled.
            Required, with at least one unlabelled record.
        """
        self._check_params()
        X = check_features(X)
        mask = check_known_normal(known_normal, X.shape[0], require_some=True, forbid_all=True)
        rng = own_random_state(self.random_state)
        return self._fit_classifier(X, mask.astype(int), mask, rng)


class OracleSupervisedDetector(_CrossFittedClassifier):
    """ORACLE: a supervised classifier that sees the training anomalies' labels.

    Not a fair competitor: it knows ``y_train``, which the PU setting hides. It is the upper
    reference, "what a classifier could do with full training labels", so a gap between it and
    a PU detector measures what the missing labels cost. Test labels are never seen.

    Parameters
    ----------
    estimator : classifier with predict_proba, or None
        None: ``HistGradientBoostingClassifier(max_iter=100, class_weight="balanced")``.
    n_folds : int, default=3
        Folds for the cross-fitted threshold.
    threshold_quantile : float in (0, 1], default=0.99
        Quantile of the out-of-fold scores of the training normals used as ``threshold_``.
    random_state : int, RandomState or None
        As in :class:`PUClassifierDetector`.
    """

    def _score_from_proba(self, p1):
        return p1

    def fit(self, X, y=None, *, known_normal=None):
        """Fit anomaly (y=1) vs normal (y=0) on the training rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), required
            Training labels, 1 = anomaly (the split's ``y_train``). Required: this is the oracle.
        known_normal : ignored
            Accepted for the common interface; ``y`` already says which records are normal.
        """
        self._check_params()
        X = check_features(X)
        if y is None:
            raise ValueError("OracleSupervisedDetector.fit needs y (training labels, 1 = "
                             "anomaly): it is the supervised oracle")
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must be 1-D with one label per row of X ({X.shape[0]}); "
                             f"got shape {y.shape}")
        if not np.isin(y, [0, 1]).all() or np.unique(y).size != 2:
            raise ValueError("y must hold both classes, 0 (normal) and 1 (anomaly), and nothing "
                             "else")
        rng = own_random_state(self.random_state)
        y = y.astype(int)
        return self._fit_classifier(X, y, y == 0, rng)
