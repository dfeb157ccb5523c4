"""Unit tests of the baseline adapters: fit rows, threshold rule, seeding, bad input."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
from baselines_helpers import easy_case
from sklearn.metrics import roc_auc_score

from baselines._calibrated import calibration_split
from baselines.compare import exact_vs_scalable
from baselines.ocsvm import OCSVMDetector, SGDOCSVMDetector, resolve_gamma
from baselines.pu_reference import OracleSupervisedDetector, PUClassifierDetector
from baselines.pyod_adapters import PyODDetector, check_model_params, isolated_global_rng
from pugan.base import quantile_threshold

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def case():
    return easy_case(seed=3)


# --- calibration split and threshold rule --------------------------------------------------
def test_calibration_split_sizes():
    rng = np.random.RandomState(0)
    known = np.zeros(100, bool)
    known[:50] = True
    cal = calibration_split(known, 0.2, rng)
    assert cal.sum() == 10 and not (cal & ~known).any()
    two = np.zeros(10, bool)
    two[:2] = True
    assert calibration_split(two, 0.9, rng).sum() == 1  # one always stays to fit
    one = np.zeros(10, bool)
    one[0] = True
    assert calibration_split(one, 0.5, rng).sum() == 0
    assert calibration_split(known, 0.0, rng).sum() == 0


@pytest.mark.parametrize("fit_on", ["all", "normals"])
def test_threshold_is_quantile_of_held_out_normals(case, fit_on):
    X, _, known, _, _ = case
    det = PyODDetector("KNN", fit_on=fit_on, threshold_quantile=0.9, random_state=0)
    det.fit(X, known_normal=known)
    cal = det.calibration_mask_
    assert det.threshold_source_ == "calibration-normals"
    assert cal.sum() == round(0.2 * known.sum()) and not (cal & ~known).any()
    assert not (det.fit_mask_ & cal).any()
    if fit_on == "normals":
        np.testing.assert_array_equal(det.fit_mask_, known & ~cal)
    else:
        np.testing.assert_array_equal(det.fit_mask_, ~cal)
    assert det.threshold_ == quantile_threshold(det.decision_scores_[cal], 0.9)
    # the calibration rows are scored as unseen rows: same as decision_function
    np.testing.assert_allclose(det.decision_scores_[cal], det.decision_function(X[cal]))


def test_without_known_normals_threshold_comes_from_contamination(case):
    X, _, _, _, _ = case
    det = PyODDetector("IForest", contamination=0.05, random_state=0).fit(X)
    assert det.threshold_source_ == "contamination"
    assert det.fit_mask_.all()
    assert det.labels_.mean() == pytest.approx(0.05, abs=0.01)


def test_normals_variant_needs_known_normals(case):
    X, _, known, _, _ = case
    with pytest.raises(ValueError, match="known_normal has no True entry"):
        PyODDetector("IForest", fit_on="normals").fit(X)
    one = np.zeros(len(X), bool)
    one[np.flatnonzero(known)[0]] = True
    with pytest.raises(ValueError, match="at least two known normals"):
        OCSVMDetector(fit_on="normals").fit(X, known_normal=one)


def test_tied_scores_fall_on_the_anomaly_side():
    """HBOS gives whole histogram bins one score; with >= the tied block at the threshold is
    flagged, so a threshold at the top score still flags something."""
    rng = np.random.default_rng(0)
    X = np.repeat(rng.integers(0, 3, size=(50, 1)).astype(float), 4, axis=0)
    known = np.ones(len(X), bool)
    det = PyODDetector("HBOS", fit_on="normals", threshold_quantile=1.0, random_state=0)
    det.fit(X, known_normal=known)
    top = det.decision_scores_.max()
    assert det.threshold_ <= top
    assert det.labels_.sum() >= (det.decision_scores_ == det.threshold_).sum() > 1


# --- seeding ---------------------------------------------------------------------------------
def test_deep_pyod_model_leaves_global_generators_alone(case):
    torch = pytest.importorskip("torch")
    X, _, known, _, _ = case
    np.random.seed(123)
    random.seed(123)
    torch.manual_seed(123)
    hashseed = os.environ.get("PYTHONHASHSEED")
    expected_np, expected_py = np.random.rand(), random.random()
    expected_torch = torch.rand(1).item()
    np.random.seed(123)
    random.seed(123)
    torch.manual_seed(123)
    det = PyODDetector("AutoEncoder", fit_on="normals",
                       model_params={"epoch_num": 1, "batch_size": 64}, random_state=7)
    det.fit(X, known_normal=known)
    det.decision_function(X[:10])
    assert np.random.rand() == expected_np
    assert random.random() == expected_py
    assert torch.rand(1).item() == expected_torch
    assert os.environ.get("PYTHONHASHSEED") == hashseed


def test_different_seeds_give_different_deep_scores(case):
    X, _, known, X_test, _ = case
    params = {"epoch_num": 1, "batch_size": 64}
    a = PyODDetector("AutoEncoder", model_params=params, random_state=1).fit(X, known_normal=known)
    b = PyODDetector("AutoEncoder", model_params=params, random_state=2).fit(X, known_normal=known)
    assert not np.allclose(a.decision_function(X_test), b.decision_function(X_test))


def test_isolated_rng_restores_state_after_an_error():
    """The body runs on the seeded generator and ends in its own error; the caller's state
    comes back. An error raised by the context manager itself is not the case under test."""
    np.random.seed(5)
    expected = np.random.rand()
    inside = np.random.RandomState(99).rand()
    np.random.seed(5)
    drawn = []
    with pytest.raises(RuntimeError, match="^inside$"), isolated_global_rng(99, torch_too=False):
        drawn.append(np.random.rand())
        raise RuntimeError("inside")
    assert drawn == [inside]
    assert np.random.rand() == expected


def test_gaal_paper_score_is_pyod_score_negated(case):
    X, _, known, X_test, _ = case
    kw = dict(fit_on="normals", model_params={"stop_epochs": 1}, random_state=0)
    raw = PyODDetector("SO_GAAL", gaal_score="pyod", **kw).fit(X, known_normal=known)
    paper = PyODDetector("SO_GAAL", gaal_score="paper", **kw).fit(X, known_normal=known)
    np.testing.assert_allclose(paper.decision_function(X_test), -raw.decision_function(X_test))
    with pytest.raises(ValueError, match="gaal_score"):
        PyODDetector("SO_GAAL", gaal_score="flipped", **kw).fit(X, known_normal=known)


# --- bad input -------------------------------------------------------------------------------
def test_unknown_pyod_model_lists_known(case):
    X, _, known, _, _ = case
    with pytest.raises(ValueError, match="model must be one of .*IForest"):
        PyODDetector("IsolationForest").fit(X, known_normal=known)


def test_model_params_are_checked():
    with pytest.raises(TypeError, match="no parameter 'n_estimatorz'"):
        check_model_params("IForest", {"n_estimatorz": 3})
    with pytest.raises(TypeError, match="adapter sets it"):
        check_model_params("IForest", {"random_state": 3})
    with pytest.raises(TypeError, match="model_params must be a dict"):
        check_model_params("IForest", [("n_estimators", 3)])
    assert check_model_params("KNN", {"n_neighbors": 3}) == {"n_neighbors": 3}


@pytest.mark.parametrize("params, match", [
    ({"fit_on": "unlabelled"}, "fit_on must be one of"),
    ({"threshold_quantile": 1.5}, "threshold_quantile == 1.5, must be <= 1"),
    ({"threshold_quantile": "high"}, "threshold_quantile must be an instance of float"),
    ({"calibration_fraction": 1.0}, "calibration_fraction == 1.0, must be < 1"),
    ({"contamination": 0.7}, "contamination == 0.7, must be <= 0.5"),
    ({"nu": 0.0}, "nu == 0.0, must be > 0"),
    ({"gamma": "auto"}, "gamma must be 'scale' or a positive number"),
    ({"gamma": -1.0}, "gamma must be 'scale' or a positive number"),
])
def test_ocsvm_bad_params(case, params, match):
    X, _, known, _, _ = case
    with pytest.raises((ValueError, TypeError), match=match):
        OCSVMDetector(**params).fit(X, known_normal=known)


def test_bad_input_data_is_named(case):
    X, _, known, _, _ = case
    det = SGDOCSVMDetector(n_components=20)
    with pytest.raises(ValueError, match="known_normal must be a 1-D boolean mask"):
        det.fit(X, known_normal=known[:-1])
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        det.fit(bad, known_normal=known)
    with pytest.raises(ValueError, match="n_components == 0, must be >= 1"):
        SGDOCSVMDetector(n_components=0).fit(X, known_normal=known)


def test_error_inside_the_wrapped_model_propagates(case):
    X, _, known, _, _ = case
    few = known & (np.cumsum(known) <= 6)
    det = PyODDetector("KNN", fit_on="normals", model_params={"n_neighbors": 50})
    with pytest.raises(ValueError, match="n_neighbors|n_samples"):
        det.fit(X, known_normal=few)
    assert not hasattr(det, "seed_")


# --- OCSVM -----------------------------------------------------------------------------------
def test_resolve_gamma_scale():
    X = np.random.default_rng(0).normal(scale=2.0, size=(500, 4))
    assert resolve_gamma("scale", X) == pytest.approx(1 / (4 * X.var()))
    assert resolve_gamma(0.5, X) == 0.5


def test_exact_and_scalable_ocsvm_rank_alike(case):
    X, _, known, X_test, _ = case
    out = exact_vs_scalable(X, X_test, known_normal=known, fit_on="normals", random_state=0)
    assert out["spearman"] > 0.8
    assert out["n_train"] == len(X) and out["n_test"] == len(X_test)


# --- PU references ---------------------------------------------------------------------------
def clustered_anomalies(seed=0):
    """Anomalies as a region (a shifted Gaussian): something a P-vs-U classifier can learn."""
    rng = np.random.default_rng(seed)

    def draw(n, a):
        X = np.vstack([rng.normal(size=(n, 3)), rng.normal(size=(a, 3)) + 3.0])
        return X, np.r_[np.zeros(n, int), np.ones(a, int)]

    X, y = draw(600, 60)
    X_test, y_test = draw(300, 30)
    known = (y == 0) & (rng.random(y.size) < 0.5)
    return X, y, known, X_test, y_test


def test_pu_classifier_ranks_unlabelled_anomalies_high():
    X, y, known, X_test, y_test = clustered_anomalies()
    det = PUClassifierDetector(random_state=0).fit(X, known_normal=known)
    assert roc_auc_score(y_test, det.decision_function(X_test)) > 0.9
    oof_p = det.oof_scores_[known]
    assert np.isfinite(oof_p).all()
    assert det.threshold_ == quantile_threshold(oof_p, det.threshold_quantile)


def test_pu_classifier_bad_input(case):
    X, _, known, _, _ = case
    with pytest.raises(ValueError, match="no True entry"):
        PUClassifierDetector().fit(X)
    with pytest.raises(ValueError, match="needs unlabelled records"):
        PUClassifierDetector().fit(X, known_normal=np.ones(len(X), bool))
    with pytest.raises(ValueError, match="n_folds == 1, must be >= 2"):
        PUClassifierDetector(n_folds=1).fit(X, known_normal=known)
    with pytest.raises(TypeError, match="predict_proba"):
        from sklearn.svm import LinearSVC

        PUClassifierDetector(estimator=LinearSVC()).fit(X, known_normal=known)


def test_oracle_needs_labels():
    X, y, known, X_test, y_test = clustered_anomalies(1)
    with pytest.raises(ValueError, match="needs y"):
        OracleSupervisedDetector().fit(X, known_normal=known)
    with pytest.raises(ValueError, match="both classes"):
        OracleSupervisedDetector().fit(X, np.zeros(len(X)), known_normal=known)
    with pytest.raises(ValueError, match="one label per row"):
        OracleSupervisedDetector().fit(X, y[:-1])
    det = OracleSupervisedDetector(random_state=0).fit(X, y)
    assert roc_auc_score(y_test, det.decision_function(X_test)) > 0.9
    assert det.threshold_ == quantile_threshold(det.oof_scores_[y == 0], 0.99)


def test_fit_predict_passes_the_labels_to_an_oracle(case):
    X_train, y_train, known, _, _ = case
    from sklearn.linear_model import LogisticRegression

    def oracle():
        return OracleSupervisedDetector(estimator=LogisticRegression(), random_state=0)

    labels = oracle().fit_predict(X_train, y_train, known_normal=known)
    np.testing.assert_array_equal(labels, oracle().fit(X_train, y_train).labels_)
    with pytest.raises(ValueError, match="needs y"):
        oracle().fit_predict(X_train, known_normal=known)
