"""Where PU-GAN's fit spends its time, stage by stage, and how close its GAN runs to the machine.

    python -m benchmarks.perf.pugan_profile [--seed 1000] [--threads 1] [--preset kddcup99-low]
        [--inversion gradient] [--precision auto|float32|bfloat16] [--no-fit]
        [--gan-epochs 1] [--warmup-epochs 1] [--allow-report-seeds]

:func:`profile_fit` fits :class:`pugan.PUGAN` (defaults unless overridden) on a preset split and
times each stage by wrapping the functions ``fit`` calls, with exclusive times (a stage nested
in another is subtracted from it):

* ``stage1``: the PU-bagging ensemble (the known normals' out-of-bag scores included) and the
  choice of reliable normals;
* ``gan``: the adversarial epochs (with the jointly trained encoder);
* ``encoder``: the encoder's own epochs;
* ``distill``: the distilled scorer's training, its teacher's labels and its fidelity check
  (only with ``inversion="distilled"``);
* ``calibration``: scores of the GAN's training normals (encoder pass for the stop level, then
  the detector's inversion) that set the score standardisation;
* ``train-scores``: the known normals' scores, through the detector's inversion, that set the
  threshold (the other training rows are scored only when ``decision_scores_`` is read);
* ``other``: the rest (validation, scaling, sequences).

:func:`gan_flops` counts the LSTMs' floating-point work of one GAN batch (forward once per
network application, backward as twice the forward, elementwise work left out), and
:func:`matmul_flops` measures the machine's float32 matrix-multiply throughput at the same thread
count, so that ``achieved / peak`` says how close the GAN's training runs to the limit.
:func:`lstm_kernel_flops` measures the rate of oneDNN's LSTM call alone at the loop's largest
call, which splits that gap in two: the kernel's own distance from the matrix-product peak at
these small shapes, and what the loop spends outside its LSTM calls.
Development seeds only (:func:`benchmarks.seeds.check_dev_seeds`) unless
``--allow-report-seeds``.
"""

from __future__ import annotations

import argparse
import time
from contextlib import contextmanager

from benchmarks.isolation import thread_limits

__all__ = ["gan_flops", "lstm_flops", "lstm_kernel_flops", "matmul_flops", "measure_gan_step",
           "peak_dtypes", "profile_fit"]

STAGES = ("stage1", "gan", "encoder", "distill", "calibration", "train-scores", "other")


class _Clock:
    """Exclusive wall time per label: a label's time excludes the labels nested inside it."""

    def __init__(self, timer=time.perf_counter):
        self.timer = timer
        self.totals: dict[str, float] = {}
        self._stack: list[list] = []   # [label, start, time spent in children]

    @contextmanager
    def stage(self, label: str):
        self._stack.append([label, self.timer(), 0.0])
        try:
            yield
        finally:
            label, start, child = self._stack.pop()
            spent = self.timer() - start
            self.totals[label] = self.totals.get(label, 0.0) + spent - child
            if self._stack:
                self._stack[-1][2] += spent


def _wrap(clock: _Clock, label, fn):
    def wrapped(*args, **kwargs):
        name = label() if callable(label) else label
        with clock.stage(name):
            return fn(*args, **kwargs)
    return wrapped


def profile_fit(X, known_normal, *, cpu: bool = True, **params) -> tuple[dict[str, float], object]:
    """Fit ``PUGAN(**params)`` on ``X`` and return ({stage: seconds}, the fitted detector).

    ``cpu=True`` counts the process's CPU seconds (on one thread, the fit's own work, which
    other processes on a shared machine slow down far less than its wall time); ``False``
    counts wall seconds."""
    from unittest import mock

    import pugan.detector as det_mod

    clock = _Clock(time.process_time if cpu else time.perf_counter)

    def scoring_label():
        """Scoring inside calibration or distillation belongs to it; the rest is the
        training rows' scores."""
        enclosing = [s[0] for s in clock._stack if s[0] in ("calibration", "distill")]
        return enclosing[-1] if enclosing else "train-scores"

    P = det_mod.PUGAN
    patches = [
        mock.patch.object(det_mod, "train_gan", _wrap(clock, "gan", det_mod.train_gan)),
        mock.patch.object(det_mod, "train_encoder",
                          _wrap(clock, "encoder", det_mod.train_encoder)),
        mock.patch.object(det_mod, "invert_and_score",
                          _wrap(clock, scoring_label, det_mod.invert_and_score)),
        # the distilled scorer's path to the training rows' scores, and its fidelity check
        mock.patch.object(P, "_student_scores", _wrap(clock, scoring_label, P._student_scores)),
        mock.patch.object(P, "_student_fidelity",
                          _wrap(clock, "distill", P._student_fidelity)),
        mock.patch.object(P, "select_gan_rows", _wrap(clock, "stage1", P.select_gan_rows)),
        mock.patch.object(P, "fit_distilled_scorer",
                          _wrap(clock, "distill", P.fit_distilled_scorer)),
        mock.patch.object(P, "calibrate", _wrap(clock, "calibration", P.calibrate)),
    ]
    det = P(**params)
    for p in patches:
        p.start()
    try:
        with clock.stage("other"):
            det.fit(X, known_normal=known_normal)
    finally:
        for p in reversed(patches):
            p.stop()
    out = {k: clock.totals.get(k, 0.0) for k in STAGES}
    out["total"] = sum(out.values())
    return out, det


# ------------------------------------------------------------------ FLOPs of the GAN's work
def lstm_flops(input_size: int, hidden: int, layers: int = 1, steps: int = 1,
               bidirectional: bool = False) -> int:
    """Forward multiply-add FLOPs of an LSTM per sequence: 2 x 4 gates x hidden x (input +
    hidden) per layer and step (the matrix products; gate nonlinearities left out)."""
    total, inp = 0, input_size
    dirs = 2 if bidirectional else 1
    for _ in range(layers):
        total += 2 * 4 * hidden * (inp + hidden) * dirs
        inp = hidden * dirs
    return total * steps


def gan_flops(*, seq_len: int, n_signals: int, latent_dim: int, hidden: int, g_layers: int,
              d_layers: int, batch: int, g_rounds: int, recon: bool,
              recon_rounds: int | None = None) -> dict[str, int]:
    """FLOPs of one GAN batch of :func:`pugan.train.train_gan`, counting each network
    application once (forward F, backward 2F) whatever the implementation does:

    * discriminator round: G forward on B latents (no gradient), D forward and backward on
      B real and B generated sequences;
    * each generator round: G and D forward and backward on B latents (D's backward is needed
      for G's gradient); with the reconstruction term, in the first ``recon_rounds`` rounds
      (``None``: all), E and G forward and backward on the B real sequences too.

    Per-sequence costs include the output layers (2 x in x out per step)."""
    T = seq_len
    g = lstm_flops(latent_dim, hidden, g_layers, T) + 2 * hidden * n_signals * T
    d = lstm_flops(n_signals, hidden, d_layers, T) + 2 * hidden * T
    e = lstm_flops(n_signals, hidden, 1, T, bidirectional=True) + 2 * 2 * hidden * latent_dim * T
    d_round = batch * (g + 3 * 2 * d)
    g_round = batch * 3 * (g + d)
    recon_round = batch * 3 * (e + g) if recon else 0
    n_recon = g_rounds if recon_rounds is None else min(recon_rounds, g_rounds)
    return {"g_per_seq": g, "d_per_seq": d, "e_per_seq": e, "d_round": d_round,
            "g_round": g_round, "recon_round": recon_round,
            "per_batch": d_round + g_rounds * g_round + n_recon * recon_round}


def matmul_flops(threads: int, *, n: int = 512, seconds: float = 1.0,
                 dtype: str = "float32") -> float:
    """Measured matrix-multiply FLOP/s (square n x n, ``dtype``) at ``threads`` torch threads,
    over the process's CPU time on one thread (robust to a shared machine), else wall time."""
    import torch

    clock = time.process_time if threads == 1 else time.perf_counter
    with thread_limits(threads):
        rng = torch.Generator().manual_seed(0)  # the same operands in every run
        a = torch.randn(n, n, generator=rng).to(getattr(torch, dtype))
        b = torch.randn(n, n, generator=rng).to(getattr(torch, dtype))
        for _ in range(3):
            a @ b
        reps, start = 0, clock()
        while clock() - start < seconds:
            a @ b
            reps += 1
        return 2 * n ** 3 * reps / (clock() - start)


def lstm_kernel_flops(threads: int, *, precision: str, reps: int = 40,
                      blocks: int = 5) -> float:
    """Measured FLOP/s of the generator's LSTM alone, forward and backward (counted as in
    :func:`gan_flops`), at a generator round's batch of 256 sequences, in ``precision``:
    the rate the loop would run at if nothing but its largest LSTM call ran. The generator
    holds most of a batch's work, so this is the ceiling the loop can approach without a
    faster LSTM kernel; hence the fastest of ``blocks`` blocks of ``reps`` calls
    (:func:`benchmarks.perf.lstm_compile.fastest_ms`). CPU time on one thread, else wall
    time."""
    import torch

    from benchmarks.perf.lstm_compile import (
        CALLS,
        STEPS,
        _train_step,
        call_input,
        fastest_ms,
        pugan_lstms,
    )
    from pugan.train import resolve_precision

    precision = resolve_precision(precision, torch.device("cpu"))
    name, _, batch, grads = CALLS[0]   # the generator: weights and input, as counted below
    lstm = pugan_lstms()[name]
    x = call_input(lstm, batch, grads, torch.Generator().manual_seed(0))
    clock = time.process_time if threads == 1 else time.perf_counter
    with thread_limits(threads):
        ms = fastest_ms(_train_step(lstm, x, precision), reps, blocks, clock=clock)
    work = 3 * batch * lstm_flops(lstm.input_size, lstm.hidden_size, lstm.num_layers, STEPS)
    return work / (ms / 1e3)


def peak_dtypes() -> tuple[str, ...]:
    """The matrix-product types whose throughput is a peak for the GAN to be measured against:
    float32, and bfloat16 where oneDNN reports bfloat16 support, the check by which PU-GAN's
    ``precision="auto"`` trains in it (elsewhere bfloat16 is emulated at a small fraction of
    float32's rate, no peak at all)."""
    import torch

    from pugan.train import native_bfloat16

    native = native_bfloat16(torch.device("cpu"))
    return ("float32", "bfloat16") if native else ("float32",)


def measure_gan_step(*, seq_len: int = 6, n_signals: int = 1, rows: int = 8000,
                     epochs: int = 1, warmup_epochs: int = 1, threads: int = 1, seed: int = 0,
                     **params) -> dict:
    """Seconds per GAN batch of PUGAN's default GAN (parameters overridable) on ``rows``
    random sequences of ``seq_len`` attributes, with the FLOPs and FLOP/s of that batch
    (CPU seconds on one thread, wall seconds otherwise).

    The first epoch in a process also pays for the first use of torch and for oneDNN building
    its kernels for each new shape, which a fit pays once; ``warmup_epochs`` untimed epochs
    (one by default) before the ``epochs`` timed ones leave that out, for the steady rate the
    rest of a fit runs at. The last batch of an epoch may be short: time and work are per
    full batch's worth of rows (``step_s``), and ``batches`` counts the batches run."""
    import torch

    from pugan import PUGAN
    from pugan.train import train_gan

    if epochs < 1 or warmup_epochs < 0:
        raise ValueError(f"epochs must be positive and warmup_epochs zero or more; got "
                         f"{epochs} and {warmup_epochs}")
    det = PUGAN(**params)
    p = det.get_params()
    clock = time.process_time if threads == 1 else time.perf_counter
    with thread_limits(threads):
        torch.manual_seed(seed)
        G, D, E, latent_dim = det.build_networks(seq_len, n_signals)
        data = torch.rand(rows, seq_len, n_signals,
                          generator=torch.Generator().manual_seed(seed)) * 2 - 1
        kw = {"precision": p["precision"]} if "precision" in p else {}
        rng = torch.Generator().manual_seed(seed)

        def train(n_epochs):
            train_gan(G, D, data, n_epochs=n_epochs, batch_size=p["batch_size"],
                      latent_dim=latent_dim, rng=rng, g_rounds=p["g_rounds"],
                      d_optimizer=p["d_optimizer"], E=E, recon_weight=p["recon_weight"],
                      recon_rounds=p.get("recon_rounds"), **kw)

        if warmup_epochs:
            train(warmup_epochs)
        start = clock()
        train(epochs)
        elapsed = clock() - start
    n_batches = epochs * -(-rows // p["batch_size"])
    fl = gan_flops(seq_len=seq_len, n_signals=n_signals, latent_dim=latent_dim, hidden=p["hidden"],
                   g_layers=p["g_layers"], d_layers=p["d_layers"], batch=p["batch_size"],
                   g_rounds=p["g_rounds"], recon=p["recon_weight"] > 0,
                   recon_rounds=p.get("recon_rounds"))
    # a short last batch counts as the rows it holds: time, work and rate per full batch agree
    full_batches = epochs * rows / p["batch_size"]
    return {"seq_len": seq_len, "batches": n_batches, "seconds": elapsed,
            "step_s": elapsed / full_batches, "flops_per_step": fl["per_batch"],
            "flops_per_s": fl["per_batch"] * full_batches / elapsed}


def main(argv=None) -> int:
    from benchmarks.seeds import seeds_from_args
    from benchmarks.splits import preset_split

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="kddcup99-low")
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--inversion", default="gradient")
    ap.add_argument("--precision", default=None, help="PUGAN's precision (default: its own)")
    ap.add_argument("--no-fit", action="store_true", help="only the FLOP measurement")
    ap.add_argument("--gan-epochs", type=int, default=1,
                    help="timed epochs of the FLOP measurement (default 1)")
    ap.add_argument("--warmup-epochs", type=int, default=1,
                    help="untimed epochs before them, leaving torch's first use and oneDNN's "
                         "kernel setup out (default 1; 0 times them too)")
    ap.add_argument("--allow-report-seeds", action="store_true")
    args = ap.parse_args(argv)
    if args.gan_epochs < 1:  # before the fit, which takes minutes
        ap.error("--gan-epochs must be positive")
    if args.warmup_epochs < 0:
        ap.error("--warmup-epochs must be zero or more")
    seeds_from_args(argparse.Namespace(seeds=[args.seed],
                                       allow_report_seeds=args.allow_report_seeds), ap)
    extra = {} if args.precision is None else {"precision": args.precision}
    if not args.no_fit:
        s = preset_split(args.preset, args.seed)
        # CPU seconds on one thread; with more, CPU time sums the threads: wall time, as the
        # FLOP measurements below switch to
        one_thread = args.threads == 1
        times, det = profile_fit(s.X_train, s.known_normal, cpu=one_thread,
                                 random_state=args.seed, n_jobs=args.threads,
                                 inversion=args.inversion, **extra)
        from sklearn.metrics import average_precision_score
        ap_ = average_precision_score(s.y_test, det.decision_function(s.X_test))
        print(f"{args.preset} seed {args.seed}: {len(s.X_train)} training rows, "
              f"{det.n_gan_rows_} GAN rows, {args.threads} thread(s), test AUPRC {ap_:.4f}")
        print(f"| stage | {'CPU' if one_thread else 'wall'} seconds | share |\n"
              "| --- | ---: | ---: |")
        for k in (*STAGES, "total"):
            print(f"| {k} | {times[k]:.1f} | {100 * times[k] / times['total']:.0f}% |")
    step = measure_gan_step(threads=args.threads, seed=args.seed, epochs=args.gan_epochs,
                            warmup_epochs=args.warmup_epochs, **extra)
    peaks = {}
    for dtype in peak_dtypes():
        peaks[dtype] = peak = matmul_flops(args.threads, dtype=dtype)
        print(f"GAN batch: {step['step_s'] * 1e3:.1f} ms, {step['flops_per_step'] / 1e6:.0f} "
              f"MFLOP, {step['flops_per_s'] / 1e9:.2f} GFLOP/s; {dtype} matmul "
              f"{peak / 1e9:.1f} GFLOP/s; ratio {step['flops_per_s'] / peak:.3f}")
    import torch

    from pugan.train import resolve_precision

    precision = resolve_precision(args.precision or "auto", torch.device("cpu"))
    kernel = lstm_kernel_flops(args.threads, precision=precision)
    # no bfloat16 peak where bfloat16 is emulated (peak_dtypes), so no ratio to one
    to_peak = (f"; LSTM alone / {precision} matmul {kernel / peaks[precision]:.3f}"
               if precision in peaks else "")
    print(f"generator's LSTM alone ({precision}): {kernel / 1e9:.2f} GFLOP/s; GAN batch / "
          f"LSTM alone {step['flops_per_s'] / kernel:.3f}{to_peak}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
