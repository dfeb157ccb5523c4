"""A user's own tabular file: CSV, Parquet or NPZ, with the label column named by the user."""

from __future__ import annotations

import numbers
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.datasets.base import Dataset, DatasetError, make_dataset, verify_checksum


def _csv_header(path: Path) -> list[str]:
    """The CSV's column names as written (pandas renames a repeated ``a`` to ``a.1``)."""
    try:
        head = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DatasetError(f"{path}: the file is empty (no header, no rows)") from None
    return head.iloc[0].tolist() if len(head) else []


def _check_unique(path: Path, columns: list) -> None:
    seen, dupes = set(), []
    for c in columns:
        if c in seen and c not in dupes:
            dupes.append(c)
        seen.add(c)
    if dupes:
        raise DatasetError(f"{path}: duplicated column name(s) {dupes}; each column needs a "
                           "distinct name")


def _read(path: Path, label_column: str) -> pd.DataFrame:
    suffix = "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix
    try:
        if suffix in (".csv", ".csv.gz"):
            _check_unique(path, _csv_header(path))
            return pd.read_csv(path)
        if suffix == ".parquet":
            try:
                frame = pd.read_parquet(path)
            except ImportError:
                raise DatasetError(f"{path}: reading Parquet needs pyarrow: pip install "
                                   "'pugan-bench[parquet]'") from None
            _check_unique(path, list(frame.columns))
            return frame
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                if "X" not in npz.files or label_column not in npz.files:
                    raise DatasetError(
                        f"{path}: NPZ needs arrays 'X' and {label_column!r}; has {npz.files}")
                X = npz["X"]
                if X.ndim != 2:
                    raise DatasetError(f"{path}: NPZ array 'X' must be 2-D (rows x features); "
                                       f"got shape {X.shape}")
                frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
                frame[label_column] = npz[label_column]
                return frame
    except DatasetError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, pd.errors.ParserError,
            pd.errors.EmptyDataError) as exc:
        raise DatasetError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from exc
    raise DatasetError(f"{path}: unsupported file type {suffix!r}; use .csv, .parquet or .npz")


def load_file(path: str | Path, label_column: str = "label",
              anomaly_values: Sequence | str | int | float = (1,),
              feature_columns: Sequence[str] | None = None,
              categorical: Sequence[str] = (), sha256: str | None = None) -> Dataset:
    """Load a user's file; rows whose ``label_column`` is in ``anomaly_values`` are anomalies.

    Parameters
    ----------
    path : .csv (optionally .csv.gz), .parquet or .npz (arrays ``X`` and ``label_column``).
    label_column : the column holding the class.
    anomaly_values : value or values of ``label_column`` that mean "anomaly"; all others are normal.
    feature_columns : columns to use (default: every column but the label).
    categorical : columns that are categorical (one-hot encoded or dropped by the split).
    sha256 : expected digest, checked when given.
    """
    path = Path(path)
    digest = verify_checksum(path, sha256)
    frame = _read(path, label_column)
    if label_column not in frame.columns:
        raise DatasetError(
            f"{path}: label column {label_column!r} not found; columns are {list(frame.columns)}")
    if len(frame) == 0:
        raise DatasetError(f"{path}: no rows (only a header)")
    if len(frame.columns) == 1:
        raise DatasetError(f"{path}: no feature columns (only the label column "
                           f"{label_column!r})")
    if isinstance(anomaly_values, str | bytes | numbers.Number | np.generic):
        anomaly_values = [anomaly_values]  # one value, a numpy scalar among them
    labels = frame.pop(label_column)
    if labels.isna().any():
        raise DatasetError(f"{path}: label column {label_column!r} has missing values")
    y = labels.isin(list(anomaly_values)).to_numpy().astype(np.int64)
    if feature_columns is not None:
        missing = [c for c in feature_columns if c not in frame.columns]
        if missing:
            raise DatasetError(f"{path}: feature column(s) {missing} not found")
        frame = frame[list(feature_columns)]
    unknown_cat = [c for c in categorical if c not in frame.columns]
    if unknown_cat:
        raise DatasetError(f"{path}: categorical column(s) {unknown_cat} not found")
    anomaly_type = np.where(y == 1, labels.astype(str).to_numpy(), "normal")
    return make_dataset(
        f"file:{path.name}", frame.reset_index(drop=True), y, anomaly_type=anomaly_type,
        categorical=tuple(categorical), source=str(path),
        meta={"source": str(path), "sha256": digest, "label_column": label_column,
              "default_scale": "standard", "default_pca": None},
    )
