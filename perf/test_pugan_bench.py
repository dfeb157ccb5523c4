"""PU-GAN's costs against IForest on the same input: one GAN training epoch (group
``gan-epoch``) and scoring throughput in records per second, with gradient latent inversion and
with the encoder alone (group ``score-20k``). The scalable OCSVM is timed beside them. The
groups ``kdd-paper-fit`` and ``kdd-paper-score`` time the paper-size work that the stated
targets are about: a fit on the kddcup99-low preset, and scoring of 494,021 records with each
PU-GAN scorer on the machine's 2 threads, IForest beside them on its default single thread
(PyOD's ``n_jobs=1``, recorded as ``threads``), so an "x IForest" ratio of these groups sets 2
threads against 1. The targets are recorded for comparison, not enforced.

Input: KDD-like rows (:func:`benchmarks.perf.data.kdd_like`). The GAN epoch is PU-GAN's
default epoch on ``GAN_ROWS`` sequences of the 6 attributes: batch size, latent, network sizes
and generator rounds are the detector's defaults, read from ``get_params`` when the benchmark
runs and stored in its ``extra_info``. The throughput group fits each detector once, with its default
parameters, on 20,000 training rows (outside the timing) and times ``decision_function`` on
20,000 other records. The encoder variant scores with the same fitted networks as the
gradient variant (``inversion="encoder"`` set on a copy): the difference is the inversion only.
The distilled variant (``pugan-distilled``) is a fit of its own, since its scorer is trained in
``fit``; its GAN is the same (same seed, same data), its student mimics the encoder path.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from bench_sizes import ROUNDS, SCORE_ROWS, SCORE_TRAIN_ROWS

from benchmarks.isolation import thread_limits
from benchmarks.registry import make_detector
from pugan import PUGAN
from pugan.train import resolve_precision, train_gan

#: sequences in the timed GAN epoch: PU-GAN's default ``max_gan_rows``
GAN_ROWS = PUGAN().max_gan_rows


def test_gan_epoch(benchmark, kdd):
    import torch

    X, _, known = kdd(GAN_ROWS)
    lo, hi = X.min(0), X.max(0)
    Xs = 2 * (X - lo) / np.where(hi > lo, hi - lo, 1.0) - 1   # PU-GAN scales to [-1, 1]
    data = torch.as_tensor(Xs, dtype=torch.float32).unsqueeze(-1)   # (N, 6 steps, 1 signal)
    det = make_detector("pugan", random_state=0)
    defaults = det.get_params()
    benchmark.group = "gan-epoch-8k"
    # the networks exactly as PUGAN.fit builds them for 6-attribute records (record latent of
    # 'auto' size, encoder trained jointly through the reconstruction term)
    torch.manual_seed(0)
    G, D, E, latent_dim = det.build_networks(int(data.shape[1]), 1)
    benchmark.extra_info.update(rows=GAN_ROWS, seq_len=int(data.shape[1]),
                                batch_size=defaults["batch_size"], hidden=defaults["hidden"],
                                latent=defaults["latent"], latent_dim=latent_dim,
                                recon_weight=defaults["recon_weight"], threads=1)

    # the arithmetic PUGAN.fit trains in here ("auto": bfloat16 where products in it are
    # native), not train_gan's own float32 default
    precision = resolve_precision(defaults["precision"], torch.device("cpu"))
    benchmark.extra_info["precision"] = precision

    def epoch():
        return train_gan(G, D, data, n_epochs=1, batch_size=defaults["batch_size"],
                         latent_dim=latent_dim, rng=torch.Generator().manual_seed(0),
                         g_rounds=defaults["g_rounds"], E=E,
                         d_optimizer=defaults["d_optimizer"],
                         recon_weight=defaults["recon_weight"],
                         recon_rounds=defaults["recon_rounds"], precision=precision)

    # one thread: PU-GAN's default (n_jobs=1) and the harness's per-cell share; one untimed
    # epoch first, which pays torch's first use and oneDNN's kernel builds once per process
    with thread_limits(1):
        hist = benchmark.pedantic(epoch, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    assert len(hist) == 1 and np.isfinite(hist[0]["d_loss"])
    benchmark.extra_info["rows_per_s"] = GAN_ROWS / benchmark.stats.stats.mean


def test_gan_epoch_iforest_fit(benchmark, kdd):
    """The yardstick of the gan-epoch group: a whole IForest fit on the same 8,000 rows."""
    X, _, known = kdd(GAN_ROWS)
    benchmark.group = "gan-epoch-8k"
    benchmark.extra_info.update(rows=GAN_ROWS)
    det = benchmark.pedantic(
        lambda: make_detector("iforest", random_state=0).fit(X, known_normal=known),
        rounds=ROUNDS, iterations=1, warmup_rounds=0)
    # a fit that failed quietly would time nothing and still give a number
    assert np.isfinite(det.threshold_) and np.isfinite(det.decision_scores_).all()
    mean = benchmark.stats.stats.mean
    assert np.isfinite(mean) and mean > 0
    benchmark.extra_info["rows_per_s"] = GAN_ROWS / mean


@pytest.fixture(scope="module")
def fitted(score_input):
    """name -> a detector fitted on the throughput group's training rows (fitted once)."""
    X_train, known, _ = score_input
    out = {}

    def get(name):
        if name not in out:
            if name == "pugan-encoder":
                base = get("pugan")
                out[name] = copy.deepcopy(base).set_params(inversion="encoder")
            else:
                out[name] = make_detector(name, random_state=0).fit(X_train, known_normal=known)
        return out[name]

    return get


@pytest.mark.parametrize("name", ["iforest", "ocsvm-sgd", "pu-bagging", "pugan", "pugan-encoder",
                                  "pugan-distilled"])
def test_score_throughput(benchmark, fitted, score_input, name):
    det = fitted(name)
    _, _, X_score = score_input
    benchmark.group = f"score-{SCORE_ROWS // 1000}k"
    benchmark.extra_info.update(records=SCORE_ROWS, train_rows=SCORE_TRAIN_ROWS, detector=name)
    scores = benchmark.pedantic(det.decision_function, args=(X_score,), rounds=max(ROUNDS, 3),
                                iterations=1, warmup_rounds=0)
    assert scores.shape == (SCORE_ROWS,) and np.isfinite(scores).all()
    benchmark.extra_info["records_per_s"] = SCORE_ROWS / benchmark.stats.stats.mean


# ---- the paper-size targets: fit on the kddcup99-low preset, score 494,021 records ----
PAPER_TEST_ROWS = 494_021   # KDD Cup 99's 10% file, the paper's test size
PAPER_THREADS = 2           # the 2-core machine the targets are stated for


@pytest.fixture(scope="module")
def paper_size():
    """The kddcup99-low split (seed 0), its test records tiled to 494,021, and a cache of the
    fitted models: :func:`test_fit_kddcup99_low` fits them under the benchmark and leaves them
    here; a scoring test run on its own fits what it needs, untimed."""
    from benchmarks.splits import preset_split

    s = preset_split("kddcup99-low", 0)
    X = np.resize(s.X_test, (PAPER_TEST_ROWS, s.X_test.shape[1]))
    return {"split": s, "X": X, "models": {}}


def _threads(name: str) -> int:
    """Threads a paper-size model runs on: PU-GAN's ``n_jobs``; IForest's PyOD default, one."""
    return 1 if name == "iforest" else PAPER_THREADS


def _paper_model(name: str, split):
    """IForest (the yardstick) or PU-GAN with its distilled scorer, so that one fit serves the
    three scorers (``inversion`` is switched on copies)."""
    if name == "iforest":
        return make_detector("iforest", random_state=0)
    return PUGAN(random_state=0, n_jobs=PAPER_THREADS, inversion="distilled")


@pytest.mark.parametrize("name", ["iforest", "pugan"])
def test_fit_kddcup99_low(benchmark, paper_size, name):
    """A whole fit on the kddcup99-low preset (PU-GAN: stages 1-3 and the distilled scorer, 2
    threads, set by its ``n_jobs``). The stated target for PU-GAN, 10 minutes, is recorded
    here for comparison, not enforced: a timing assertion would fail on a slower or busier
    machine without any change in the code."""
    s = paper_size["split"]
    benchmark.group = "kdd-paper-fit"
    benchmark.extra_info.update(rows=len(s.X_train), threads=_threads(name))
    model = benchmark.pedantic(
        lambda: _paper_model(name, s).fit(s.X_train, known_normal=s.known_normal),
        rounds=1, iterations=1)
    paper_size["models"][name] = model
    benchmark.extra_info["rows_per_s"] = len(s.X_train) / benchmark.stats.stats.mean
    if name == "pugan":
        benchmark.extra_info["student_fidelity"] = model.student_fidelity_
        assert model.student_fidelity_ > 0.9


@pytest.mark.parametrize("scorer", ["iforest", "gradient", "encoder", "distilled"])
def test_score_494k(benchmark, paper_size, scorer):
    """Scoring all 494,021 records (the preset's test records tiled): PU-GAN's scorers on 2
    threads, IForest on its default one. The stated
    targets (inversion under 5 minutes, >= 1,600 records/s; 50,000 records/s for the fast
    scorer) are recorded against the measured ``records_per_s``, not enforced: a timing
    assertion would fail on a slower or busier machine without any change in the code.
    PU-GAN's threads come from its ``n_jobs`` (copied with the model)."""
    s, X, models = paper_size["split"], paper_size["X"], paper_size["models"]
    base = "iforest" if scorer == "iforest" else "pugan"
    if base not in models:
        models[base] = _paper_model(base, s).fit(s.X_train, known_normal=s.known_normal)
    model = models[base]
    if scorer != "iforest":
        model = copy.deepcopy(model).set_params(inversion=scorer)
    benchmark.group = "kdd-paper-score"
    benchmark.extra_info.update(records=PAPER_TEST_ROWS, threads=_threads(base), scorer=scorer)
    scores = benchmark.pedantic(model.decision_function, args=(X,), rounds=1, iterations=1)
    assert scores.shape == (PAPER_TEST_ROWS,) and np.isfinite(scores).all()
    benchmark.extra_info["records_per_s"] = PAPER_TEST_ROWS / benchmark.stats.stats.mean
