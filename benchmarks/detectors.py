"""Built-in detector registrations (see :mod:`benchmarks.registry`).

Names are lower case; a ``-normals`` suffix marks the variant fitted on the known normals only
(supervision ``normals-only``), the bare name the variant fitted on every training row
(``unsupervised``). Every factory imports its library inside, so listing the registry imports
neither PyOD nor torch. ``test_params`` make each detector run in seconds on 1-2k rows; they
are for the test suite, not for results.

Parameters a factory accepts: the adapter's own (``threshold_quantile``,
``calibration_fraction``, ``contamination``, ...) and, for PyOD detectors, any keyword of the
PyOD constructor, checked against it so a mistyped name fails at once with a TypeError.
"""

from __future__ import annotations

from benchmarks.registry import register

#: exact OCSVM's fit grows about as n^2 (docs/guarding.md, scale curves); above this many
#: training rows the harness records "skipped", never a hang.
OCSVM_MAX_TRAIN_ROWS = 50_000

#: AnoGAN scores one record at a time by a gradient search, and PyOD scores every fitted row
#: inside fit: past this many training rows a cell would run for hours.
ANOGAN_MAX_TRAIN_ROWS = 10_000

_ADAPTER_KEYS = ("threshold_quantile", "calibration_fraction", "contamination", "gaal_score")


# --- OCSVM -----------------------------------------------------------------------------------
def _ocsvm_factory(fit_on: str):
    def factory(random_state=None, **params):
        from baselines.ocsvm import OCSVMDetector

        return OCSVMDetector(fit_on=fit_on, random_state=random_state, **params)

    return factory


def _sgd_ocsvm_factory(fit_on: str):
    def factory(random_state=None, **params):
        from baselines.ocsvm import SGDOCSVMDetector

        return SGDOCSVMDetector(fit_on=fit_on, random_state=random_state, **params)

    return factory


register("ocsvm", supervision="unsupervised", max_train_rows=OCSVM_MAX_TRAIN_ROWS,
         description="exact RBF one-class SVM on all training rows (the paper's baseline); "
                     "nu=0.1, gamma='scale'")(_ocsvm_factory("all"))
register("ocsvm-normals", supervision="normals-only", max_train_rows=OCSVM_MAX_TRAIN_ROWS,
         description="exact RBF one-class SVM on the known normals; nu=0.1, gamma='scale'",
         )(_ocsvm_factory("normals"))
register("ocsvm-sgd", supervision="unsupervised", test_params={"n_components": 50},
         description="scalable OCSVM (Nystroem 300 + SGDOneClassSVM) on all training rows",
         )(_sgd_ocsvm_factory("all"))
register("ocsvm-sgd-normals", supervision="normals-only", test_params={"n_components": 50},
         description="scalable OCSVM (Nystroem 300 + SGDOneClassSVM) on the known normals",
         )(_sgd_ocsvm_factory("normals"))


# --- PyOD --------------------------------------------------------------------------------------
def _pyod_factory(model: str, fit_on: str):
    def factory(random_state=None, model_params=None, **params):
        from baselines.pyod_adapters import PyODDetector, check_model_params

        adapter = {k: params.pop(k) for k in _ADAPTER_KEYS if k in params}
        merged = {**(model_params or {}), **params}
        check_model_params(model, merged)
        return PyODDetector(model, fit_on=fit_on, model_params=merged or None,
                            random_state=random_state, **adapter)

    factory.__doc__ = f"PyOD {model}, fitted on {'all rows' if fit_on == 'all' else 'known normals'}"
    return factory


# name, PyOD class, deep, max_train_rows, test_params, what it is
_PYOD = [
    ("iforest", "IForest", False, None, {"n_estimators": 20}, "isolation forest"),
    ("ecod", "ECOD", False, None, {}, "empirical-CDF outlier detection"),
    ("copod", "COPOD", False, None, {}, "copula-based outlier detection"),
    ("hbos", "HBOS", False, None, {}, "histogram-based outlier score"),
    ("lof", "LOF", False, None, {}, "local outlier factor"),
    ("knn", "KNN", False, None, {}, "k-nearest-neighbour distance (largest, k=5)"),
    ("pca", "PCA", False, None, {}, "PCA reconstruction (weighted eigenvector distance)"),
    ("autoencoder", "AutoEncoder", True, None, {"epoch_num": 2, "batch_size": 128},
     "fully connected autoencoder, reconstruction error"),
    ("deepsvdd", "DeepSVDD", True, None, {"epochs": 2, "batch_size": 128}, "Deep SVDD"),
    ("alad", "ALAD", True, None, {"epochs": 3, "batch_size": 128},
     "adversarially learned anomaly detection (GAN)"),
    ("anogan", "AnoGAN", True, ANOGAN_MAX_TRAIN_ROWS,
     {"epochs": 2, "epochs_query": 2, "batch_size": 128}, "AnoGAN (GAN, per-record latent query)"),
    ("mo-gaal", "MO_GAAL", True, None, {"stop_epochs": 2, "k": 3},
     "multiple-objective generative adversarial active learning"),
    ("so-gaal", "SO_GAAL", True, None, {"stop_epochs": 2},
     "single-objective generative adversarial active learning"),
]

for _name, _model, _deep, _max_rows, _tp, _what in _PYOD:
    register(_name, supervision="unsupervised", deep=_deep, max_train_rows=_max_rows,
             test_params=_tp, description=f"PyOD {_model} on all training rows: {_what}",
             )(_pyod_factory(_model, "all"))
    register(f"{_name}-normals", supervision="normals-only", deep=_deep,
             max_train_rows=_max_rows, test_params=_tp,
             description=f"PyOD {_model} on the known normals: {_what}",
             )(_pyod_factory(_model, "normals"))


# --- PU-only references ------------------------------------------------------------------------
@register("pu-classifier", supervision="pu",
          description="P-vs-U gradient-boosting classifier, score 1 - P(labelled normal); "
                      "threshold cross-fitted on P")
def _pu_classifier(random_state=None, **params):
    from baselines.pu_reference import PUClassifierDetector

    return PUClassifierDetector(random_state=random_state, **params)


@register("oracle-supervised", supervision="oracle",
          description="ORACLE: supervised gradient boosting that sees training anomaly labels "
                      "(an upper reference, not a competitor)")
def _oracle(random_state=None, **params):
    from baselines.pu_reference import OracleSupervisedDetector

    return OracleSupervisedDetector(random_state=random_state, **params)


def _import_or_explain(module: str, attr: str, name: str):
    import importlib

    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ImportError(f"detector {name!r} needs {module}.{attr}, which this checkout does not "
                          f"provide ({exc})") from exc


@register("pu-bagging", supervision="pu", test_params={"n_estimators": 5},
          description="stage 1 of PU-GAN alone: the PU-bagging score used directly")
def _pu_bagging(random_state=None, **params):
    cls = _import_or_explain("pugan.pu_bagging", "PUBaggingDetector", "pu-bagging")
    return cls(random_state=random_state, **params)


# --- PU-GAN and its ablations ------------------------------------------------------------------
_PUGAN_TEST = {"n_epochs": 2, "n_bags": 3, "hidden": 16, "g_layers": 1, "latent_dim": 4,
               "student_steps": 300,
               "inversion_steps": 5, "batch_size": 128}


def _pugan_factory(name: str, fixed: dict):
    def factory(random_state=None, **params):
        cls = _import_or_explain("pugan.detector", "PUGAN", name)
        clash = sorted(set(fixed) & set(params))
        if clash:
            raise TypeError(f"detector {name!r} fixes {clash}; use 'pugan' to set them")
        return cls(random_state=random_state, **fixed, **params)

    return factory


for _name, _sup, _fixed, _what in [
    ("pugan", "pu", {}, "PU-GAN: PU bagging + LSTM GAN + latent inversion, combined score"),
    ("pugan-no-pu", "normals-only", {"train_on": "p"},
     "PU-GAN ablation: GAN trained on the known normals only (no PU stage)"),
    ("pugan-all-u", "pu", {"train_on": "all"},
     "PU-GAN ablation: GAN trained on all training rows (no PU filtering)"),
    ("pugan-disc-only", "pu", {"score": "discrimination"},
     "PU-GAN ablation: discrimination score only"),
    ("pugan-rec-only", "pu", {"score": "reconstruction"},
     "PU-GAN ablation: reconstruction score only"),
    ("pugan-encoder", "pu", {"inversion": "encoder"},
     "PU-GAN variant: latent inversion by a trained encoder instead of gradient search"),
    ("pugan-distilled", "pu", {"inversion": "distilled"},
     "PU-GAN variant: a small MLP distilled from the encoder path scores each record"),
]:
    register(_name, supervision=_sup, deep=True, test_params=_PUGAN_TEST,
             description=_what)(_pugan_factory(_name, _fixed))
