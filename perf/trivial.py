"""A trivial detector for measuring the harness's own cost per cell (``make bench``).

Registered as ``perf-trivial`` when a sweep config lists this file under ``plugins``: the
distance to the mean of the known normals, threshold at their 99% quantile. Its fit and scoring take microseconds, so a cell's wall time is the harness's overhead.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from benchmarks.registry import register
from pugan.base import AnomalyDetectorMixin, check_features, check_known_normal, quantile_threshold


class TrivialDetector(AnomalyDetectorMixin, BaseEstimator):
    """Distance to the mean of the known normals (all rows when none is known)."""

    def __init__(self, *, random_state=None):
        self.random_state = random_state

    def fit(self, X, y=None, *, known_normal=None):
        X = check_features(X)
        mask = check_known_normal(known_normal, len(X))
        ref = X[mask] if mask.any() else X
        self.center_ = ref.mean(axis=0)
        self.n_features_in_ = X.shape[1]
        self.decision_scores_ = self.decision_function(X)
        self.threshold_ = quantile_threshold(self.decision_function(ref), 0.99)
        self.labels_ = (self.decision_scores_ >= self.threshold_).astype(int)
        return self

    def decision_function(self, X):
        X = check_features(X, n_features=self.n_features_in_)
        return np.linalg.norm(X - self.center_, axis=1)


register("perf-trivial", supervision="normals-only",
         description="perf: distance to the known normals' mean (harness overhead)")(
    lambda random_state=None, **p: TrivialDetector(random_state=random_state, **p))
