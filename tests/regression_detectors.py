"""Test-only detectors for tests/test_regression.py, registered when a sweep config lists this
file under ``plugins``. Not collected by pytest (no ``test_`` prefix)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from benchmarks.registry import make_detector, register
from pugan.base import AnomalyDetectorMixin


class NegatedDetector(AnomalyDetectorMixin, BaseEstimator):
    """A deliberately broken detector: a real registry detector whose scores are negated.

    ``fit`` fits ``base`` and keeps its threshold mirrored (``-threshold_``), so the records it
    flags are the ones the real detector finds most normal: every guarded metric drops.
    """

    def __init__(self, *, base="knn-normals", base_params=None, random_state=None):
        self.base = base
        self.base_params = base_params
        self.random_state = random_state

    def fit(self, X, y=None, *, known_normal=None):
        self.detector_ = make_detector(self.base, random_state=self.random_state,
                                       **(self.base_params or {}))
        self.detector_.fit(X, known_normal=known_normal)
        self.n_features_in_ = self.detector_.n_features_in_
        self.decision_scores_ = -np.asarray(self.detector_.decision_scores_, dtype=float)
        self.threshold_ = -float(self.detector_.threshold_)
        self.labels_ = (self.decision_scores_ >= self.threshold_).astype(int)
        return self

    def decision_function(self, X):
        return -np.asarray(self.detector_.decision_function(X), dtype=float)


register("t-negated", supervision="normals-only",
         description="test: a real detector with negated scores (a deliberate regression)")(
    lambda random_state=None, **p: NegatedDetector(random_state=random_state, **p))
