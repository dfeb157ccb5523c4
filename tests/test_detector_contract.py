"""The detector contract, checked for EVERY registered detector (README, "Detector interface").

Each registered detector, built with its ``test_params``, must: fit on a small PU split; give
finite scores and 0/1 labels of the right shape; rank an easy case right (AUROC > 0.5) unless
it is listed in ``RANKING_EXEMPT`` with the reason; give the same scores for the same
``random_state`` (also after ``sklearn.base.clone``); write nothing to itself in
``decision_function``; and label by ``score >= threshold_``. A detector whose optional library
is not installed is skipped, naming the import that failed.
"""

from __future__ import annotations

import numpy as np
import pytest
from baselines_helpers import build, easy_case, fit
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from benchmarks.contract import fitted_state
from benchmarks.registry import registry

NAMES = sorted(registry())

#: PyOD's GAN detectors at test-sized training (a few epochs) do not reliably rank even the
#: easy case; at full size they did poorly too (AUPRC <= 0.13 on KDD in the paper's setting). They are
#: still held to every other clause of the contract.
RANKING_EXEMPT = {
    "alad": "PyOD ALAD: AUROC 0.59-0.66 on the easy case, too close to chance to assert",
    "alad-normals": "PyOD ALAD: as alad",
    "mo-gaal": "PyOD MO_GAAL: discriminator extrapolation, AUROC near 0.5 at 2 epochs",
    "mo-gaal-normals": "PyOD MO_GAAL: as mo-gaal",
    "so-gaal": "PyOD SO_GAAL: discriminator extrapolation, unstable at 2 epochs",
    "so-gaal-normals": "PyOD SO_GAAL: as so-gaal",
}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def case():
    return easy_case()


@pytest.mark.parametrize("name", NAMES)
def test_contract(name, case):
    X_train, y_train, known, X_test, y_test = case
    det = build(name)
    twin = clone(det)
    assert twin.get_params() == det.get_params()

    assert fit(det, name, X_train, y_train, known) is det
    n = X_train.shape[0]
    assert det.n_features_in_ == X_train.shape[1]
    assert det.decision_scores_.shape == (n,) and np.isfinite(det.decision_scores_).all()
    assert np.isfinite(det.threshold_)
    assert set(np.unique(det.labels_)) <= {0, 1} and det.labels_.shape == (n,)
    np.testing.assert_array_equal(det.labels_, det.decision_scores_ >= det.threshold_)

    before = fitted_state(det)
    scores = det.decision_function(X_test)
    assert fitted_state(det) == before, "decision_function wrote to the detector"
    assert scores.shape == (X_test.shape[0],) and np.isfinite(scores).all()
    labels = det.predict(X_test)
    np.testing.assert_array_equal(labels, (scores >= det.threshold_).astype(int))
    # scoring twice gives the same answer
    np.testing.assert_array_equal(det.decision_function(X_test), scores)

    # same random_state -> same scores, also for the clone
    fit(twin, name, X_train, y_train, known)
    np.testing.assert_allclose(twin.decision_function(X_test), scores, rtol=1e-6, atol=1e-9)
    assert twin.threshold_ == pytest.approx(det.threshold_, rel=1e-6, abs=1e-9)

    with pytest.raises(ValueError, match="features"):
        det.decision_function(X_test[:, :-1])

    if name not in RANKING_EXEMPT:
        auroc = roc_auc_score(y_test, scores)
        assert auroc > 0.5, f"{name}: higher score should mean more anomalous, AUROC {auroc:.3f}"


def test_exemptions_name_registered_detectors():
    assert set(RANKING_EXEMPT) <= set(NAMES)
