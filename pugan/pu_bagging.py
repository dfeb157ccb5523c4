"""Stage 1 of PU-GAN: PU bagging (Mordelet & Vert 2014) and the reliable-normal rule.

Positive-unlabelled (PU) learning here: the positives P are records *labelled normal*; the
unlabelled set U holds the remaining normals and every anomaly. PU bagging learns to tell P from
U many times over small bootstrap samples of U. Because each U sample is small and random, the
few anomalies in U are outvoted in no round, while a U normal is, on average, indistinguishable
from P: so a U record's mean out-of-bag (OOB) probability of being positive is high for normals
and low for anomalies, which is what stage 2 needs to pick a clean GAN training set.

The four steps of the paper, each one visible in :meth:`PUBaggingClassifier.fit`:

1. draw a bootstrap sample of U (with replacement) and combine it with all of P;
2. train a base classifier with P as positives and the U sample as negatives;
3. score the U records that are out of the bag (not drawn in this round);
4. repeat T times; a U record's score is the mean of its OOB scores.

One departure, for scale: with ``max_samples_cap`` (20,000 by default) each round draws at most
that many U records *and* subsamples P without replacement to at most that many, so that a P of
500,000 records (KDD, high labelling) does not make every round a million-row fit. When P is not
larger than the cap, P enters every round whole, exactly as in the paper.
"""

from __future__ import annotations

import logging
import numbers

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import KFold
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    check_is_fitted,
    check_random_state,
    validate_data,
)

from pugan.base import (
    AnomalyDetectorMixin,
    check_features,
    check_known_normal,
    labels_at_threshold,
    quantile_threshold,
)

__all__ = ["PUBaggingClassifier", "PUBaggingDetector", "select_reliable"]

log = logging.getLogger(__name__)

_MAX_SEED = np.iinfo(np.int32).max


def _positive_proba(estimator, X) -> np.ndarray:
    """P(positive) from a fitted base estimator whose classes are {0, 1}."""
    proba = estimator.predict_proba(X)
    classes = list(estimator.classes_)
    if 1 in classes:
        return proba[:, classes.index(1)]
    return np.zeros(X.shape[0])  # cannot happen: P is in every round


def _fit_round(base, X, p_idx, u_idx, n_u_draw, n_p_draw, seed, score_oob):
    """One bagging round: steps (1)-(3). Returns the estimator, drawn U rows and OOB scores."""
    rng = np.random.RandomState(seed)
    # (1) bootstrap sample of U, with replacement ...
    u_draw = u_idx[rng.randint(0, len(u_idx), size=n_u_draw)]
    # ... combined with all of P (or a subsample of it when P exceeds the cap; see module doc)
    if n_p_draw < len(p_idx):
        p_draw = p_idx[rng.choice(len(p_idx), size=n_p_draw, replace=False)]
    else:
        p_draw = p_idx
    # (2) base classifier: P positive (1), the U sample negative (0)
    rows = np.concatenate([p_draw, u_draw])
    target = np.concatenate([np.ones(len(p_draw), dtype=int), np.zeros(len(u_draw), dtype=int)])
    est = clone(base)
    if "random_state" in est.get_params():
        est.set_params(random_state=int(rng.randint(_MAX_SEED)))
    est.fit(X[rows], target)
    # (3) score the out-of-bag U records
    in_bag = np.zeros(X.shape[0], dtype=bool)
    in_bag[u_draw] = True
    oob = u_idx[~in_bag[u_idx]]
    scores = _positive_proba(est, X[oob]) if (score_oob and len(oob)) else np.empty(0)
    return est, u_draw, oob, scores


class PUBaggingClassifier(ClassifierMixin, BaseEstimator):
    """PU bagging: an ensemble of P-versus-bootstrap-of-U classifiers with OOB scores for U.

    Parameters
    ----------
    estimator : classifier, default=None
        Base classifier with ``predict_proba``; cloned for every round. ``None`` means an
        unpruned ``DecisionTreeClassifier``, the paper's choice: a deep tree separates P from the
        small U sample wherever they differ, and averaging over rounds smooths its 0/1 output.
    n_estimators : int, default=50
        Number of rounds T.
    max_samples : int, default=None
        Size K of each bootstrap sample of U. ``None`` means ``|P|``, which balances every round
        (Mordelet & Vert's recommendation when U is much larger than P).
    max_samples_cap : int or None, default=20000
        Upper bound on K *and* on the number of P records used per round (P is subsampled
        without replacement above it). A departure from the paper that keeps a round's fit
        bounded when P is huge; ``None`` disables it.
    n_jobs : int, default=None
        Rounds fitted in parallel by joblib (threads: tree fitting releases the GIL).
    random_state : int, RandomState instance or None, default=None
        Seeds the bootstrap draws and the base classifiers.

    Attributes
    ----------
    estimators_ : list of fitted base classifiers, one per round.
    estimators_samples_ : list of int arrays, the U rows drawn (with repeats) in each round;
        every other U row was out of bag in that round.
    classes_ : ndarray of the two labels; ``classes_[1]`` is the positive (labelled) class.
    oob_decision_ : ndarray of shape (n_samples,)
        For each U row, the mean OOB probability of being positive; NaN for P rows and for U
        rows that were never out of bag.
    oob_count_ : ndarray of shape (n_samples,), how many rounds each row was out of bag.
    n_features_in_ : int
    """

    def __init__(self, estimator=None, n_estimators=50, max_samples=None,
                 max_samples_cap=20000, n_jobs=None, random_state=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_samples_cap = max_samples_cap
        self.n_jobs = n_jobs
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _check_params(self):
        if not isinstance(self.n_estimators, numbers.Integral) or self.n_estimators < 1:
            raise ValueError(f"n_estimators must be a positive integer; got {self.n_estimators!r}")
        for name in ("max_samples", "max_samples_cap"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, numbers.Integral) or v < 1):
                raise ValueError(f"{name} must be a positive integer or None; got {v!r}")
        if self.estimator is not None and not hasattr(self.estimator, "predict_proba"):
            raise TypeError(
                f"estimator must be a classifier with predict_proba; got {type(self.estimator)}"
            )

    def fit(self, X, y):
        """Fit T rounds on P (``y == classes_[1]``, e.g. 1) and U (the other label, e.g. 0).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Two labels: the larger one (1) marks P, the labelled positives; the other (0) U.

        Returns
        -------
        self
        """
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        kind = type_of_target(y, input_name="y", raise_unknown=True)
        if kind != "binary":
            raise ValueError(
                "Only binary classification is supported: y must hold exactly two labels "
                f"(1 = labelled positive P, 0 = unlabelled U); got target type {kind!r}"
            )
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) != 2:
            raise ValueError(
                "y has one class only: PU bagging needs both labelled positives (1) and "
                f"unlabelled records (0); got the single label {self.classes_[0]!r}"
            )
        p_idx = np.flatnonzero(y_enc == 1)
        u_idx = np.flatnonzero(y_enc == 0)
        rng = check_random_state(self.random_state)
        cap = self.max_samples_cap
        n_u_draw = len(p_idx) if self.max_samples is None else int(self.max_samples)
        n_p_draw = len(p_idx)
        if cap is not None:
            n_u_draw = min(n_u_draw, int(cap))
            n_p_draw = min(n_p_draw, int(cap))
        base = DecisionTreeClassifier() if self.estimator is None else self.estimator
        seeds = rng.randint(_MAX_SEED, size=self.n_estimators)
        log.debug("PU bagging: |P|=%d |U|=%d, K=%d, P per round=%d, T=%d",
                  len(p_idx), len(u_idx), n_u_draw, n_p_draw, self.n_estimators)
        rounds = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_fit_round)(base, X, p_idx, u_idx, n_u_draw, n_p_draw, s, True)
            for s in seeds
        )
        # (4) each U point's score: the mean of its OOB scores
        total = np.zeros(X.shape[0])
        count = np.zeros(X.shape[0], dtype=np.int64)
        for _, _, oob, scores in rounds:
            np.add.at(total, oob, scores)
            np.add.at(count, oob, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            oob_decision = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        oob_decision[p_idx] = np.nan
        self.estimators_ = [r[0] for r in rounds]
        self.estimators_samples_ = [r[1] for r in rounds]
        self.oob_decision_ = oob_decision
        self.oob_count_ = count
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Mean over all rounds of the base classifiers' probabilities; columns follow classes_."""
        check_is_fitted(self, "estimators_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        pos = np.zeros(X.shape[0])
        for est in self.estimators_:
            pos += _positive_proba(est, X)
        pos /= len(self.estimators_)
        return np.column_stack([1.0 - pos, pos])

    def decision_function(self, X) -> np.ndarray:
        """Mean positive probability minus 0.5: > 0 means the positive class ``classes_[1]``."""
        return self.predict_proba(X)[:, 1] - 0.5

    def predict(self, X) -> np.ndarray:
        """``classes_[1]`` where the mean positive probability exceeds 0.5, else ``classes_[0]``."""
        check_is_fitted(self, "estimators_")
        return self.classes_[(self.decision_function(X) > 0).astype(int)]


def select_reliable(u_scores, p_scores, *, normal_quantile=0.05, anomaly_quantile=None):
    """Pick reliable normals (and optionally reliable anomalies) from U by their PU scores.

    Rule: a U record is a *reliable normal* when its OOB positive score is at least the
    ``normal_quantile`` quantile of the P records' cross-fitted (out-of-fold) scores. Why: a
    P record's out-of-fold score is what a true normal scores when the ensemble has not seen it,
    which is exactly the situation of a U record's OOB score; so the P scores are an empirical
    null distribution for "normal", and the rule keeps about ``1 - normal_quantile`` of the
    normals in U while rejecting U records that score lower than almost every known normal
    (the anomalies). It needs no guess of the anomaly ratio. A U record is a *reliable anomaly*
    when its score is below the ``anomaly_quantile`` quantile of the P scores (take it small,
    e.g. 0.001, so that almost no normal falls there).

    Parameters
    ----------
    u_scores : array-like of shape (n_u,)
        OOB positive scores of U records; NaN (never out of bag) is never selected.
    p_scores : array-like of shape (n_p,)
        Cross-fitted positive scores of P records (NaN entries are ignored).
    normal_quantile : float in [0, 1], default=0.05
    anomaly_quantile : float in (0, 1) or None, default=None
        ``None`` selects no reliable anomaly.

    Returns
    -------
    normal_mask : ndarray of bool, shape (n_u,)
    anomaly_mask : ndarray of bool, shape (n_u,) (all False when ``anomaly_quantile`` is None)
    """
    u = np.asarray(u_scores, dtype=np.float64).ravel()
    p = np.asarray(p_scores, dtype=np.float64).ravel()
    p = p[np.isfinite(p)]
    if p.size == 0:
        raise ValueError("p_scores has no finite score: cannot calibrate the reliable-normal rule")
    if not 0.0 <= normal_quantile <= 1.0:
        raise ValueError(f"normal_quantile must be in [0, 1]; got {normal_quantile!r}")
    if anomaly_quantile is not None and not 0.0 < anomaly_quantile < 1.0:
        raise ValueError(f"anomaly_quantile must be in (0, 1) or None; got {anomaly_quantile!r}")
    finite = np.isfinite(u)
    cut = np.quantile(p, normal_quantile)
    normal = finite & (u >= cut)
    if anomaly_quantile is None:
        anomaly = np.zeros_like(normal)
    else:
        low = np.quantile(p, anomaly_quantile)
        anomaly = finite & (u < low) & ~normal
    return normal, anomaly


def cross_fit_positive_scores(classifier, X, p_idx, u_idx, n_folds, random_state):
    """Out-of-fold positive scores for the P rows: K folds over P, each scored by a clone fitted
    on the other folds of P against all of U (P rows have no OOB score, since P is in every
    round). Returns an array of length ``len(p_idx)``."""
    out = np.full(len(p_idx), np.nan)
    n_folds = min(int(n_folds), len(p_idx))
    if n_folds < 2:
        raise ValueError(
            f"cross-fitting needs at least 2 known normals (got {len(p_idx)}); label more records"
        )
    rng = check_random_state(random_state)
    folds = KFold(n_splits=n_folds, shuffle=True, random_state=rng.randint(_MAX_SEED))
    for keep, held in folds.split(p_idx):
        rows = np.concatenate([p_idx[keep], u_idx])
        target = np.concatenate([np.ones(len(keep), dtype=int), np.zeros(len(u_idx), dtype=int)])
        clf = clone(classifier).set_params(random_state=rng.randint(_MAX_SEED))
        clf.fit(X[rows], target)
        out[held] = clf.predict_proba(X[p_idx[held]])[:, 1]
    return out


class PUBaggingDetector(AnomalyDetectorMixin, BaseEstimator):
    """Stage 1 alone as an anomaly detector: anomaly score = 1 - P(normal) from PU bagging.

    Training U rows get their OOB score (never scored by a tree that saw them), P rows an
    out-of-fold score from ``n_folds`` cross-fits, new data the average of all rounds.
    ``threshold_`` is the ``threshold_quantile`` quantile of the P rows' out-of-fold anomaly
    scores: every known normal contributes, none is scored by a model that trained on it, and
    no test label is used.

    Parameters
    ----------
    estimator, n_estimators, max_samples, max_samples_cap, n_jobs, random_state
        As in :class:`PUBaggingClassifier`.
    n_folds : int, default=5
        Folds over P for the out-of-fold P scores (costs ``n_folds`` extra ensembles).
    threshold_quantile : float, default=0.99
        Share of known normals kept below the threshold.

    Attributes
    ----------
    classifier_ : the fitted :class:`PUBaggingClassifier`.
    decision_scores_, threshold_, labels_, n_features_in_ : as in the detector contract.
    p_oof_scores_ : out-of-fold anomaly scores of the P rows (in P order).
    """

    def __init__(self, estimator=None, n_estimators=50, max_samples=None,
                 max_samples_cap=20000, n_folds=5, threshold_quantile=0.99, n_jobs=None,
                 random_state=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_samples_cap = max_samples_cap
        self.n_folds = n_folds
        self.threshold_quantile = threshold_quantile
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _classifier(self, random_state):
        return PUBaggingClassifier(
            estimator=self.estimator, n_estimators=self.n_estimators,
            max_samples=self.max_samples, max_samples_cap=self.max_samples_cap,
            n_jobs=self.n_jobs, random_state=random_state,
        )

    def fit(self, X, y=None, *, known_normal=None):
        """Fit on P (``known_normal`` True) and U (the rest).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored (test labels are never used).
        known_normal : array-like of bool, shape (n_samples,)
            True for records labelled normal (the P set); everything else is unlabelled.
            Required: PU bagging needs both P and U.

        Returns
        -------
        self
        """
        X = check_features(X)
        if known_normal is None:
            raise ValueError("known_normal is required: PU bagging needs records labelled normal")
        mask = check_known_normal(known_normal, X.shape[0], require_some=True, forbid_all=True)
        rng = check_random_state(self.random_state)
        clf = self._classifier(rng.randint(_MAX_SEED)).fit(X, mask.astype(int))
        p_idx, u_idx = np.flatnonzero(mask), np.flatnonzero(~mask)
        p_pos = cross_fit_positive_scores(clf, X, p_idx, u_idx, self.n_folds,
                                          rng.randint(_MAX_SEED))
        pos = clf.oob_decision_.copy()
        never = ~mask & np.isnan(pos)
        if never.any():  # U rows drawn in every round: fall back to the ensemble average
            pos[never] = clf.predict_proba(X[never])[:, 1]
        pos[p_idx] = p_pos
        self.classifier_ = clf
        self.n_features_in_ = X.shape[1]
        self.decision_scores_ = 1.0 - pos
        self.p_oof_scores_ = 1.0 - p_pos
        self.threshold_ = quantile_threshold(self.p_oof_scores_, self.threshold_quantile)
        self.labels_ = labels_at_threshold(self.decision_scores_, self.threshold_)
        return self

    def decision_function(self, X) -> np.ndarray:
        """Anomaly score 1 - mean P(normal) over all rounds; higher = more anomalous."""
        check_is_fitted(self, "classifier_")
        X = check_features(X, n_features=self.n_features_in_)
        return 1.0 - self.classifier_.predict_proba(X)[:, 1]
