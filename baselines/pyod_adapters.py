"""One thin adapter for PyOD detectors, fitted on all rows or on the known normals only.

``PyODDetector(model="IForest", fit_on="all")`` wraps any model of :data:`PYOD_MODELS` behind
the suite contract (:mod:`pugan.base`); the fit rows and the threshold rule are those of
:class:`baselines._calibrated.CalibratedOneClassDetector` (threshold from held-out known
normals, PyOD's own ``contamination`` threshold is never used).

Randomness is isolated. PyOD's deep models seed the *global* generators (``random``,
``np.random``, torch, even ``PYTHONHASHSEED``) in ``__init__`` and draw from them while
training (ALAD, AnoGAN, MO_GAAL and SO_GAAL use ``np.random`` and ``torch.rand`` directly). The
adapter therefore builds, fits and scores the PyOD model inside :func:`isolated_global_rng`,
which seeds those generators from ``random_state`` and restores them afterwards: the same
``random_state`` gives the same scores, and nothing outside the adapter sees its seeding.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import logging
import numbers
import os
import random
from collections.abc import Mapping

import numpy as np
from sklearn.utils.validation import check_is_fitted

from baselines._calibrated import CalibratedOneClassDetector
from pugan.base import check_features, draw_seed

__all__ = ["NORMALITY_SCORED", "PYOD_MODELS", "PyODDetector", "check_model_params", "isolated_global_rng"]

#: name -> (module under pyod.models, class, deep). Deep models train torch networks.
PYOD_MODELS: dict[str, tuple[str, str, bool]] = {
    "IForest": ("iforest", "IForest", False),
    "ECOD": ("ecod", "ECOD", False),
    "COPOD": ("copod", "COPOD", False),
    "HBOS": ("hbos", "HBOS", False),
    "LOF": ("lof", "LOF", False),
    "KNN": ("knn", "KNN", False),
    "PCA": ("pca", "PCA", False),
    "INNE": ("inne", "INNE", False),
    "LODA": ("loda", "LODA", False),
    "GMM": ("gmm", "GMM", False),
    "AutoEncoder": ("auto_encoder", "AutoEncoder", True),
    "VAE": ("vae", "VAE", True),
    "DeepSVDD": ("deep_svdd", "DeepSVDD", True),
    "ALAD": ("alad", "ALAD", True),
    "AnoGAN": ("anogan", "AnoGAN", True),
    "MO_GAAL": ("mo_gaal", "MO_GAAL", True),
    "SO_GAAL": ("so_gaal", "SO_GAAL", True),
}

logger = logging.getLogger(__name__)

#: The GAAL paper (Liu et al. 2019, Algorithm 1) scores a record by OS(x) = 1 - D(x), D being
#: the discriminator's probability that x is real (training labels: real = 1, generated = 0).
#: PyOD 3.6.7 returns D(x) itself as the anomaly score (PyOD issue #119, open since 2019).
#: Yet D(x) ranks better here: on isolated anomalies (a shell around a Gaussian) 1 - D gave
#: AUROC 0.02-0.30 and D 0.70-0.98, because D extrapolates towards "real" far from the region
#: the generator covers. The adapter therefore keeps PyOD's sign by default
#: (``gaal_score="pyod"``) and offers the paper's (``gaal_score="paper"``, i.e. -D + const).
NORMALITY_SCORED = frozenset({"MO_GAAL", "SO_GAAL"})

# set by the adapter, never by the caller
_RESERVED = ("random_state", "verbose", "n_features")


def _model_class(model: str):
    if model not in PYOD_MODELS:
        raise ValueError(f"model must be one of {sorted(PYOD_MODELS)}, got {model!r}")
    module, cls, _ = PYOD_MODELS[model]
    return getattr(importlib.import_module(f"pyod.models.{module}"), cls)


def check_model_params(model: str, model_params: Mapping | None) -> dict:
    """Validate ``model_params`` against the PyOD constructor; a TypeError names a bad key."""
    if model_params is None:
        return {}
    if not isinstance(model_params, Mapping):
        raise TypeError(f"model_params must be a dict or None, got {type(model_params).__name__}")
    accepted = set(inspect.signature(_model_class(model).__init__).parameters) - {"self"}
    for key in model_params:
        if key in _RESERVED:
            raise TypeError(f"model_params may not set {key!r}: the adapter sets it "
                            "(pass random_state to the adapter itself)")
        if key not in accepted:
            raise TypeError(f"PyOD {model} has no parameter {key!r}; it accepts "
                            f"{sorted(accepted - set(_RESERVED))}")
    return dict(model_params)


@contextlib.contextmanager
def isolated_global_rng(seed: int, *, torch_too: bool = True):
    """Seed ``random``, ``np.random`` and torch with ``seed`` inside; restore them on exit.

    Also restores ``PYTHONHASHSEED``, which PyOD's deep base class writes into the environment.
    """
    py_state = random.getstate()
    np_state = np.random.get_state()
    hashseed = os.environ.get("PYTHONHASHSEED")
    stack = contextlib.ExitStack()
    captured = None
    try:
        if torch_too:
            import torch

            # manual_seed reseeds every CUDA device too, so every visible one is saved
            devices = list(range(torch.cuda.device_count()))
            stack.enter_context(torch.random.fork_rng(devices=devices))
            torch.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed)
        # MO_GAAL and SO_GAAL print every epoch unconditionally; keep library output in logs
        captured = stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        yield
    finally:
        stack.close()
        if captured is not None and captured.getvalue():
            logger.debug("PyOD printed: %s", captured.getvalue()[-2000:])
        random.setstate(py_state)
        np.random.set_state(np_state)
        if hashseed is None:
            os.environ.pop("PYTHONHASHSEED", None)
        else:
            os.environ["PYTHONHASHSEED"] = hashseed


class PyODDetector(CalibratedOneClassDetector):
    """A PyOD model behind the suite contract, fitted on all rows or on known normals only.

    Parameters
    ----------
    model : str, default="IForest"
        A key of :data:`PYOD_MODELS` (PyOD class name).
    fit_on : {"all", "normals"}, default="all"
        "all": unsupervised, fitted on every training row; "normals": fitted on the known
        normals (P) only.
    model_params : dict or None
        Keyword arguments for the PyOD constructor, stored unchanged (copied at fit). The
        adapter sets ``random_state``, ``verbose=0`` and DeepSVDD's ``n_features`` itself.
    threshold_quantile, calibration_fraction, contamination : see
        :class:`baselines._calibrated.CalibratedOneClassDetector`.
    gaal_score : {"pyod", "paper"}, default="pyod"
        For the models in :data:`NORMALITY_SCORED` (MO_GAAL, SO_GAAL): "pyod" keeps PyOD's
        score D(x); "paper" negates it, the GAAL paper's 1 - D(x) up to a constant (see the
        note at :data:`NORMALITY_SCORED`). Ignored by other models.
    random_state : int, RandomState or None
        Chooses the calibration normals and seeds the PyOD model (through its own
        ``random_state`` where it has one, and the isolated global generators always).

    Attributes
    ----------
    model_ : the fitted PyOD detector.
    seed_ : the integer seed its build, fit and scoring ran under.
    decision_scores_, threshold_, labels_, n_features_in_ : as in PyOD; for the rows the
        model was fitted on, ``decision_scores_`` are PyOD's own training scores.
    """

    def __init__(self, model="IForest", *, fit_on="all", model_params=None,
                 threshold_quantile=0.99, calibration_fraction=0.2, contamination=0.1,
                 gaal_score="pyod", random_state=None):
        self.model = model
        self.fit_on = fit_on
        self.model_params = model_params
        self.threshold_quantile = threshold_quantile
        self.calibration_fraction = calibration_fraction
        self.contamination = contamination
        self.gaal_score = gaal_score
        self.random_state = random_state

    @property
    def _deep(self) -> bool:
        return PYOD_MODELS.get(self.model, ("", "", False))[2]

    @property
    def _display_name(self) -> str:
        return f"PyODDetector({self.model})"

    def _validate_model(self):
        check_model_params(self.model, self.model_params)
        _ = self._sign

    def _model_arg(self, name: str):
        """A PyOD constructor argument as the model gets it: from ``model_params``, else its
        default (None where the constructor has no such argument)."""
        if name in (self.model_params or {}):
            return self.model_params[name]
        param = inspect.signature(_model_class(self.model).__init__).parameters.get(name)
        return None if param is None else param.default

    def _min_fit_rows(self):
        if self.model == "KNN":
            k = self._model_arg("n_neighbors")
            if isinstance(k, numbers.Integral):
                return int(k) + 1, (f"KNN scores each fitted row by its n_neighbors={k} nearest "
                                    "other fitted rows")
        if self.model == "LOF":
            return 2, "LOF compares each fitted row with at least one other"
        if self._model_arg("batch_norm"):
            return 2, "batch normalisation needs two or more rows in every training batch"
        return super()._min_fit_rows()

    def _fit_model(self, X_fit, random_state):
        cls = _model_class(self.model)
        kwargs = check_model_params(self.model, self.model_params)
        seed = draw_seed(random_state)
        accepted = inspect.signature(cls.__init__).parameters
        if "random_state" in accepted:
            kwargs["random_state"] = seed
        if "verbose" in accepted:
            kwargs["verbose"] = 0
        if "n_features" in accepted:
            kwargs["n_features"] = X_fit.shape[1]
        if "batch_size" in accepted:
            # PyOD's deep base class drops the last incomplete batch, so fewer fitted rows than
            # batch_size means no batch at all and an UnboundLocalError deep inside its loop
            batch = kwargs.get("batch_size", accepted["batch_size"].default)
            if isinstance(batch, numbers.Integral) and batch > X_fit.shape[0]:
                logger.info("%s: batch_size %d > %d fitted rows; using %d", self.model, batch,
                            X_fit.shape[0], X_fit.shape[0])
                kwargs["batch_size"] = X_fit.shape[0]
        self._seed_in_fit = seed
        with isolated_global_rng(seed, torch_too=self._deep):
            return cls(**kwargs).fit(X_fit)

    @property
    def _sign(self) -> float:
        if self.gaal_score not in ("pyod", "paper"):
            raise ValueError(f"gaal_score must be 'pyod' or 'paper', got {self.gaal_score!r}")
        return -1.0 if (self.gaal_score == "paper" and self.model in NORMALITY_SCORED) else 1.0

    def _fit_scores(self, model, X_fit):
        return self._sign * np.asarray(model.decision_scores_, dtype=np.float64).ravel()

    def _score_model(self, model, X):
        # the seed of the fit in progress while fitting, the stored one afterwards
        seed = self.__dict__.get("_seed_in_fit")
        if seed is None:
            seed = self.seed_
        with isolated_global_rng(seed, torch_too=self._deep):
            scores = np.asarray(model.decision_function(X), dtype=np.float64).ravel()
        return self._sign * scores

    def fit(self, X, y=None, *, known_normal=None):
        """Fit the PyOD model (see :class:`CalibratedOneClassDetector.fit`)."""
        self.__dict__.pop("seed_", None)  # a failed refit must not look fitted
        try:
            super().fit(X, y, known_normal=known_normal)
            self.seed_ = self._seed_in_fit
        finally:
            self.__dict__.pop("_seed_in_fit", None)
        return self

    def decision_function(self, X) -> np.ndarray:
        """Anomaly scores of ``X`` (higher = more anomalous); writes nothing to ``self``."""
        check_is_fitted(self, "seed_")
        X = check_features(X, n_features=self.n_features_in_)
        return self._finite(self._score_model(self.model_, X))
