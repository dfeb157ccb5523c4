"""The detector registry: one table of name -> factory and metadata.

A sweep names detectors by these names; the CLI lists them (``pugan-bench detectors``).
Registrations live in :mod:`benchmarks.detectors` and import their libraries lazily inside the
factory, so listing the registry costs nothing. Adding a detector is one decorated function::

    @register("my-iforest", supervision="unsupervised")
    def _my_iforest(random_state=None, **params):
        from baselines.pyod_adapters import PyODDetector
        return PyODDetector("IForest", random_state=random_state, **params)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "SUPERVISION",
    "DetectorNameTaken",
    "DetectorSpec",
    "UnknownDetectorError",
    "fit_detector",
    "get_spec",
    "make_detector",
    "plugin_registration",
    "register",
    "registration_settings",
    "registry",
    "registry_table",
]

#: what a detector learns from: all rows unlabelled; only the known normals (P);
#: P and U (positive-unlabelled); or test-free but training labels seen (an oracle bound).
SUPERVISION = ("unsupervised", "normals-only", "pu", "oracle")


class UnknownDetectorError(KeyError, ValueError):
    """A detector name that is not in the registry; the message lists the known names.

    A ValueError too, so that the command line reports it as a bad input with its message;
    a KeyError still, for callers that catch a failed lookup as one.
    """

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0])


@dataclass(frozen=True)
class DetectorSpec:
    """Metadata of one registered detector.

    Attributes
    ----------
    name : registry name used in sweeps and on the command line.
    factory : callable ``factory(random_state=None, **params) -> detector``.
    supervision : one of :data:`SUPERVISION`.
    deep : True for neural detectors (torch), which get their thread count from the harness.
    max_train_rows : largest training set the detector accepts; larger cells are recorded as
        skipped with the reason, never attempted.
    test_params : small parameters that make the detector run in seconds, for the test suite.
    description : one line for the registry table.
    """

    name: str
    factory: Callable[..., Any]
    supervision: str
    deep: bool = False
    max_train_rows: int | None = None
    test_params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self):
        if self.supervision not in SUPERVISION:
            raise ValueError(
                f"detector {self.name!r}: supervision must be one of {SUPERVISION}, "
                f"got {self.supervision!r}"
            )


_REGISTRY: dict[str, DetectorSpec] = {}
_LOADED = False


class DetectorNameTaken(ValueError):
    """A registration that would silently replace another module's detector."""


def _origin(factory) -> str:
    """The source file that defines ``factory`` (one file imported under two module names,
    as a plugin path and as a module, is still one origin)."""
    import sys
    from pathlib import Path

    module = sys.modules.get(getattr(factory, "__module__", "") or "")
    src = getattr(module, "__file__", None)
    return str(Path(src).resolve()) if src else str(getattr(factory, "__module__", ""))


def register(name: str, *, supervision: str, deep: bool = False,
             max_train_rows: int | None = None, test_params: Mapping[str, Any] | None = None,
             description: str = "", override: bool = False) -> Callable:
    """Decorator that registers ``factory`` under ``name``.

    A name already registered by another module (a built-in detector, or another plugin) is
    refused unless ``override=True``: a config that says ``iforest`` must not run someone
    else's code by accident. The same file registering again (a re-import) is allowed.
    """

    def decorator(factory: Callable[..., Any]) -> Callable[..., Any]:
        _ensure_loaded()  # built-ins first, so a plugin's override is not undone by them
        old = _REGISTRY.get(name)
        if old is not None and not override and _origin(old.factory) != _origin(factory):
            raise DetectorNameTaken(
                f"detector name {name!r} is already registered by "
                f"{getattr(old.factory, '__module__', '?')}; pick another name, or pass "
                "override=True to register() to replace it on purpose")
        doc = description or (inspect.getdoc(factory) or "").split("\n")[0]
        _REGISTRY[name] = DetectorSpec(
            name=name, factory=factory, supervision=supervision, deep=deep,
            max_train_rows=max_train_rows, test_params=dict(test_params or {}),
            description=doc,
        )
        return factory

    return decorator


def _ensure_loaded() -> None:
    global _LOADED
    if not _LOADED:
        _LOADED = True
        import benchmarks.detectors  # noqa: F401  (registers the built-in detectors)


def registry() -> dict[str, DetectorSpec]:
    """All registered detectors, by name (a copy)."""
    _ensure_loaded()
    return dict(_REGISTRY)


def get_spec(name: str) -> DetectorSpec:
    """The spec of ``name``, or an :class:`UnknownDetectorError` listing the known names."""
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownDetectorError(
            f"unknown detector {name!r}; known detectors: {known}"
        ) from None


def fit_detector(detector, supervision: str, X, y, known_normal):
    """Fit ``detector`` as the harness does and return it.

    Only an ``oracle`` detector is given the training labels ``y``; every other detector sees
    the rows and which of them are known normals, so no label reaches a fit that is not
    declared an oracle.
    """
    if supervision == "oracle":
        return detector.fit(X, y, known_normal=known_normal)
    return detector.fit(X, known_normal=known_normal)


def make_detector(name: str, *, random_state=None, **params):
    """Build detector ``name`` with ``params``; a mistyped parameter raises a TypeError naming it."""
    spec = get_spec(name)
    try:
        return spec.factory(random_state=random_state, **params)
    except TypeError as exc:
        raise TypeError(f"detector {name!r}: bad parameter(s) {sorted(params)}: {exc}") from exc


def plugin_registration(name: str) -> tuple[str, dict] | None:
    """(the file defining the factory, :func:`registration_settings`) of detector ``name``
    where a plugin registers it, None for the project's own: what a plugin's registration
    adds to its cells' keys (:func:`benchmarks.fingerprint.code_fingerprint`)."""
    spec = get_spec(name)
    return None if _is_builtin(spec) else (_origin(spec.factory), registration_settings(spec))


#: the module whose registrations are the project's own detectors
_BUILTIN_MODULE = "benchmarks.detectors"


def _is_builtin(spec: DetectorSpec) -> bool:
    """True for a detector the project registers itself (its keys must never move)."""
    return getattr(spec.factory, "__module__", None) == _BUILTIN_MODULE


def registration_settings(spec: DetectorSpec) -> dict:
    """The settings of a registration that decide a cell's result beside the factory: what
    ``fit`` is given (``supervision``), which cells are skipped (``max_train_rows``) and how
    its threads are set (``deep``). Its description and test parameters decide nothing (test
    parameters reach a cell through its params)."""
    return {"name": spec.name, "supervision": spec.supervision, "deep": spec.deep,
            "max_train_rows": spec.max_train_rows}


def registry_table():
    """The registry as a pandas DataFrame (name, supervision, deep, max_train_rows, description)."""
    import pandas as pd

    rows = [
        {
            "name": s.name,
            "supervision": s.supervision,
            "deep": s.deep,
            "max_train_rows": s.max_train_rows,
            "description": s.description,
        }
        for s in sorted(registry().values(), key=lambda s: s.name)
    ]
    table = pd.DataFrame(rows, columns=["name", "supervision", "deep", "max_train_rows",
                                        "description"])
    table["max_train_rows"] = table["max_train_rows"].astype("Int64")  # no limit shows as <NA>
    return table
