"""The code fingerprint: which sources and libraries decide a cell's numbers.

It is part of every cell's cache key (:class:`benchmarks.cells.Cell`), so editing code that
decides a cell's numbers reruns that cell, and editing anything else (the harness, reports,
the command line) reruns nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from pathlib import Path

__all__ = ["code_fingerprint", "dist_version", "row_code_version"]

_SHARED_SOURCES = ("datasets", "splits.py", "paper.py", "metrics.py", "detectors.py")
#: files outside benchmarks/ that every cell runs: the contract's threshold rule
#: (``labels_at_threshold``) and the input checks every detector's fit calls
_SHARED_PROJECT_SOURCES = ("pugan/base.py",)
_LIBRARIES = ("numpy", "scikit-learn", "torch", "pyod")
#: top-level packages whose sources are covered when one of a detector's classes comes from them
_PROJECT_PACKAGES = ("pugan", "baselines", "benchmarks")


@functools.cache
def _digest_sources(root: str) -> str:
    """SHA-256 over the .py files under ``root`` (a file or a folder), in sorted order."""
    path = Path(root)
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.relative_to(path.parent).as_posix().encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()


def dist_version(dist: str, missing: str) -> str:
    """The installed version of distribution ``dist``, read from its metadata (importing
    nothing), or ``missing`` where it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return missing


@functools.cache
def _library_versions_key() -> str:
    return ",".join(f"{dist}={dist_version(dist, 'none')}" for dist in _LIBRARIES)


def _class_sources(detector) -> list[str]:
    """Source roots of the classes a detector is built from.

    Its own class: the whole top-level package (``pugan/``, ``baselines/``; a plugin's file).
    Every base class from the project or a plugin: the file that defines it (a baseline built
    on ``pugan.base`` reruns when that file changes, not when PU-GAN's own modules do).
    """
    roots = []
    own_top = type(detector).__module__.split(".")[0]
    for klass in type(detector).__mro__:
        top = klass.__module__.split(".")[0]
        module = sys.modules.get(top)
        if module is None:
            continue
        if top not in _PROJECT_PACKAGES and _is_installed_library(module):
            continue  # a library: its version is in the fingerprint
        if top == own_top and top != "benchmarks":
            paths = list(getattr(module, "__path__", []) or [])
            src = paths[0] if paths else getattr(module, "__file__", None)
        else:
            src = getattr(sys.modules.get(klass.__module__), "__file__", None)
        if src and str(Path(src).resolve()) not in roots:
            roots.append(str(Path(src).resolve()))
    return roots


def _is_installed_library(module) -> bool:
    """True for a module from site-packages or the standard library (versioned elsewhere)."""
    src = getattr(module, "__file__", None) or ""
    paths = list(getattr(module, "__path__", []) or [])
    where = src or (paths[0] if paths else "")
    if not where:
        return True  # built-in
    stdlib = str(Path(os.__file__).resolve().parent)
    where = str(Path(where).resolve())
    return "site-packages" in where or "dist-packages" in where or where.startswith(stdlib)


def _registration_part(registration: tuple[str, dict] | None) -> str | None:
    """The fingerprint's part for a plugin's registration (the file defining its factory and
    its ``register`` settings, :func:`benchmarks.registry.plugin_registration`), or None for
    the project's own detectors.

    Why: a plugin's factory may return a built-in class with other arguments, or register a
    built-in's name again with other settings; the detector's classes alone are then the
    built-in's, and its cells would share the built-in's cache keys. The project's own
    registrations add nothing, so their keys (and those of committed results) stay as they
    are.
    """
    if registration is None:
        return None
    factory_file, settings = registration
    source = (_digest_sources(factory_file) if Path(factory_file).is_file()
              else f"module:{factory_file}")
    return f"registration:{source}:{json.dumps(settings, sort_keys=True, default=str)}"


def code_fingerprint(detector, registration: tuple[str, dict] | None = None) -> str:
    """A short hash of the code and libraries that decide a cell's numbers.

    Covers the sources every cell runs (``benchmarks/datasets``, ``splits.py``, ``metrics.py``,
    ``detectors.py`` and ``pugan/base.py``, whose threshold rule every cell applies), the
    sources of every class the detector is built from (``pugan/`` or ``baselines/`` as a
    whole; a plugin's own file), the versions of numpy, scikit-learn, torch and PyOD, and,
    for a detector a plugin registers, its factory's file and its registration's settings
    (``registration``, :func:`benchmarks.registry.plugin_registration`; None for the
    project's own).
    Editing any of them invalidates the cached cells they decide; editing the harness, the
    reports or the CLI does not.
    """
    bench_dir = Path(__file__).resolve().parent
    root = bench_dir.parent
    parts = [_digest_sources(str(bench_dir / name)) for name in _SHARED_SOURCES
             if (bench_dir / name).exists()]
    parts += [_digest_sources(str(root / name)) for name in _SHARED_PROJECT_SOURCES
              if (root / name).exists()]
    parts += [_digest_sources(src) for src in _class_sources(detector)]
    parts.append(_library_versions_key())
    plugin = _registration_part(registration)
    if plugin is not None:  # a plugin's factory (absent for the built-ins: keys kept)
        parts.append(plugin)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


def row_code_version(detector, registration: tuple[str, dict] | None = None) -> str:
    """The ``code_version`` a result row of ``detector`` carries: ``<pugan-bench version>+<code
    fingerprint>``, as sweep cells record it, so that rows written outside a sweep (the
    ablation, the scale curves) can be checked for staleness the same way."""
    return f"{dist_version('pugan-bench', 'unknown')}+{code_fingerprint(detector, registration)}"
