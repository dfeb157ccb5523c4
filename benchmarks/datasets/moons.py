"""Two interleaving half circles: one the normal class, the other the anomalies (the paper's toy)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.datasets.base import Dataset, DatasetError, make_dataset


def load_moons(n_samples: int = 100_000, noise: float = 0.1, random_state: int = 0,
               normal_moon: int = 0) -> Dataset:
    """make_moons with ``n_samples`` points split equally between the two moons.

    ``normal_moon`` (0: the upper moon) is the normal class, the other moon the anomalies, in
    equal number as in the paper. The generator is seeded by ``random_state`` so the same
    arguments give the same points; the split's own seed then decides train/test.
    """
    # imported here: scikit-learn takes longer to import than the rest of the package, and
    # listing or loading any other dataset does not need it
    from sklearn.datasets import make_moons

    if int(n_samples) < 4:
        raise DatasetError(f"moons: n_samples must be at least 4, got {n_samples}")
    if noise < 0:
        raise DatasetError(f"moons: noise must be >= 0, got {noise}")
    if normal_moon not in (0, 1):
        raise DatasetError(f"moons: normal_moon must be 0 or 1, got {normal_moon}")
    X, moon = make_moons(n_samples=int(n_samples), noise=float(noise),
                         random_state=int(random_state))
    y = (moon != normal_moon).astype(np.int64)
    return make_dataset(
        "moons", pd.DataFrame(X, columns=["x0", "x1"]), y,
        anomaly_type=np.where(y == 1, "other_moon", "normal"),
        meta={"source": "sklearn.datasets.make_moons", "n_samples": int(n_samples),
              "noise": float(noise), "random_state": int(random_state),
              "default_scale": None, "default_pca": None},
    )
