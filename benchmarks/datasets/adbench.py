"""ADBench-format .npz files (arrays ``X`` and ``y``, 1 = anomaly); 28 are bundled.

:data:`BUNDLED_ADBENCH` registers each bundled file with the size and anomaly count it must
have, so a file is loadable by name (``adbench:cardio``, ``adbench:6_cardio``; case does not
matter) and a copy that is not the published one fails at load twice over: by its SHA-256
(``data/SHA256SUMS``) and by its shape. Origins and licence: ``data/SOURCES.md``.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from benchmarks.datasets.base import DATA_DIR, Dataset, DatasetError, make_dataset, verify_checksum

ADBENCH_DIR = DATA_DIR / "adbench"


class AdbenchFile(NamedTuple):
    """What a bundled ADBench file holds: rows, feature columns, anomalies, and its origin."""

    rows: int
    features: int
    anomalies: int
    origin: str


#: every bundled file by stem, largest first
BUNDLED_ADBENCH: dict[str, AdbenchFile] = {
    "11_donors": AdbenchFile(619_326, 10, 36_710, "KDD Cup 2014 donors"),
    "16_http": AdbenchFile(567_498, 3, 2_211, "KDD Cup 1999, http service"),
    "8_celeba": AdbenchFile(202_599, 39, 4_547, "CelebA attributes"),
    "34_smtp": AdbenchFile(95_156, 3, 30, "KDD Cup 1999, smtp service"),
    "32_shuttle": AdbenchFile(49_097, 9, 3_511, "Statlog shuttle"),
    "24_mnist": AdbenchFile(7_603, 100, 700, "MNIST (ADBench's tabular version)"),
    "28_pendigits": AdbenchFile(6_870, 16, 156, "pen digits"),
    "30_satellite": AdbenchFile(6_435, 36, 2_036, "Statlog satellite"),
    "19_landsat": AdbenchFile(6_435, 36, 1_333, "Statlog landsat"),
    "31_satimage-2": AdbenchFile(5_803, 36, 71, "Statlog satellite"),
    "26_optdigits": AdbenchFile(5_216, 64, 150, "optical digits"),
    "35_SpamBase": AdbenchFile(4_207, 57, 1_679, "spam e-mail"),
    "38_thyroid": AdbenchFile(3_772, 6, 93, "thyroid disease"),
    "41_Waveform": AdbenchFile(3_443, 21, 100, "waveform generator"),
    "25_musk": AdbenchFile(3_062, 166, 97, "musk molecules"),
    "7_Cardiotocography": AdbenchFile(2_114, 21, 466, "cardiotocography (all classes)"),
    "6_cardio": AdbenchFile(1_831, 21, 176, "cardiotocography"),
    "20_letter": AdbenchFile(1_600, 32, 100, "letter recognition"),
    "47_yeast": AdbenchFile(1_484, 8, 507, "yeast protein localisation"),
    "40_vowels": AdbenchFile(1_456, 12, 50, "Japanese vowels"),
    "29_Pima": AdbenchFile(768, 8, 268, "Pima diabetes"),
    "4_breastw": AdbenchFile(683, 9, 239, "Wisconsin breast cancer (original)"),
    "43_WDBC": AdbenchFile(367, 30, 10, "Wisconsin diagnostic breast cancer"),
    "18_Ionosphere": AdbenchFile(351, 32, 126, "ionosphere radar"),
    "37_Stamps": AdbenchFile(340, 9, 31, "stamps"),
    "39_vertebral": AdbenchFile(240, 6, 30, "vertebral column"),
    "14_glass": AdbenchFile(214, 7, 9, "glass identification"),
    "46_WPBC": AdbenchFile(198, 33, 47, "Wisconsin prognostic breast cancer"),
}


def _short(stem: str) -> str:
    return re.sub(r"^\d+_", "", stem)


def bundled_adbench() -> list[str]:
    """Short names of the bundled files (``6_cardio.npz`` -> ``cardio``), sorted."""
    return sorted((_short(s) for s in BUNDLED_ADBENCH), key=str.lower)


def _resolve(stem: str) -> tuple[Path, AdbenchFile]:
    want = stem.lower()
    for full, info in BUNDLED_ADBENCH.items():
        if want in (full.lower(), _short(full).lower()):
            path = ADBENCH_DIR / f"{full}.npz"
            if not path.is_file():
                raise DatasetError(f"bundled ADBench file {path} is missing; restore it from the "
                                   "repository (its SHA-256 is in data/SHA256SUMS)")
            return path, info
    raise DatasetError(
        f"unknown ADBench dataset {stem!r}; bundled: {', '.join(bundled_adbench())} "
        "(or pass path= to any ADBench-format .npz)"
    )


def load_adbench(stem: str | None = None, *, path: str | Path | None = None,
                 sha256: str | None = None) -> Dataset:
    """Load a bundled ADBench file by name, or any ADBench-format .npz by ``path``.

    Bundled files are checked against SHA256SUMS and their :data:`BUNDLED_ADBENCH` entry; for a
    user's file pass ``sha256`` to check it.
    """
    expected = None
    if path is None:
        if not stem:
            raise DatasetError("adbench: give a bundled name (adbench:cardio) or path=...")
        path, expected = _resolve(stem)
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
    if expected is not None:
        got = (X.shape[0], X.shape[1], int(np.sum(y == 1)))
        if got != expected[:3]:
            raise DatasetError(f"{path}: holds {got[0]} rows, {got[1]} features and {got[2]} "
                               f"anomalies; the bundled file has {expected.rows}, "
                               f"{expected.features} and {expected.anomalies}")
    name = "adbench:" + _short(path.stem)
    return make_dataset(name, X.astype(np.float64), y, source=str(path),
                        meta={"source": str(path.name), "sha256": digest,
                              "default_scale": "standard", "default_pca": None})
