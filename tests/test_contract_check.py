"""``check_detector``: passes a sound detector and names what a broken one breaks."""

import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.contract import ContractError, check_detector

sys.path.insert(0, str(Path(__file__).parent))
from harness_detectors import CentroidDetector  # noqa: E402


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
