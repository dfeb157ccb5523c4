"""Fit + score time of IForest, scalable OCSVM and exact OCSVM on KDD-sized input.

Run: ``.venv/bin/pytest benchmarks/perf/test_baselines_bench.py --benchmark-enable
-p no:cacheprovider``. Input: 100,000 x 6 KDD-like rows (:func:`benchmarks.perf.data.kdd_like`),
all rows unlabelled-or-known as in a split (20% of normals known, 2% anomalies), every detector
fitted on all rows (the unsupervised variant) and scoring the same 100,000 rows. Exact OCSVM
cannot take 100,000 rows in reasonable time (about n^2), so it is timed on a 10,000-row
subsample and its time extrapolated in docs/baselines.md; the ratio to IForest is what to read.
One round each: the detectors take seconds, and the harness times cells the same way.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.perf.data import kdd_like

pytestmark = pytest.mark.bench

N_ROWS = 100_000
N_EXACT = 10_000


@pytest.fixture(scope="module")
def kdd100k():
    return kdd_like(N_ROWS, seed=0)


def _fit_score(det, X, known):
    det.fit(X, known_normal=known)
    return det.decision_function(X)


def _run(benchmark, det, X, known):
    scores = benchmark.pedantic(_fit_score, args=(det, X, known), rounds=1, iterations=1,
                                warmup_rounds=0)
    assert scores.shape == (X.shape[0],) and np.isfinite(scores).all()


def test_iforest_100k(benchmark, kdd100k):
    from baselines.pyod_adapters import PyODDetector

    X, _, known = kdd100k
    _run(benchmark, PyODDetector("IForest", random_state=0), X, known)


def test_ocsvm_sgd_100k(benchmark, kdd100k):
    from baselines.ocsvm import SGDOCSVMDetector

    X, _, known = kdd100k
    _run(benchmark, SGDOCSVMDetector(random_state=0), X, known)


def test_ocsvm_exact_10k(benchmark, kdd100k):
    from baselines.ocsvm import OCSVMDetector

    X, _, known = kdd100k
    _run(benchmark, OCSVMDetector(random_state=0), X[:N_EXACT], known[:N_EXACT])


def test_iforest_10k(benchmark, kdd100k):
    """IForest on the exact OCSVM's subsample, for a like-for-like ratio."""
    from baselines.pyod_adapters import PyODDetector

    X, _, known = kdd100k
    _run(benchmark, PyODDetector("IForest", random_state=0), X[:N_EXACT], known[:N_EXACT])
