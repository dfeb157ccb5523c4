"""Helpers shared by the baseline and registry tests (no ``test_`` prefix: not collected)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.registry import get_spec, make_detector


def build(name: str, random_state=0, **extra):
    """The detector with its test params, or a skip naming what is missing from the checkout."""
    spec = get_spec(name)
    try:
        return make_detector(name, random_state=random_state, **{**spec.test_params, **extra})
    except ImportError as exc:
        pytest.skip(f"{name}: {exc}")


def fit(det, name, X, y, known):
    """Fit as the harness does: only oracle detectors see the training labels."""
    if get_spec(name).supervision == "oracle":
        return det.fit(X, y, known_normal=known)
    return det.fit(X, known_normal=known)


def easy_case(seed=0, d=4, n_train=600, n_test=300, n_anom=30):
    """Gaussian normals; isolated anomalies on a shell of radius 5-8 (any detector sees them).

    Returns X_train, y_train, known_normal (40% of training normals), X_test, y_test.
    """
    rng = np.random.default_rng(seed)

    def draw(n, a):
        dirs = rng.normal(size=(a, d))
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        X = np.vstack([rng.normal(size=(n, d)), dirs * rng.uniform(5, 8, size=(a, 1))])
        y = np.r_[np.zeros(n, int), np.ones(a, int)]
        p = rng.permutation(n + a)
        return X[p], y[p]

    X_train, y_train = draw(n_train, n_anom)
    X_test, y_test = draw(n_test, n_anom)
    known = (y_train == 0) & (rng.random(y_train.size) < 0.4)
    return X_train, y_train, known, X_test, y_test
