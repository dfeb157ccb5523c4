"""KDD Cup 1999 in the UCI raw format: 41 attributes and a label per line, no header.

Normal = ``normal.``; anomaly = any attack. The attack name and its family (DoS, Probe, R2L,
U2R) are kept per record so that a split can hold whole families out of training.
"""

from __future__ import annotations

import gzip
import logging
import os
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.datasets.base import DATA_DIR, Dataset, DatasetError, make_dataset, verify_checksum

log = logging.getLogger(__name__)

KDD_10_PERCENT = DATA_DIR / "kddcup99" / "kddcup.data_10_percent.gz"
FULL_ENV = "PUGAN_KDD_FULL"

COLUMNS = [
    "duration", "protocol_type", "service", "flag", "src_bytes", "dst_bytes", "land",
    "wrong_fragment", "urgent", "hot", "num_failed_logins", "logged_in", "num_compromised",
    "root_shell", "su_attempted", "num_root", "num_file_creations", "num_shells",
    "num_access_files", "num_outbound_cmds", "is_host_login", "is_guest_login", "count",
    "srv_count", "serror_rate", "srv_serror_rate", "rerror_rate", "srv_rerror_rate",
    "same_srv_rate", "diff_srv_rate", "srv_diff_host_rate", "dst_host_count",
    "dst_host_srv_count", "dst_host_same_srv_rate", "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate", "dst_host_srv_diff_host_rate", "dst_host_serror_rate",
    "dst_host_srv_serror_rate", "dst_host_rerror_rate", "dst_host_srv_rerror_rate",
]
CATEGORICAL = ("protocol_type", "service", "flag")

FAMILIES = {
    "DoS": ("back", "land", "neptune", "pod", "smurf", "teardrop"),
    "Probe": ("ipsweep", "nmap", "portsweep", "satan"),
    "R2L": ("ftp_write", "guess_passwd", "imap", "multihop", "phf", "spy", "warezclient",
            "warezmaster"),
    "U2R": ("buffer_overflow", "loadmodule", "perl", "rootkit"),
}
ATTACK_FAMILY = {attack: fam for fam, attacks in FAMILIES.items() for attack in attacks}


def read_kdd_raw(path: Path) -> pd.DataFrame:
    """Read a (gzipped) UCI KDD file into a DataFrame with named columns and ``label``.

    A truncated or corrupt gzip, or a line with the wrong number of fields, raises
    :class:`DatasetError` naming the file.
    """
    try:
        frame = pd.read_csv(path, header=None, names=[*COLUMNS, "label"],
                            compression="infer", low_memory=False)
    except (EOFError, OSError, gzip.BadGzipFile, zlib.error, pd.errors.ParserError,
            UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read KDD Cup 99 file ({type(exc).__name__}: {exc})"
                           ) from exc
    if frame["label"].isna().any() or frame[COLUMNS[-1]].isna().any():
        raise DatasetError(f"{path}: some lines have fewer than 42 fields (41 attributes + label)")
    return frame


def _fetch_full_sklearn() -> pd.DataFrame:
    """The 4.9M-row file through scikit-learn (downloads where a network exists)."""
    from sklearn.datasets import fetch_kddcup99

    bunch = fetch_kddcup99(percent10=False, as_frame=True)
    frame = bunch.frame.rename(columns={"labels": "label"})
    for col in (*CATEGORICAL, "label"):
        frame[col] = frame[col].map(lambda v: v.decode() if isinstance(v, bytes) else v)
    numeric = [c for c in COLUMNS if c not in CATEGORICAL]
    frame[numeric] = frame[numeric].astype(np.float64)
    return frame


def load_kddcup99(full: bool = False, path: str | Path | None = None,
                  sha256: str | None = None) -> Dataset:
    """KDD Cup 1999: the bundled 10% file by default.

    Parameters
    ----------
    full : load the 4.9M-row file: from ``path``, else from ``$PUGAN_KDD_FULL``, else via
        scikit-learn's ``fetch_kddcup99(percent10=False)`` (needs a network).
    path : a UCI-format file to read instead of the bundled one.
    sha256 : expected digest of ``path`` (the bundled file is always checked).
    """
    if path is None and full:
        path = os.environ.get(FULL_ENV) or None
    if path is None and full:
        log.info("KDD full file: no path or $%s; using sklearn.fetch_kddcup99", FULL_ENV)
        frame, source, digest = _fetch_full_sklearn(), "sklearn.fetch_kddcup99(percent10=False)", None
    else:
        file = Path(path) if path is not None else KDD_10_PERCENT
        digest = verify_checksum(file, sha256)
        frame, source = read_kdd_raw(file), file.name
    attack = frame.pop("label").astype(str).str.rstrip(".").to_numpy(dtype=object)
    y = (attack != "normal").astype(np.int64)
    family = np.array([("normal" if a == "normal" else ATTACK_FAMILY.get(a, "unknown"))
                       for a in attack], dtype=object)
    return make_dataset(
        "kddcup99", frame, y, anomaly_type=attack, family=family, categorical=CATEGORICAL,
        source=source,
        meta={"source": source, "sha256": digest, "full": bool(full),
              "default_scale": "minmax", "default_pca": 6},
    )
