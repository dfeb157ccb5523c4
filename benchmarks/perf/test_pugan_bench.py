"""PU-GAN's costs against IForest on the same input: one GAN training epoch (group
``gan-epoch``) and scoring throughput in records per second, with gradient latent inversion and
with the encoder alone (group ``score-20k``). The scalable OCSVM is timed beside them.

Input: KDD-like rows (:func:`benchmarks.perf.data.kdd_like`). The GAN epoch uses PU-GAN's
default epoch (``max_gan_rows=8000`` sequences of the 6 attributes, batch 500, the MAD-GAN
architecture: latent 15, LSTM 100, generator 3 layers, discriminator 1, 3 generator updates
per discriminator update). The throughput group fits each detector once, with its default
parameters, on 20,000 training rows (outside the timing) and times ``decision_function`` on
20,000 other records. The encoder variant scores with the same fitted networks as the
gradient variant (``inversion="encoder"`` set on a copy): the difference is the inversion only.
The distilled variant (``pugan-distilled``) is a fit of its own, since its scorer is trained in
``fit``; its GAN is the same (same seed, same data), its student mimics the encoder path.
Skipped, with the reason, where this checkout has no ``pugan`` detector.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from benchmarks.perf.conftest import ROUNDS, SCORE_ROWS, SCORE_TRAIN_ROWS
from benchmarks.registry import make_detector

GAN_ROWS = 8_000


def _pugan():
    try:
        from pugan import PUGAN  # noqa: F401
        from pugan.train import train_gan
    except ImportError as exc:
        pytest.skip(f"pugan's detector is not in this checkout yet: {exc}")
    return train_gan


def test_gan_epoch(benchmark, kdd):
    train_gan = _pugan()
    import torch

    X, _, known = kdd(GAN_ROWS)
    lo, hi = X.min(0), X.max(0)
    Xs = 2 * (X - lo) / np.where(hi > lo, hi - lo, 1.0) - 1   # PU-GAN scales to [-1, 1]
    data = torch.as_tensor(Xs, dtype=torch.float32).unsqueeze(-1)   # (N, 6 steps, 1 signal)
    det = make_detector("pugan", random_state=0)
    defaults = det.get_params()
    benchmark.group = "gan-epoch-8k"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # PU-GAN's default (n_jobs=1) and the harness's per-cell share
    # the networks exactly as PUGAN.fit builds them for 6-attribute records (record latent of
    # 'auto' size, encoder trained jointly through the reconstruction term)
    det.seq_len_, det.n_signals_ = int(data.shape[1]), 1
    det.latent_dim_ = det._resolve_latent_dim()
    torch.manual_seed(0)
    G, D, E = det._networks()
    benchmark.extra_info.update(rows=GAN_ROWS, seq_len=int(data.shape[1]),
                                batch_size=defaults["batch_size"], hidden=defaults["hidden"],
                                latent=defaults["latent"], latent_dim=det.latent_dim_,
                                recon_weight=defaults["recon_weight"], threads=1)

    def epoch():
        return train_gan(G, D, data, n_epochs=1, batch_size=defaults["batch_size"],
                         latent_dim=det.latent_dim_, gen=torch.Generator().manual_seed(0),
                         g_rounds=defaults["g_rounds"], E=E,
                         recon_weight=defaults["recon_weight"])

    try:
        hist = benchmark.pedantic(epoch, rounds=ROUNDS, iterations=1, warmup_rounds=0)
    finally:
        torch.set_num_threads(threads)
    assert len(hist) == 1 and np.isfinite(hist[0]["d_loss"])
    benchmark.extra_info["rows_per_s"] = GAN_ROWS / benchmark.stats.stats.mean


def test_gan_epoch_iforest_fit(benchmark, kdd):
    """The yardstick of the gan-epoch group: a whole IForest fit on the same 8,000 rows."""
    X, _, known = kdd(GAN_ROWS)
    benchmark.group = "gan-epoch-8k"
    benchmark.extra_info.update(rows=GAN_ROWS)
    benchmark.pedantic(lambda: make_detector("iforest", random_state=0).fit(X, known_normal=known),
                       rounds=ROUNDS, iterations=1, warmup_rounds=0)
    benchmark.extra_info["rows_per_s"] = GAN_ROWS / benchmark.stats.stats.mean


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
    if name.startswith("pugan"):
        _pugan()
    det = fitted(name)
    _, _, X_score = score_input
    benchmark.group = f"score-{SCORE_ROWS // 1000}k"
    benchmark.extra_info.update(records=SCORE_ROWS, train_rows=SCORE_TRAIN_ROWS, detector=name)
    scores = benchmark.pedantic(det.decision_function, args=(X_score,), rounds=max(ROUNDS, 3),
                                iterations=1, warmup_rounds=0)
    assert scores.shape == (SCORE_ROWS,) and np.isfinite(scores).all()
    benchmark.extra_info["records_per_s"] = SCORE_ROWS / benchmark.stats.stats.mean
