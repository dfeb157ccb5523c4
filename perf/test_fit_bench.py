"""Fit time of PU bagging on 100k and 500k KDD-like rows, with IForest and the scalable OCSVM
fitted on the same input as yardsticks (group ``fit-<rows>``); ratios against IForest are
printed by ``python -m benchmarks.perf.summary``.

PU bagging is timed twice: as the ``pu-bagging`` detector (the ensemble, its out-of-bag scores
and the threshold from the known normals' out-of-bag scores), and as the estimator PU-GAN's
stage 1 fits (``PUBaggingClassifier`` with as many rounds as PU-GAN's default ``n_bags``; the
count is stored in ``extra_info``). The two should differ by the threshold alone: the known
normals' null scores come from the one ensemble, not from extra cross-fitted ones. Every fit
runs on one thread (the ``one_thread`` fixture): the scalable OCSVM's matrix products would
otherwise use every core beside single-threaded IForest."""

from __future__ import annotations

import pytest
from bench_sizes import ROUNDS

from benchmarks.registry import make_detector

DETECTORS = ["iforest", "ocsvm-sgd", "pu-bagging"]

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("n_rows", [100_000, 500_000], ids=["100k", "500k"])
@pytest.mark.parametrize("name", DETECTORS)
def test_fit(benchmark, kdd, name, n_rows):
    X, _, known = kdd(n_rows)
    benchmark.group = f"fit-{n_rows // 1000}k"
    benchmark.extra_info.update(rows=n_rows, features=X.shape[1], detector=name,
                                known_normals=int(known.sum()))

    def fit():
        return make_detector(name, random_state=0).fit(X, known_normal=known)

    det = benchmark.pedantic(fit, rounds=ROUNDS, iterations=1, warmup_rounds=0)
    assert det.decision_scores_.shape == (n_rows,)
    benchmark.extra_info["rows_per_s"] = n_rows / benchmark.stats.stats.mean


@pytest.mark.parametrize("n_rows", [100_000, 500_000], ids=["100k", "500k"])
def test_fit_pu_bagging_stage1(benchmark, kdd, n_rows):
    from pugan import PUGAN
    from pugan.pu_bagging import PUBaggingClassifier

    rounds = PUGAN().n_bags
    X, _, known = kdd(n_rows)
    benchmark.group = f"fit-{n_rows // 1000}k"
    benchmark.extra_info.update(rows=n_rows, features=X.shape[1], detector="pu-bagging stage 1",
                                known_normals=int(known.sum()), n_estimators=rounds)

    def fit():
        return PUBaggingClassifier(n_estimators=rounds, random_state=0).fit(X, known.astype(int))

    clf = benchmark.pedantic(fit, rounds=ROUNDS, iterations=1, warmup_rounds=0)
    assert clf.oob_decision_.shape == (n_rows,)
    benchmark.extra_info["rows_per_s"] = n_rows / benchmark.stats.stats.mean
