"""Shared inputs of the performance suite (``make bench``): KDD-like arrays, built once."""

from __future__ import annotations

import pytest
from bench_sizes import SCORE_ROWS, SCORE_TRAIN_ROWS

from benchmarks.isolation import thread_limits
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


@pytest.fixture
def one_thread():
    """BLAS, OpenMP and torch held to one thread while a test runs: IForest, every group's
    yardstick, runs on one (PyOD's ``n_jobs=1``), so a detector whose matrix products would
    otherwise spread over every core is timed like against like."""
    with thread_limits(1):
        yield
