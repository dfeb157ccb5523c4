"""Guards of the baseline adapters: seeding, RNG isolation, finite scores, parameter checks
(at fit and when a config is read), and the fewest rows a model can be fitted on."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from baselines._calibrated import CalibratedOneClassDetector
from baselines.ocsvm import OCSVMDetector, SGDOCSVMDetector, resolve_gamma
from baselines.pu_reference import OracleSupervisedDetector, PUClassifierDetector, _seeded
from baselines.pyod_adapters import PyODDetector, isolated_global_rng
from benchmarks.config import ConfigError, _check_param_values
from benchmarks.registry import make_detector

pytestmark = pytest.mark.usefixtures("one_thread")

NAN = float("nan")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(size=(120, 4)), rng.normal(loc=4.0, size=(20, 4))]
    y = np.r_[np.zeros(120, int), np.ones(20, int)]
    known = np.arange(140) < 60
    return X, y, known


def _fit(det, X, y, known):
    if isinstance(det, OracleSupervisedDetector):
        return det.fit(X, y)
    return det.fit(X, known_normal=known)


@contextlib.contextmanager
def _global_rng_must_not_move():
    np.random.seed(1)
    expected = np.random.rand()
    np.random.seed(1)
    yield
    assert np.random.rand() == expected, "fitting drew from NumPy's global generator"


# --- nested estimators are seeded ------------------------------------------------------------
@pytest.mark.parametrize("cls", [PUClassifierDetector, OracleSupervisedDetector])
def test_a_pipeline_estimator_is_seeded_by_the_detector(data, cls):
    X, y, known = data
    est = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5))
    with _global_rng_must_not_move():
        a = _fit(cls(estimator=est, random_state=0), X, y, known).decision_function(X)
    b = _fit(cls(estimator=est, random_state=0), X, y, known).decision_function(X)
    np.testing.assert_array_equal(a, b)


def test_seeded_sets_only_unset_random_states():
    assert _seeded(HistGradientBoostingClassifier(), 7).random_state == 7  # the default path
    pipe = _seeded(make_pipeline(RandomForestClassifier(random_state=3)), 7)
    assert pipe.get_params()["randomforestclassifier__random_state"] == 3


# --- CUDA generators are forked too ----------------------------------------------------------
def test_isolated_global_rng_forks_every_cuda_device(monkeypatch):
    import torch

    forked = []

    @contextlib.contextmanager
    def fake_fork_rng(devices=None, **_):
        forked.append(list(devices))
        yield

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.random, "fork_rng", fake_fork_rng)
    with isolated_global_rng(0):
        pass
    assert forked == [[0, 1]]


# --- non-finite scores are an error, not a silent NaN ----------------------------------------
class _Mean(CalibratedOneClassDetector):
    """Distance to the mean, computed in float32 (as a torch model would)."""

    def __init__(self, *, fit_on="all", threshold_quantile=0.99, calibration_fraction=0.2,
                 contamination=0.1, random_state=None):
        self.fit_on = fit_on
        self.threshold_quantile = threshold_quantile
        self.calibration_fraction = calibration_fraction
        self.contamination = contamination
        self.random_state = random_state

    def _fit_model(self, X_fit, random_state):
        return X_fit.mean(axis=0)

    def _score_model(self, model, X):
        with np.errstate(over="ignore"):
            return np.abs(X.astype(np.float32) - model.astype(np.float32)).sum(axis=1)


def test_decision_function_refuses_non_finite_scores(data):
    X, _, known = data
    det = _Mean(random_state=0).fit(X, known_normal=known)
    with pytest.raises(ValueError, match=r"_Mean: 1 of 2 scores are not finite.*float32"):
        det.decision_function([[1e39, 0, 0, 0], [0, 0, 0, 0]])


def test_pyod_decision_function_refuses_non_finite_scores(data):
    X, _, known = data
    det = PyODDetector("DeepSVDD", model_params={"epochs": 1, "batch_size": 64},
                       random_state=0).fit(X, known_normal=known)
    with pytest.raises(ValueError, match=r"PyODDetector\(DeepSVDD\): 1 of 2 scores are not "
                                         r"finite.*float32"):
        det.decision_function([[1e39, 0, 0, 0], [0, 0, 0, 0]])


# --- parameters: NaN refused, every data-free check run when a config is read -----------------
@pytest.mark.parametrize("param", ["calibration_fraction", "threshold_quantile", "contamination"])
def test_nan_shared_parameters_are_refused_before_fitting(data, param):
    X, _, known = data
    det = PyODDetector("IForest", random_state=0, **{param: NAN})
    with pytest.raises(ValueError, match=f"{param} must be a finite number"):
        det._validate_common()
    with pytest.raises(ValueError, match=f"{param} must be a finite number"):
        det.fit(X, known_normal=known)


@pytest.mark.parametrize("name, params, named", [
    ("ocsvm", {"nu": 0.0}, "nu == 0.0"),
    ("ocsvm-normals", {"nu": NAN}, "nu must be a finite number"),
    ("ocsvm", {"gamma": -1.0}, "gamma must be 'scale' or a positive number, got -1.0"),
    ("ocsvm-sgd", {"gamma": float("inf")},
     "gamma must be 'scale' or a positive number, got inf"),
    ("ocsvm-sgd", {"n_components": 0}, "n_components == 0"),
    ("so-gaal", {"gaal_score": "flipped"}, "gaal_score must be 'pyod' or 'paper'"),
    ("pu-classifier", {"n_folds": 1}, "n_folds == 1"),
    ("pu-classifier", {"threshold_quantile": 1.5}, "threshold_quantile == 1.5"),
    ("oracle-supervised", {"threshold_quantile": NAN}, "threshold_quantile must be a finite"),
])
def test_bad_detector_parameters_are_refused_when_the_config_is_read(data, name, params, named):
    det = make_detector(name, random_state=0, **params)
    with pytest.raises(ConfigError, match=f"bad parameter value for detector '{name}': {named}"):
        _check_param_values(det, name, "detectors[0]")
    X, y, known = data  # and still at fit, before the data are looked at
    with pytest.raises(ValueError, match=named):
        _fit(det, X, y, known)


def test_good_detector_parameters_pass_the_config_check():
    for name in ("ocsvm", "ocsvm-sgd", "so-gaal", "pu-classifier", "oracle-supervised"):
        _check_param_values(make_detector(name, random_state=0), name, "detectors[0]")


# --- too few rows to fit ---------------------------------------------------------------------
@pytest.mark.parametrize("model, params, n_known, named", [
    ("KNN", None, 5, r"PyODDetector\(KNN\): 4 row\(s\) left to fit after holding out 1 "
                     r"calibration normal\(s\), but it needs at least 6: KNN .*n_neighbors=5"),
    ("LOF", None, 2, r"PyODDetector\(LOF\): 1 row\(s\) .* needs at least 2"),
    ("AutoEncoder", {"epoch_num": 1}, 2,
     r"PyODDetector\(AutoEncoder\): 1 row\(s\) .* needs at least 2: batch normalisation"),
])
def test_too_few_fit_rows_are_named_before_fitting(data, model, params, n_known, named):
    X, _, _ = data
    known = np.arange(X.shape[0]) < n_known
    det = PyODDetector(model, fit_on="normals", model_params=params, random_state=0)
    with pytest.raises(ValueError, match=named):
        det.fit(X, known_normal=known)


def test_non_finite_training_scores_name_the_model_count_and_causes(data):
    X, _, known = data
    Xc = np.c_[X, np.where(known, 0.0, 1.0)]  # constant among the fitted normals
    det = PyODDetector("PCA", fit_on="normals", random_state=0)
    with pytest.raises(ValueError, match=r"PyODDetector\(PCA\): the model produced \d+ "
                                         r"non-finite score\(s\) .*constant among the fit rows"):
        det.fit(Xc, known_normal=known)


# --- random_state=None leaves np.random alone ------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: OCSVMDetector(),
    lambda: SGDOCSVMDetector(n_components=20),
    lambda: PyODDetector("IForest", model_params={"n_estimators": 10}),
    lambda: PUClassifierDetector(),
    lambda: OracleSupervisedDetector(),
], ids=["ocsvm", "ocsvm-sgd", "iforest", "pu-classifier", "oracle"])
def test_unseeded_fit_does_not_draw_from_the_global_generator(data, make):
    X, y, known = data
    with _global_rng_must_not_move():
        _fit(make(), X, y, known)


# --- OCSVM gamma="scale" on an overflowing variance ------------------------------------------
def test_scale_gamma_needs_a_finite_positive_variance():
    X = np.random.default_rng(0).normal(size=(50, 3))
    X[0, 0] = 1e200
    with np.errstate(over="ignore"), pytest.raises(ValueError, match="finite positive variance"):
        resolve_gamma("scale", X)
    assert resolve_gamma("scale", np.ones((5, 2))) == 1.0  # constant rows keep their gamma
