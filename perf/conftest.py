"""Shared inputs of the performance suite (``make bench``): KDD-like arrays, built once."""

from __future__ import annotations

import pytest
from bench_sizes import SCORE_ROWS, SCORE_TRAIN_ROWS

from benchmarks.perf.data import kdd_like


@pytest.fixture(scope="session")
def kdd():
    """``kdd(n)`` -> (X, y, known_normal), cached per size for the whole run."""
    cache = {}

    def get(n: int):
        if n not in cache:
            cache[n] = kdd_like(n, seed=0)
        return cache[n]

    return get


@pytest.fixture(scope="session")
def score_input(kdd):
    """Training rows and a disjoint set of records to score, for the throughput group."""
    X, y, known = kdd(SCORE_TRAIN_ROWS + SCORE_ROWS)
    n = SCORE_TRAIN_ROWS
    return X[:n], known[:n], X[n:]
