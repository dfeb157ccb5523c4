"""ADBench-format .npz files (arrays ``X`` and ``y``, 1 = anomaly); eight are bundled."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np

from benchmarks.datasets.core import DATA_DIR, Dataset, DatasetError, make_dataset, verify_checksum

ADBENCH_DIR = DATA_DIR / "adbench"


def bundled_adbench() -> list[str]:
    """Short names of the bundled files (``6_cardio.npz`` -> ``cardio``), sorted."""
    return sorted(re.sub(r"^\d+_", "", p.stem) for p in ADBENCH_DIR.glob("*.npz"))


def _resolve(stem: str) -> Path:
    for p in ADBENCH_DIR.glob("*.npz"):
        if stem in (p.stem, re.sub(r"^\d+_", "", p.stem)):
            return p
    raise DatasetError(
        f"unknown ADBench dataset {stem!r}; bundled: {', '.join(bundled_adbench())} "
        "(or pass path= to any ADBench-format .npz)"
    )


def load_adbench(stem: str | None = None, *, path: str | Path | None = None,
                 sha256: str | None = None) -> Dataset:
    """Load a bundled ADBench file by name, or any ADBench-format .npz by ``path``.

    Bundled files are checked against SHA256SUMS; for a user's file pass ``sha256`` to check it.
    """
    if path is None:
        if not stem:
            raise DatasetError("adbench: give a bundled name (adbench:cardio) or path=...")
        path = _resolve(stem)
    path = Path(path)
    digest = verify_checksum(path, sha256)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = {"X", "y"} - set(npz.files)
            if missing:
                raise DatasetError(
                    f"{path}: ADBench file lacks array(s) {sorted(missing)}; has {npz.files}")
            X, y = npz["X"], npz["y"]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(f"{path}: not a readable .npz file ({exc})") from exc
    if X.ndim != 2:
        raise DatasetError(f"{path}: X must be 2-D, got shape {X.shape}")
    name = "adbench:" + re.sub(r"^\d+_", "", path.stem)
    return make_dataset(name, X.astype(np.float64), y, source=str(path),
                        meta={"source": str(path.name), "sha256": digest,
                              "default_scale": "standard", "default_pca": None})
