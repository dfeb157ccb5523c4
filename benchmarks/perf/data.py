"""KDD-like inputs of any size for the performance suite and the scale curves.

The KDD Cup 99 10% file has 97,278 normal records, so sizes up to 500,000 rows are drawn from
one preprocessed PU split of it (KDD's own pipeline: numeric columns, min-max to [-1, 1], PCA
to 6 components, fitted on training rows; 2% anomalies; 20% of the normals labelled) by
resampling rows, with a small Gaussian jitter (sd 0.01) so resampled rows are not exact
copies. The anomaly share and the labelled share of normals are kept at every size.

``part`` splits the split's records once (a fixed permutation) into a training pool and a
disjoint scoring pool, so that records scored as held out share no base record, nor a
jittered copy of one, with the training rows; without it every size draws from all records
(the performance benchmarks, which score what they fit).
"""

from __future__ import annotations

import functools
import numbers

import numpy as np

__all__ = ["BASE_SPLIT", "kdd_like"]

#: the split every size is drawn from
BASE_SPLIT = dict(dataset="kddcup99", anomaly_ratio=0.02, labelled_fraction=0.2, seed=0,
                  test_size=0.3)
JITTER = 0.01
#: the share of the base records kept for scoring when ``part`` is given
SCORE_SHARE = 0.2


@functools.cache
def _base() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from benchmarks.splits import make_pu_split

    s = make_pu_split(**BASE_SPLIT)
    X = np.concatenate([s.X_train, s.X_test])
    y = np.concatenate([s.y_train, s.y_test]).astype(int)
    known = np.concatenate([s.known_normal, np.zeros(len(s.X_test), bool)])
    return X, y, known


def _pool(part: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The base records one ``part`` draws from: all, or the training or scoring share."""
    X0, y0, _ = _base()
    if part is None:
        return X0, y0
    if part not in ("train", "score"):
        raise ValueError(f"part must be 'train', 'score' or None; got {part!r}")
    order = np.random.default_rng(0).permutation(len(X0))
    n_score = int(round(SCORE_SHARE * len(X0)))
    rows = order[:n_score] if part == "score" else order[n_score:]
    return X0[rows], y0[rows]


def kdd_like(n_rows: int, *, seed: int = 0,
             part: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, known_normal)`` with ``n_rows`` rows of 6 KDD PCA features.

    ``y`` is 1 for anomalies (about 2%); ``known_normal`` labels 20% of the normals (the P
    set). The same ``n_rows``, ``seed`` and ``part`` give the same arrays; ``part`` ("train"
    or "score") draws from one of two disjoint pools of base records (module docstring).
    """
    from sklearn.utils import check_scalar

    check_scalar(n_rows, "n_rows", numbers.Integral, min_val=10)
    X0, y0 = _pool(part)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(X0), size=n_rows, replace=n_rows > len(X0))
    X = X0[idx] + (JITTER * rng.standard_normal((n_rows, X0.shape[1])) if n_rows > len(X0)
                   else 0.0)
    y = y0[idx].copy()
    known = (y == 0) & (rng.random(n_rows) < BASE_SPLIT["labelled_fraction"])
    return np.ascontiguousarray(X, dtype=np.float64), y, known
