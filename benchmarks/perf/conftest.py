"""Shared inputs of the performance suite (``make bench``): KDD-like arrays, built once."""

from __future__ import annotations

import os

import pytest

from benchmarks.perf.data import kdd_like

#: rounds per benchmark; 1 by default (the slow fits take minutes); PERF_ROUNDS=3 for spread
ROUNDS = int(os.environ.get("PERF_ROUNDS", "1"))
#: training rows and scored records of the scoring-throughput group
SCORE_TRAIN_ROWS = 20_000
SCORE_ROWS = 20_000


@pytest.fixture(scope="session")
def kdd():
    """``kdd(n)`` -> (X, y, known_normal), cached per size for the session."""
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
