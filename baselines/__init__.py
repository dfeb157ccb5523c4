"""Adapters that put other detectors (scikit-learn, PyOD, PU references) behind the suite interface.

Every adapter follows the contract of :mod:`pugan.base` (``fit(X, y=None, *, known_normal=...)``,
``decision_function`` higher = more anomalous, ``predict`` by ``threshold_`` with ties on the
anomaly side) and scikit-learn's conventions (``__init__`` stores parameters, ``clone`` works,
randomness from ``random_state`` inside ``fit``).

Modules
-------
_calibrated
    ``CalibratedOneClassDetector`` (public as ``baselines.CalibratedOneClassDetector``; see
    docs/plugins.md): the shared fit-rows choice (``fit_on="all"`` or ``"normals"``) and threshold rule: a share
    of the known normals is held out of the fit and the threshold is a quantile of their scores.
ocsvm
    Exact RBF one-class SVM (the paper's baseline) and a scalable Nystroem + SGD version.
pyod_adapters
    ``PyODDetector``: any of 17 PyOD 3.6.7 models, with PyOD's global seeding isolated.
pu_reference
    A plain P-vs-U classifier, and the supervised ORACLE that sees training anomaly labels.
compare
    Rank agreement of exact and scalable OCSVM.

``baselines`` imports :mod:`pugan` (for the contract) but never :mod:`benchmarks`; the
registrations by name live in :mod:`benchmarks.detectors`. See docs/baselines.md.
"""

__all__ = ["CalibratedOneClassDetector", "calibration_split"]


def __getattr__(name):
    """The public base class, imported on first use so ``import baselines`` stays cheap."""
    if name in __all__:
        from baselines import _calibrated

        return getattr(_calibrated, name)
    raise AttributeError(f"module 'baselines' has no attribute {name!r}")
