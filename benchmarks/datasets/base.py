"""The Dataset record, its validation, and checksum verification: what every loader builds on.

Loaders (moons, kddcup99, adbench, userfile) import this module and nothing else of the package;
the name -> loader dispatch in :mod:`benchmarks.datasets.core` imports the loaders. Dependencies
so point one way and no module of the package imports one that imports it back.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DATA_DIR",
    "MAX_ABS_VALUE",
    "Dataset",
    "DatasetError",
    "check_finite_numeric",
    "check_two_classes",
    "make_dataset",
    "sha256_of",
    "verify_checksum",
]

DATA_DIR = Path(__file__).resolve().parent / "data"


class DatasetError(ValueError):
    """A dataset that cannot be loaded or used: the message names the file or column."""


@dataclass(frozen=True)
class Dataset:
    """Features, labels and metadata of one dataset.

    Attributes
    ----------
    name : the name it was loaded by.
    X : raw features, one row per record (categorical columns may be strings).
    y : 1 for anomaly, 0 for normal.
    anomaly_type : per-record type (KDD attack name, ``"normal"`` for normals); the split's
        ``holdout_types`` option keys on it and on ``family``.
    family : per-record group of types (KDD: DoS, Probe, R2L, U2R; elsewhere equal to
        ``anomaly_type``).
    categorical : names of categorical columns of ``X``.
    meta : source, checksum and loader parameters.
    """

    name: str
    X: pd.DataFrame
    y: np.ndarray
    anomaly_type: np.ndarray
    family: np.ndarray
    categorical: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return len(self.y)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.cache
def _bundled_checksums() -> dict[str, str]:
    sums = {}
    for line in (DATA_DIR / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip()] = digest
    return sums


def verify_checksum(path: Path, expected: str | None = None) -> str:
    """Check ``path`` against ``expected`` (default: the bundled SHA256SUMS); return its digest.

    A file inside the bundled data folder must have a SHA256SUMS entry when no ``expected`` is
    given.

    A missing file or a digest mismatch raises :class:`DatasetError` naming the file, so a
    truncated download or an edited copy never silently feeds a benchmark.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"data file not found: {path}")
    if expected is None:
        try:
            rel = path.resolve().relative_to(DATA_DIR).as_posix()
        except ValueError:
            rel = None
        if rel is not None:
            expected = _bundled_checksums().get(rel)
            if expected is None:  # a bundled file must be listed, or nothing would check it
                raise DatasetError(f"bundled data file {path} has no entry in "
                                   f"{DATA_DIR / 'SHA256SUMS'}; add its SHA-256 there")
    actual = sha256_of(path)
    if expected is not None:
        expected = str(expected).strip().lower()
    if expected is not None and actual != expected:
        raise DatasetError(
            f"checksum mismatch for {path}: expected sha256 {expected}, got {actual} "
            "(the file is corrupt, truncated or not the published one)"
        )
    return actual


#: the largest magnitude a feature may hold: a scaler squares values, and the square of
#: anything beyond about 1.3e154 overflows float64 to inf
MAX_ABS_VALUE = 1e150


def check_finite_numeric(X: pd.DataFrame, source: str, skip: tuple[str, ...] = ()) -> None:
    """Raise :class:`DatasetError` naming the first non-numeric or NaN/inf feature column."""
    for col in X.columns:
        if col in skip:
            continue
        values = X[col]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            if pd.api.types.is_bool_dtype(values):
                continue
            raise DatasetError(
                f"{source}: feature column {col!r} is not numeric (dtype {values.dtype}); "
                "encode it or declare it categorical"
            )
        arr = values.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(arr)
        if bad.any():
            raise DatasetError(
                f"{source}: feature column {col!r} has {int(bad.sum())} NaN or infinite "
                f"value(s), first at data row {int(np.argmax(bad))} (counted from 0, any header "
                "line not counted)"
            )
        huge = np.abs(arr) > MAX_ABS_VALUE
        if huge.any():
            raise DatasetError(
                f"{source}: feature column {col!r} has {int(huge.sum())} value(s) beyond "
                f"±{MAX_ABS_VALUE:g} (first at data row {int(np.argmax(huge))}, counted from 0: "
                f"{arr[np.argmax(huge)]:g}); scaling would overflow to inf: rescale the column"
            )


def check_two_classes(y: np.ndarray, source: str) -> None:
    """Anomaly detection benchmarks need both classes; say which one is missing."""
    n_anom = int(np.sum(y == 1))
    if n_anom == 0 or n_anom == len(y):
        missing = "anomalies" if n_anom == 0 else "normal records"
        raise DatasetError(f"{source}: has one class only (no {missing} among {len(y)} rows)")


def make_dataset(name, X, y, *, anomaly_type=None, family=None, categorical=(), meta=None,
                 source=None) -> Dataset:
    """Validate and freeze a :class:`Dataset` (arrays read-only, so a cached copy stays intact)."""
    source = source or name
    X = X if isinstance(X, pd.DataFrame) else pd.DataFrame(
        np.asarray(X), columns=[f"x{i}" for i in range(np.asarray(X).shape[1])])
    raw = np.asarray(y).ravel()
    if len(X) != len(raw):
        raise DatasetError(f"{source}: {len(X)} feature rows but {len(raw)} labels")
    # checked before the cast to integers, which would turn 0.6 into 0 and 1.7 into 1; each
    # label on its own, so that one that is no number names itself, not the whole column
    values = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy(np.float64)
    outside = np.flatnonzero(~np.isin(values, [0.0, 1.0]))
    if len(outside):
        first = raw[outside[0]]
        first = first.item() if isinstance(first, np.generic) else first
        more = f" and {len(outside) - 1} more" if len(outside) > 1 else ""
        raise DatasetError(f"{source}: labels must be 0 (normal) or 1 (anomaly); got "
                           f"{first!r} (data row {outside[0]}, counted from 0){more}")
    y = values.astype(np.int64)
    check_finite_numeric(X, source, skip=tuple(categorical))
    check_two_classes(y, source)
    if anomaly_type is None:
        anomaly_type = np.where(y == 1, "anomaly", "normal")
    anomaly_type = np.asarray(anomaly_type, dtype=object)
    family = anomaly_type if family is None else np.asarray(family, dtype=object)
    for arr in (y, anomaly_type, family):
        arr.setflags(write=False)
    return Dataset(name=name, X=X, y=y, anomaly_type=anomaly_type, family=family,
                   categorical=tuple(categorical), meta=dict(meta or {}))
