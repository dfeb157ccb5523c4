"""Where PU-GAN's fit spends its time and how close its GAN runs to the machine (docs/speed.md).

Groups:

* ``pugan-fit-stages``: a whole fit on the kddcup99-low preset (development seed 1000, one
  torch thread), stage by stage (:func:`benchmarks.perf.pugan_profile.profile_fit`; CPU
  seconds per stage in ``extra_info``), in float32 and in bfloat16 training precision (bfloat16
  skipped on a processor without native bfloat16).
* ``gan-flops``: GAN batches of the default networks on 1,024 six-attribute sequences, one
  thread; ``extra_info`` holds the LSTMs' FLOPs per batch, the achieved FLOP/s, the float32
  (and, where native, bfloat16) matrix-multiply FLOP/s measured in the same run, the FLOP/s
  of the generator's LSTM call alone in the batch's precision, and the batch's ratio to each.
* ``gan-width``: one GAN epoch on 256 sequences of 6 to 100 attributes, one attribute per step
  (the paper) and with ``max_seq_len=16``: how the cost grows with the attributes.

In ``gan-flops`` and ``gan-width`` each timed call builds the networks and trains one untimed
epoch before the timed one (:func:`benchmarks.perf.pugan_profile.measure_gan_step`): the
batch's own time is ``step_ms`` in ``extra_info``, not the benchmark's mean.
* ``gpu-rows``: fit and scoring rows/s with ``device="cuda"``; skipped without CUDA.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks.perf.pugan_profile import (
    STAGES,
    lstm_kernel_flops,
    matmul_flops,
    measure_gan_step,
    peak_dtypes,
    profile_fit,
)
from pugan.train import native_bfloat16

DEV_SEED = 1000
#: bfloat16 training where the processor has it; oneDNN has no bfloat16 LSTM elsewhere
PRECISIONS = ["float32", pytest.param("bfloat16", marks=pytest.mark.skipif(
    not native_bfloat16(torch.device("cpu")), reason="no native bfloat16 on this processor"))]


@pytest.fixture(scope="module")
def kdd_low():
    from benchmarks.splits import preset_split

    return preset_split("kddcup99-low", DEV_SEED)


@pytest.mark.parametrize("precision", PRECISIONS)
def test_fit_stages_kddcup99_low(benchmark, kdd_low, precision):
    s = kdd_low
    benchmark.group = "pugan-fit-stages"
    out = {}

    def fit():
        out["times"], out["det"] = profile_fit(s.X_train, s.known_normal, random_state=DEV_SEED,
                                               n_jobs=1, precision=precision)

    benchmark.pedantic(fit, rounds=1, iterations=1)
    times = out["times"]
    benchmark.extra_info.update(rows=len(s.X_train), threads=1, seed=DEV_SEED,
                                precision=precision,
                                **{f"cpu_s_{k}": round(times[k], 2) for k in (*STAGES, "total")})
    benchmark.extra_info["rows_per_s"] = len(s.X_train) / benchmark.stats.stats.mean
    assert times["gan"] > 0 and np.isfinite(out["det"].decision_scores_).all()


def _check_step(step: dict) -> None:
    """A measurement worth recording: finite, positive time per batch, work and throughput
    (a clock that did not advance, or a run of no batch, is no measurement)."""
    for key in ("seconds", "step_s", "flops_per_step", "flops_per_s"):
        assert np.isfinite(step[key]) and step[key] > 0, (key, step[key])
    assert step["batches"] > 0


@pytest.mark.parametrize("precision", PRECISIONS)
def test_gan_flops(benchmark, precision):
    benchmark.group = "gan-flops"
    step = benchmark.pedantic(lambda: measure_gan_step(rows=1024, threads=1, seed=0,
                                                       precision=precision),
                              rounds=1, iterations=1)
    _check_step(step)
    peaks = {d: matmul_flops(1, dtype=d) for d in peak_dtypes()}
    kernel = lstm_kernel_flops(1, precision=precision)
    assert all(np.isfinite(v) and v > 0 for v in (*peaks.values(), kernel)), (peaks, kernel)
    benchmark.extra_info.update(
        precision=precision, step_ms=round(step["step_s"] * 1e3, 2),
        mflop_per_step=round(step["flops_per_step"] / 1e6, 1),
        gflop_per_s=round(step["flops_per_s"] / 1e9, 2),
        **{f"matmul_{d}_gflop_per_s": round(v / 1e9, 1) for d, v in peaks.items()},
        **{f"ratio_to_{d}": round(step["flops_per_s"] / v, 3) for d, v in peaks.items()},
        lstm_alone_gflop_per_s=round(kernel / 1e9, 1),
        ratio_to_lstm_alone=round(step["flops_per_s"] / kernel, 3),
        lstm_alone_ratio_to_matmul=round(kernel / peaks[precision], 3))
    benchmark.extra_info["rows_per_s"] = 1024 / step["seconds"]


@pytest.mark.parametrize("max_seq_len", [None, 16])
@pytest.mark.parametrize("attributes", [6, 25, 50, 100])
def test_gan_width(benchmark, attributes, max_seq_len):
    benchmark.group = "gan-width"
    g = 1 if max_seq_len is None or attributes <= max_seq_len else -(-attributes // max_seq_len)
    steps = -(-attributes // g)
    step = benchmark.pedantic(
        lambda: measure_gan_step(seq_len=steps, n_signals=g, latent_dim=max(1, attributes // 2),
                                 rows=256, threads=1, seed=0),
        rounds=1, iterations=1)
    _check_step(step)
    benchmark.extra_info.update(attributes=attributes, max_seq_len=max_seq_len, steps=steps,
                                attributes_per_step=g, step_ms=round(step["step_s"] * 1e3, 2))
    benchmark.extra_info["rows_per_s"] = 256 / step["seconds"]


@pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="needs a CUDA device")
@pytest.mark.parametrize("part", ["fit", "score"])
def test_gpu_rows(benchmark, kdd, part):
    from pugan import PUGAN

    X, _, known = kdd(20_000)
    benchmark.group = "gpu-rows"
    det = PUGAN(device="cuda", random_state=0)
    if part == "fit":
        benchmark.pedantic(lambda: det.fit(X, known_normal=known), rounds=1, iterations=1)
    else:
        det.fit(X, known_normal=known)
        scores = benchmark.pedantic(det.decision_function, args=(X,), rounds=1, iterations=1)
        assert np.isfinite(scores).all()
    benchmark.extra_info.update(device="cuda", part=part, rows=len(X))
    benchmark.extra_info["rows_per_s"] = len(X) / benchmark.stats.stats.mean
