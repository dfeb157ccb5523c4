"""``check_detector``: passes a sound detector and names what a broken one breaks."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from benchmarks.contract import ContractError, check_detector
from pugan.base import AnomalyDetectorMixin, check_features, check_known_normal, quantile_threshold


class CentroidDetector(AnomalyDetectorMixin, BaseEstimator):
    """Distance to the known normals' mean; threshold at their 95% quantile."""

    def __init__(self, *, random_state=None):
        self.random_state = random_state

    def fit(self, X, y=None, *, known_normal=None):
        X = check_features(X)
        ref = X[check_known_normal(known_normal, len(X))]
        self.center_ = ref.mean(axis=0)
        self.n_features_in_ = X.shape[1]
        self.decision_scores_ = self.decision_function(X)
        self.threshold_ = quantile_threshold(self.decision_function(ref), 0.95)
        self.labels_ = (self.decision_scores_ >= self.threshold_).astype(int)
        return self

    def decision_function(self, X):
        X = check_features(X, n_features=getattr(self, "n_features_in_", None))
        return np.linalg.norm(X - self.center_, axis=1)


class WritesWhenScoring(CentroidDetector):
    def decision_function(self, X):
        self.calls_ = getattr(self, "calls_", 0) + 1
        return super().decision_function(X)


class Inverted(CentroidDetector):
    def decision_function(self, X):
        return -super().decision_function(X)


class NanThreshold(CentroidDetector):
    def fit(self, X, y=None, *, known_normal=None):
        super().fit(X, known_normal=known_normal)
        self.threshold_ = np.nan
        return self


def test_a_sound_detector_passes():
    check_detector(CentroidDetector(random_state=0))


class Weighted(CentroidDetector):
    """A sound detector whose parameters are an array and an estimator."""

    def __init__(self, *, weights=None, reducer=None, random_state=None):
        self.weights, self.reducer = weights, reducer
        self.random_state = random_state


def test_array_and_estimator_parameters_pass_the_clone_check():
    """``!=`` on the parameter dicts is ambiguous for an array, and clone gives a nested
    estimator as a new object: neither is a broken detector."""
    from sklearn.decomposition import PCA

    check_detector(Weighted(weights=np.array([1.0, 2.0]), reducer=PCA(n_components=1),
                            random_state=0))
    # a parameter clone cannot copy (an estimator fitted beforehand comes back unfitted) is
    # still named
    fitted = PCA(n_components=1).fit(np.random.default_rng(0).standard_normal((20, 2)))
    with pytest.raises(ContractError, match=r"clone\(\) changes the parameters"):
        check_detector(Weighted(reducer=fitted, random_state=0))


def test_a_public_baseline_passes():
    from baselines import CalibratedOneClassDetector
    from baselines.ocsvm import OCSVMDetector

    det = OCSVMDetector(random_state=0)
    assert isinstance(det, CalibratedOneClassDetector)
    check_detector(det)


@pytest.mark.parametrize("klass, clause", [
    (WritesWhenScoring, "writes to the detector"),
    (Inverted, "AUROC"),
    (NanThreshold, "threshold_ is not a finite number"),
])
def test_a_broken_detector_is_named(klass, clause):
    with pytest.raises(ContractError, match=clause):
        check_detector(klass(random_state=0))
