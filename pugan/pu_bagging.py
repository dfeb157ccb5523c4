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

Two departures, both so that every record gets a score from rounds that never saw it:

- **U is drawn at most |U| times per round.** Mordelet & Vert draw K = |P| records from U. When
  P is much larger than U (KDD at high labelling: tens of thousands of known normals, a few
  hundred unlabelled records), K = |P| draws with replacement would put every U record in every
  round's bag, and no U record would ever be scored out of bag. K is therefore
  ``min(|P| per round, |U|, max_samples_cap)``, and every record must be out of bag in at least
  ``min_oob`` rounds: rounds are added (up to ``max_estimators``) until it is, or the fit fails
  with an error that gives |P|, |U|, K and T.
- **Each round uses a random share of P** (``p_fraction``, without replacement, and at most
  ``max_samples_cap`` records). So every known normal is out of bag in some rounds, and its
  mean out-of-bag score is what a normal scores when the ensemble has not seen it: the null
  distribution that the reliable-normal rule and the detectors' thresholds need, from the one
  ensemble, with no extra cross-fitted ensembles.
"""

from __future__ import annotations

import logging
import numbers

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import check_scalar
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    check_is_fitted,
    check_random_state,
    validate_data,
)

from pugan.base import (
    MAX_SEED,
    AnomalyDetectorMixin,
    check_features,
    check_known_normal,
    draw_seed,
    labels_at_threshold,
    positive_proba,
    quantile_threshold,
)

__all__ = ["PUBaggingClassifier", "PUBaggingDetector", "select_reliable"]

log = logging.getLogger(__name__)


def _fit_round(base, X, p_idx, u_idx, n_u_draw, n_p_draw, seed):
    """One bagging round, steps (1)-(3): fit on a share of P and a bootstrap of U, then score
    every P and U row left out of the bag. Returns (estimator, rows fitted on, OOB rows,
    their scores)."""
    rng = np.random.RandomState(seed)
    # (1) bootstrap sample of U, with replacement, beside a share of P without replacement
    u_draw = u_idx[rng.randint(0, len(u_idx), size=n_u_draw)]
    p_draw = p_idx[rng.choice(len(p_idx), size=n_p_draw, replace=False)]
    # (2) base classifier: P positive (1), the U sample negative (0)
    rows = np.concatenate([p_draw, u_draw])
    target = np.concatenate([np.ones(len(p_draw), dtype=int), np.zeros(len(u_draw), dtype=int)])
    est = clone(base)
    if "random_state" in est.get_params():
        est.set_params(random_state=draw_seed(rng))
    est.fit(X[rows], target)
    # (3) score the records of P and U that this round did not see
    in_bag = np.zeros(X.shape[0], dtype=bool)
    in_bag[rows] = True
    oob = np.sort(np.concatenate([p_idx[~in_bag[p_idx]], u_idx[~in_bag[u_idx]]]))
    scores = positive_proba(est, X[oob]) if len(oob) else np.empty(0)
    return est, rows, oob, scores


class PUBaggingClassifier(ClassifierMixin, BaseEstimator):
    """PU bagging: an ensemble of P-versus-bootstrap-of-U classifiers with OOB scores.

    Parameters
    ----------
    estimator : classifier, default=None
        Base classifier with ``predict_proba``; cloned for every round. ``None`` means an
        unpruned ``DecisionTreeClassifier``, the paper's choice: a deep tree separates P from the
        small U sample wherever they differ, and averaging over rounds smooths its 0/1 output.
    n_estimators : int, default=50
        Number of rounds T (more are added when a record is out of bag too rarely).
    max_samples : int, default=None
        Size K of each bootstrap sample of U. ``None`` means the number of P records per round,
        which balances every round (Mordelet & Vert's K = |P|). Never more than |U|.
    max_samples_cap : int or None, default=4096
        Upper bound on K *and* on the P records per round; keeps a round's fit bounded when P is
        large, so that at scale a fit costs little more than scoring the out-of-bag rows. Binds
        only when P holds more than 1.5 times the cap; chosen on development seeds (docs/speed.md).
        ``None`` disables it.
    p_fraction : float in (0, 1), default=2/3
        Share of P drawn (without replacement) into each round; the rest of P is scored out of
        bag. At least one P record is drawn and at least one left out.
    min_oob : int, default=3
        Every P and U record must be out of bag in at least this many rounds.
    max_estimators : int or None, default=None
        Most rounds that may be fitted to satisfy ``min_oob`` (``None``: 4 x ``n_estimators``, at
        least 100); past it, fitting fails and names |P|, |U|, K and T.
    n_jobs : int, default=None
        Rounds fitted in parallel by joblib (threads: tree fitting releases the GIL).
    random_state : int, RandomState instance or None, default=None
        Seeds the bootstrap draws and the base classifiers.

    Attributes
    ----------
    estimators_ : list of fitted base classifiers, one per round.
    estimators_samples_ : list of int arrays, the rows each round was fitted on: its share of P,
        then its U draws (with repeats). Every other row was out of bag in that round.
    n_estimators_ : int, rounds fitted (``n_estimators`` or more, see ``min_oob``).
    n_samples_ : int, K, the U draws per round; n_positives_ : int, P records per round.
    classes_ : ndarray of the two labels; ``classes_[1]`` is the positive (labelled) class.
    oob_decision_ : ndarray of shape (n_samples,)
        For each row of P and U, the mean probability of being positive over the rounds in which
        it was out of bag.
    oob_count_ : ndarray of shape (n_samples,), how many rounds each row was out of bag.
    n_features_in_ : int
    """

    def __init__(self, estimator=None, n_estimators=50, max_samples=None,
                 max_samples_cap=4096, p_fraction=2 / 3, min_oob=3, max_estimators=None,
                 n_jobs=None, random_state=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_samples_cap = max_samples_cap
        self.p_fraction = p_fraction
        self.min_oob = min_oob
        self.max_estimators = max_estimators
        self.n_jobs = n_jobs
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _check_params(self):
        required = ("n_estimators", "min_oob")
        optional = ("max_samples", "max_samples_cap", "max_estimators")  # None: no limit
        for name in required + optional:
            value = getattr(self, name)
            if value is None and name in optional:
                continue
            if isinstance(value, bool):  # an Integral to check_scalar, never a count here
                raise TypeError(f"{name} must be an int; got the bool {value!r}")
            check_scalar(value, name, numbers.Integral, min_val=1)
        check_scalar(self.p_fraction, "p_fraction", numbers.Real, min_val=0.0, max_val=1.0,
                     include_boundaries="neither")
        if self.estimator is not None and not hasattr(self.estimator, "predict_proba"):
            raise TypeError(
                f"estimator must be a classifier with predict_proba; got {type(self.estimator)}"
            )

    def _round_sizes(self, n_p: int, n_u: int) -> tuple[int, int]:
        """(K, P records per round) for |P| = n_p and |U| = n_u; see the module docstring."""
        cap = self.max_samples_cap
        n_p_draw = int(round(self.p_fraction * n_p))
        if cap is not None:
            n_p_draw = min(n_p_draw, int(cap))
        n_p_draw = min(max(n_p_draw, 1), n_p - 1)
        k = n_p_draw if self.max_samples is None else int(self.max_samples)
        k = min(k, n_u) if cap is None else min(k, n_u, int(cap))
        return k, n_p_draw

    def fit(self, X, y):
        """Fit the rounds on P (``y == classes_[1]``, e.g. 1) and U (the other label, e.g. 0).

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
        if len(p_idx) < 2:
            raise ValueError(
                f"PU bagging needs at least 2 labelled positives, so that each is out of bag in "
                f"some rounds; got {len(p_idx)}")
        if len(u_idx) < 2:
            raise ValueError(
                f"PU bagging needs at least 2 unlabelled records, so that each is out of bag in "
                f"some rounds (a single one is drawn in every round); got {len(u_idx)}")
        k, n_p_draw = self._round_sizes(len(p_idx), len(u_idx))
        rng = check_random_state(self.random_state)
        base = DecisionTreeClassifier() if self.estimator is None else self.estimator
        limit = self.max_estimators or max(4 * self.n_estimators, 100)
        seeds = rng.randint(MAX_SEED, size=max(limit, self.n_estimators))
        log.debug("PU bagging: |P|=%d |U|=%d, K=%d, P per round=%d, T=%d",
                  len(p_idx), len(u_idx), k, n_p_draw, self.n_estimators)
        parallel = Parallel(n_jobs=self.n_jobs, prefer="threads")
        total = np.zeros(X.shape[0])
        count = np.zeros(X.shape[0], dtype=np.int64)
        rounds: list = []
        batch = self.n_estimators
        while True:
            todo = seeds[len(rounds):len(rounds) + batch]
            new = parallel(delayed(_fit_round)(base, X, p_idx, u_idx, k, n_p_draw, s)
                           for s in todo)
            for _, _, oob, scores in new:  # (4) each row's score: the mean of its OOB scores
                total[oob] += scores
                count[oob] += 1
            rounds += new
            short = int((count < self.min_oob).sum())
            if not short:
                break
            if len(rounds) >= len(seeds):
                raise ValueError(
                    f"PU bagging: {short} of {X.shape[0]} records were out of bag in fewer than "
                    f"min_oob={self.min_oob} of T={len(rounds)} rounds (|P|={len(p_idx)}, "
                    f"|U|={len(u_idx)}, K={k} U draws and {n_p_draw} P records per round); "
                    "raise max_estimators or lower min_oob")
            batch = max(1, self.n_estimators // 4)
        self.estimators_ = [r[0] for r in rounds]
        self.estimators_samples_ = [r[1] for r in rounds]
        self.n_estimators_ = len(rounds)
        self.n_samples_, self.n_positives_ = k, n_p_draw
        self.oob_decision_ = total / count
        self.oob_count_ = count
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Mean over all rounds of the base classifiers' probabilities; columns follow classes_."""
        check_is_fitted(self, "estimators_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        pos = np.zeros(X.shape[0])
        for est in self.estimators_:
            pos += positive_proba(est, X)
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
    ``normal_quantile`` quantile of the P records' out-of-bag scores. Why: a
    P record's out-of-bag score is what a true normal scores when the ensemble has not seen it,
    which is exactly the situation of a U record's OOB score; so the P scores are an empirical
    null distribution for "normal", and the rule keeps about ``1 - normal_quantile`` of the
    normals in U while rejecting U records that score lower than almost every known normal
    (the anomalies). It needs no guess of the anomaly ratio. A U record is a *reliable anomaly*
    when its score is below the ``anomaly_quantile`` quantile of the P scores (take it small,
    e.g. 0.001, so that almost no normal falls there).

    Parameters
    ----------
    u_scores : array-like of shape (n_u,)
        OOB positive scores of U records; NaN is never selected.
    p_scores : array-like of shape (n_p,)
        Out-of-bag positive scores of P records (NaN entries are ignored).
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


class PUBaggingDetector(AnomalyDetectorMixin, BaseEstimator):
    """Stage 1 alone as an anomaly detector: anomaly score = 1 - P(normal) from PU bagging.

    Every training row, of P and of U, is scored by the rounds that did not see it (its mean
    out-of-bag score); new data by the average of all rounds. ``threshold_`` is the
    ``threshold_quantile`` quantile of the P rows' out-of-bag anomaly scores: every known normal
    contributes, none is scored by a model that trained on it, and no test label is used. The
    ensemble is the one PU-GAN's stage 1 fits, with the same defaults.

    Parameters
    ----------
    estimator, n_estimators, max_samples, max_samples_cap, p_fraction, min_oob, max_estimators,
    n_jobs, random_state
        As in :class:`PUBaggingClassifier`.
    threshold_quantile : float, default=0.99
        Share of known normals kept below the threshold.

    Attributes
    ----------
    classifier_ : the fitted :class:`PUBaggingClassifier`.
    decision_scores_, threshold_, labels_, n_features_in_ : as in the detector contract.
    p_oob_scores_ : out-of-bag anomaly scores of the P rows (in P order).
    """

    def __init__(self, estimator=None, n_estimators=50, max_samples=None,
                 max_samples_cap=4096, p_fraction=2 / 3, min_oob=3, max_estimators=None,
                 threshold_quantile=0.99, n_jobs=None, random_state=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_samples_cap = max_samples_cap
        self.p_fraction = p_fraction
        self.min_oob = min_oob
        self.max_estimators = max_estimators
        self.threshold_quantile = threshold_quantile
        self.n_jobs = n_jobs
        self.random_state = random_state

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
        params = {k: v for k, v in self.get_params().items() if k != "threshold_quantile"}
        clf = PUBaggingClassifier(**params).fit(X, mask.astype(int))
        self.classifier_ = clf
        self.n_features_in_ = X.shape[1]
        self.decision_scores_ = 1.0 - clf.oob_decision_
        self.p_oob_scores_ = self.decision_scores_[mask]
        self.threshold_ = quantile_threshold(self.p_oob_scores_, self.threshold_quantile)
        self.labels_ = labels_at_threshold(self.decision_scores_, self.threshold_)
        return self

    def decision_function(self, X) -> np.ndarray:
        """Anomaly score 1 - mean P(normal) over all rounds; higher = more anomalous."""
        check_is_fitted(self, "classifier_")
        X = check_features(X, n_features=self.n_features_in_)
        return 1.0 - self.classifier_.predict_proba(X)[:, 1]
