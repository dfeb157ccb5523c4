"""Where PU-GAN's encoder scoring spends its time: encoder, generator, discriminator.

Usage::

    python experiments/pugan_scoring_parts.py [--threads 1] [--seeds 1000]

Fits a short PUGAN (1 epoch; network sizes are the defaults, so the cost per record is the real
one) on a kddcup99-low development split, then scores 100,000 of its test records (tiled) and prints records
per second for the whole encoder path (E, then G(E(x)) and D(x)) at two batch sizes, with
``torch.no_grad``, ``torch.inference_mode`` and (where the processor has native bfloat16
products) bfloat16 autocast, each after one untimed call, and for E alone, G(E(x)) and D
alone, and the LSTMs' floating-point work per record: why the encoder path cannot reach 50,000
records/s on two cores (the distilled scorer, ``inversion="distilled"``, is the way there).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.isolation import limit_threads
from benchmarks.perf.pugan_profile import lstm_flops
from benchmarks.seeds import add_seed_arguments, seeds_from_args
from benchmarks.splits import preset_split
from pugan.detector import PUGAN
from pugan.train import native_bfloat16

N = 100_000


def _rate(fn, n: int) -> float:
    """Records per second of ``fn`` over ``n`` records, after one untimed call (the first
    call of a shape pays for oneDNN building its kernels)."""
    fn()
    t = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    add_seed_arguments(ap, default=1)
    args = ap.parse_args(argv)
    seeds = seeds_from_args(args, ap)
    if len(seeds) != 1:
        ap.error(f"--seeds: this script measures one seed; got {len(seeds)}")
    seed = seeds[0]
    threads = args.threads
    limit_threads(threads)
    s = preset_split("kddcup99-low", seed)
    det = PUGAN(random_state=seed, n_epochs=1, encoder_epochs=1, max_gan_rows=2000,
                inversion="encoder").fit(s.X_train, known_normal=s.known_normal)
    x = torch.from_numpy(det.scale_records(np.resize(s.X_test, (N, s.X_test.shape[1])))
                         .astype(np.float32))[:, :, None]
    G, D, E = det.generator_, det.discriminator_, det.encoder_

    def encoder_path(bs, ctx):
        with ctx():
            for i in range(0, N, bs):
                xb = x[i:i + bs]
                ((xb - G(E(xb))) ** 2).sum(-1)   # the per-step residual, as scoring computes it
                F.softplus(-D(xb))

    def bf16():  # bfloat16 products: the fastest LSTM kernel where the processor has them
        return torch.autocast("cpu", dtype=torch.bfloat16)

    contexts = [("no_grad", torch.no_grad), ("inference_mode", torch.inference_mode)]
    if native_bfloat16(torch.device("cpu")):  # emulated bfloat16 is slower than float32
        contexts.append(("bfloat16 autocast", bf16))
    else:
        print("No native bfloat16 products on this processor: no bfloat16 row.")
    for bs in (8192, 32768):
        for name, ctx in contexts:
            rate = _rate(lambda bs=bs, ctx=ctx: encoder_path(bs, ctx), N)
            print(f"encoder path, batch {bs}, {name}: {rate:,.0f} records/s ({threads} thread(s))")
    # floating-point work per record of the LSTMs alone (4 gates, a multiply-add = 2 FLOP):
    # the networks' own layer counts and directions, as the profiler counts them
    T = x.shape[1]
    g_flop, e_flop, d_flop = (lstm_flops(net.lstm.input_size, net.lstm.hidden_size,
                                         net.lstm.num_layers, T,
                                         bidirectional=net.lstm.bidirectional)
                              for net in (G, E, D))
    total = g_flop + e_flop + d_flop
    print(f"LSTM work per record: G {g_flop / 1e6:.2f}, E {e_flop / 1e6:.2f}, D {d_flop / 1e6:.2f}"
          f" MFLOP; 50,000 records/s needs {50_000 * total / 1e9:.0f} GFLOP/s")
    xb = x[:32768]
    with torch.no_grad():
        for name, fn in (("E alone", lambda: E(xb)), ("G(E(x))", lambda: G(E(xb))),
                         ("D alone", lambda: D(xb))):
            print(f"{name}: {_rate(fn, len(xb)):,.0f} records/s")


if __name__ == "__main__":
    main()
