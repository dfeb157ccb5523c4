"""Values and builders the test files share (no ``test_`` prefix: not collected).

Fixtures live in ``conftest.py``; what a test needs as a plain value (a plugin path, a
config dict, PU-GAN's tiny settings, a moons case) lives here, imported as ``from helpers
import ...`` (pytest puts ``tests/`` on the import path, as for ``baselines_helpers``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from sklearn.datasets import make_moons

#: the test detectors (``t-centroid``, ``t-raise``, ``t-oracle``, ...), loaded as a plugin file
PLUGIN = str(Path(__file__).with_name("harness_detectors.py"))

#: PU-GAN with tiny networks and few epochs: seconds per fit, same code paths as the defaults
TINY_PUGAN = dict(n_bags=5, hidden=16, g_layers=1, n_epochs=3, batch_size=128, max_gan_rows=600,
                  g_rounds=1, encoder_epochs=3, inversion_steps=5)


def sweep_raw(detectors, *, seeds=(0,), ratios=(0.2,), fractions=(0.5,), time_limit=20,
              **over) -> dict:
    """A sweep config (as read from YAML) over moons with the test detectors' plugin.

    Keys in ``over`` replace the defaults (``name``, ``datasets``, ...).
    """
    raw = {
        "name": "t",
        "seeds": list(seeds),
        "anomaly_ratios": list(ratios),
        "labelled_fractions": list(fractions),
        "time_limit": time_limit,
        "plugins": [PLUGIN],
        "datasets": [{"dataset": "moons", "split": {"n_normal": 300},
                      "dataset_params": {"n_samples": 1000}}],
        "detectors": detectors,
    }
    raw.update(over)
    return raw


def write_sweep(path: Path, detectors, **kw) -> Path:
    """:func:`sweep_raw` written as YAML to ``path``; returns ``path``."""
    path.write_text(yaml.safe_dump(sweep_raw(detectors, **kw)))
    return path


def moons_pu(n=1000, seed=0, labelled=0.3):
    """Moon 0 normal, moon 1 anomalous (as in the paper), a share of normals labelled.

    Returns ``(X, y, known_normal)`` with ``y`` 1 for anomalies.
    """
    X, lab = make_moons(n_samples=n, noise=0.1, random_state=seed)
    rng = np.random.RandomState(seed)
    known = (lab == 0) & (rng.rand(n) < labelled)
    return X, lab, known


def session_processes(sid: int) -> list[int]:
    """Live processes of session ``sid`` (zombies excluded): what a killed run left behind."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            pids.append(int(stat.parent.name))
    return pids


def fill_disk_midway(monkeypatch) -> None:
    """Every file write from here on stops halfway with ENOSPC, as on a full disk: a plain
    write leaves the first half of its text in the file; an atomic one fails at its fsync,
    before its temporary file replaces anything."""
    import errno
    import os

    import pandas as pd

    def full() -> OSError:
        return OSError(errno.ENOSPC, "No space left on device (the test's)")

    def half_text(path, text, *args, **kwargs):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text[: len(text) // 2])
        raise full()

    real_to_csv = pd.DataFrame.to_csv

    def half_csv(frame, path_or_buf=None, *args, **kwargs):
        text = real_to_csv(frame, None, *args, **kwargs)
        if path_or_buf is None:
            return text
        half_text(path_or_buf, text)

    def no_fsync(fd):
        raise full()

    monkeypatch.setattr(Path, "write_text", half_text)
    monkeypatch.setattr(pd.DataFrame, "to_csv", half_csv)
    monkeypatch.setattr(os, "fsync", no_fsync)
