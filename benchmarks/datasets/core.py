"""The name -> loader dispatch (:func:`load_dataset`), over the loaders and :mod:`.base`.

The record, its validation and checksum verification live in :mod:`benchmarks.datasets.base`
and are re-exported here, where they have always been importable from.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from benchmarks.datasets.adbench import bundled_adbench, load_adbench
from benchmarks.datasets.base import (
    DATA_DIR,
    MAX_ABS_VALUE,
    Dataset,
    DatasetError,
    check_finite_numeric,
    check_two_classes,
    make_dataset,
    sha256_of,
    verify_checksum,
)
from benchmarks.datasets.kddcup99 import load_kddcup99
from benchmarks.datasets.moons import load_moons
from benchmarks.datasets.userfile import load_file

__all__ = [
    "DATA_DIR",
    "MAX_ABS_VALUE",
    "Dataset",
    "DatasetError",
    "available_datasets",
    "check_finite_numeric",
    "check_two_classes",
    "load_dataset",
    "make_dataset",
    "sha256_of",
    "verify_checksum",
]


def available_datasets() -> list[str]:
    """Names :func:`load_dataset` accepts without a path (bundled or generated)."""
    return ["moons", "kddcup99"] + [f"adbench:{n}" for n in bundled_adbench()]


def load_dataset(name: str, **params) -> Dataset:
    """Load dataset ``name`` (see the package docstring for the names and their parameters)."""
    if not isinstance(name, str) or not name:
        raise DatasetError(f"dataset name must be a non-empty string, got {name!r}")
    key = tuple(sorted((k, _hashable(v)) for k, v in params.items()))
    return _load_cached(name, key)


def _hashable(v):
    """A loader parameter as a cache key: lists and arrays as tuples, numpy scalars as
    Python numbers, paths as text."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, list | tuple | set):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, Path):
        return str(v)
    return v


@functools.lru_cache(maxsize=16)
def _load_cached(name: str, key: tuple) -> Dataset:
    params = dict(key)
    if name == "moons":
        return load_moons(**params)
    if name == "kddcup99":
        return load_kddcup99(**params)
    if name == "adbench" or name.startswith("adbench:"):
        stem = name.split(":", 1)[1] if ":" in name else None
        return load_adbench(stem, **params)
    if name == "file" or name.startswith("file:"):
        if ":" in name:
            params.setdefault("path", name.split(":", 1)[1])
        return load_file(**params)
    raise DatasetError(
        f"unknown dataset {name!r}; known: {', '.join(available_datasets())}, "
        "'adbench' with path=..., or 'file:<path>' (CSV, Parquet, NPZ)"
    )
