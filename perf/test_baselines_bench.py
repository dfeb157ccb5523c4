"""Fit + score time of IForest, scalable OCSVM and exact OCSVM on KDD-sized input.

Run: ``.venv/bin/pytest perf/test_baselines_bench.py --benchmark-enable -p no:cacheprovider``.
Input: KDD-like rows with 6 PCA features
(:func:`benchmarks.perf.data.kdd_like`: 2% anomalies, 20% of normals known); every detector is
fitted on all rows (the unsupervised variant) and scores the same rows. Sizes: 100,000 and
500,000 rows (the 10% KDD file's order) for IForest and the scalable OCSVM; the exact OCSVM,
whose fit grows about as n^2, on 10,000 / 20,000 / 40,000-row subsamples, with IForest on
10,000 for a like-for-like ratio. Every detector runs on one thread (the ``one_thread``
fixture), as IForest does. One round each: the detectors take seconds to a minute, and
the harness times cells the same way. docs/baselines.md quotes the ratios to IForest.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.perf.data import kdd_like

pytestmark = [pytest.mark.bench, pytest.mark.usefixtures("one_thread")]

N_ROWS = 500_000


@pytest.fixture(scope="module")
def kdd():
    return kdd_like(N_ROWS, seed=0)


def _fit_score(det, X, known):
    det.fit(X, known_normal=known)
    return det.decision_function(X)


def _run(benchmark, det, kdd, n):
    from threadpoolctl import threadpool_info

    # one group per size, so each detector's ratio is to IForest on the same rows
    benchmark.group = f"baselines-{n // 1000}k"
    assert {pool["num_threads"] for pool in threadpool_info()} <= {1}, threadpool_info()
    X, _, known = kdd
    X, known = X[:n], known[:n]
    scores = benchmark.pedantic(_fit_score, args=(det, X, known), rounds=1, iterations=1,
                                warmup_rounds=0)
    assert scores.shape == (n,) and np.isfinite(scores).all()


@pytest.mark.parametrize("n", [10_000, 100_000, 500_000])
def test_iforest(benchmark, kdd, n):
    from baselines.pyod_adapters import PyODDetector

    _run(benchmark, PyODDetector("IForest", random_state=0), kdd, n)


@pytest.mark.parametrize("n", [100_000, 500_000])
def test_ocsvm_sgd(benchmark, kdd, n):
    from baselines.ocsvm import SGDOCSVMDetector

    _run(benchmark, SGDOCSVMDetector(random_state=0), kdd, n)


@pytest.mark.parametrize("n", [10_000, 20_000, 40_000])
def test_ocsvm_exact(benchmark, kdd, n):
    from baselines.ocsvm import OCSVMDetector

    _run(benchmark, OCSVMDetector(random_state=0), kdd, n)
