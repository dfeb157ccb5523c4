"""Datasets: loaders returning features, labels (1 = anomaly) and metadata.

Every loader returns a :class:`Dataset`. Raw features stay raw here (KDD keeps its three
categorical columns); scaling, one-hot/dropping and PCA are fitted on training rows inside
:func:`benchmarks.splits.make_pu_split`, never in a loader, so no test row can shape them.

Bundled files live in ``benchmarks/datasets/data`` with their SHA-256 in ``SHA256SUMS`` and their
origin in ``SOURCES.md``; each is verified on load.

Names understood by :func:`load_dataset`:

- ``"moons"``: scikit-learn's make_moons, one half circle normal, the other anomalous.
- ``"kddcup99"``: KDD Cup 1999 (bundled 10% file; ``full=True``, ``path=`` or the environment
  variable ``PUGAN_KDD_FULL`` for the 4.9M-row file, scikit-learn's fetch_kddcup99 as fallback).
- ``"adbench:<name>"``: a bundled ADBench .npz, by file stem (``adbench:6_cardio``) or by name
  without the number (``adbench:cardio``); or ``adbench`` with ``path=`` for any ADBench-format file.
- ``"file"``: a user's CSV, Parquet or NPZ with ``path=``, ``label_column=`` and
  ``anomaly_values=``; ``"file:<path>"`` is shorthand.
"""

from benchmarks.datasets.core import (
    DATA_DIR,
    Dataset,
    DatasetError,
    available_datasets,
    load_dataset,
    verify_checksum,
)

__all__ = [
    "DATA_DIR",
    "Dataset",
    "DatasetError",
    "available_datasets",
    "load_dataset",
    "verify_checksum",
]
