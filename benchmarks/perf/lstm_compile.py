"""Which LSTM is fastest on the CPU at PU-GAN's sizes: oneDNN's, ATen's, or a compiled one.

``nn.LSTM`` runs as one oneDNN call by default; with oneDNN switched off it runs ATen's own
kernels instead (a matrix product per step and layer). ``torch.compile`` leaves ``nn.LSTM`` as
the one oneDNN call it is, so the only way for it to help is a hand-written LSTM (one matrix
product per step plus the gate arithmetic) that inductor can fuse. This times forward plus
backward of each, one thread, CPU time, on the LSTMs of PU-GAN's default networks for six
attributes (``PUGAN().build_networks``, so the shapes follow the defaults): the generator on a
generator round's batch of 256 (128 fresh latents, 128 encoded records; the backward
differentiates its weights and its input, through which the encoder trains with it), the
discriminator on that round's 128 generated records (its weights frozen, as ``pugan.train``
freezes them there: the input alone) and on the discriminator step's 256 real and generated
ones (its weights alone);
in float32 and, where oneDNN reports bfloat16 support (where PU-GAN's ``precision="auto"``
trains in bfloat16), under bfloat16 autocast: oneDNN has no bfloat16 LSTM elsewhere. It checks
first that the hand-written LSTM computes what ``nn.LSTM`` does.

    python -m benchmarks.perf.lstm_compile [--reps 20] [--mode default|max-autotune]
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch
from torch import nn

from pugan.train import native_bfloat16

#: the sequence PU-GAN's networks are timed on: six attributes, one per step
STEPS, SIGNALS = 6, 1
#: (network, role, batch, what the backward differentiates) of a GAN batch of 128
CALLS = (("generator", "generator round", 256, "both"),
         ("discriminator", "generator round", 128, "input"),
         ("discriminator", "discriminator step", 256, "weights"))


def pugan_lstms() -> dict:
    """The LSTMs of PU-GAN's default generator and discriminator for :data:`STEPS` x
    :data:`SIGNALS` records."""
    from pugan import PUGAN

    G, D, _, _ = PUGAN().build_networks(STEPS, SIGNALS, n_features=STEPS * SIGNALS)
    return {"generator": G.lstm, "discriminator": D.lstm}


class UnrolledLSTM(nn.Module):
    """The LSTM of ``ref`` (sharing its weights), one step at a time: inductor can fuse the
    gate arithmetic of each step, which it cannot do inside oneDNN's call."""

    def __init__(self, ref: nn.LSTM):
        super().__init__()
        self.hidden = ref.hidden_size
        layers = range(ref.num_layers)
        self.w_ih = nn.ParameterList(getattr(ref, f"weight_ih_l{k}") for k in layers)
        self.w_hh = nn.ParameterList(getattr(ref, f"weight_hh_l{k}") for k in layers)
        self.b_ih = nn.ParameterList(getattr(ref, f"bias_ih_l{k}") for k in layers)
        self.b_hh = nn.ParameterList(getattr(ref, f"bias_hh_l{k}") for k in layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, _ = x.shape
        for w_ih, w_hh, b_ih, b_hh in zip(self.w_ih, self.w_hh, self.b_ih, self.b_hh,
                                          strict=True):
            # the input's products for every step at once, as oneDNN does
            gates_in = (x.reshape(batch * steps, -1) @ w_ih.t() + b_ih + b_hh).view(
                batch, steps, -1)
            h = x.new_zeros(batch, self.hidden)
            c = x.new_zeros(batch, self.hidden)
            outs = []
            for t in range(steps):
                i, f, g, o = (gates_in[:, t] + h @ w_hh.t()).chunk(4, 1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                outs.append(h)
            x = torch.stack(outs, 1)
        return x


def fastest_ms(step, reps: int, blocks: int = 5, clock=time.process_time) -> float:
    """ms per call by ``clock`` (CPU time by default): the fastest of ``blocks`` means over
    ``reps`` calls, since what slows a block (the other core's work, a page fault) only ever
    adds time. Five untimed calls first: oneDNN builds its kernels for a new shape, and
    inductor compiles, on the first ones."""
    if reps < 1 or blocks < 1:
        raise ValueError(f"reps and blocks must be at least 1; got {reps} and {blocks}")
    for _ in range(5):
        step()
    best = float("inf")
    for _ in range(blocks):
        start = clock()
        for _ in range(reps):
            step()
        best = min(best, (clock() - start) / reps * 1e3)
    return best


def call_input(ref: nn.LSTM, batch: int, grads: str,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """A batch for ``ref`` (drawn with ``generator``), with the gradients training takes from
    that call switched on: the weights' alone (``"weights"``: inputs that need none), the
    input's alone (``"input"``: a frozen network passing gradients back to what fed it), or
    both (``"both"``: a network trained jointly with the one that fed it). The weights are
    shared with the hand-written LSTM, so both are timed alike."""
    if grads not in ("weights", "input", "both"):
        raise ValueError(f"grads must be 'weights', 'input' or 'both'; got {grads!r}")
    ref.requires_grad_(grads != "input")
    x = torch.randn(batch, STEPS, ref.input_size, generator=generator)
    return x.requires_grad_(grads != "weights")


def _train_step(module, x, precision: str, *, onednn: bool = True):
    """One forward and backward of ``module`` on ``x``; ``onednn=False`` runs ``nn.LSTM``
    through ATen's own kernels (a product per step and layer, fused gate arithmetic)."""
    def step():
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="TF32 acceleration on top of oneDNN")
            with torch.backends.mkldnn.flags(enabled=onednn):
                with torch.autocast("cpu", dtype=torch.bfloat16,
                                    enabled=precision == "bfloat16"):
                    out = module(x)
                    out = out[0] if isinstance(out, tuple) else out
                out.float().square().mean().backward()  # outside autocast, as in training
    return step


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20, help="calls per timed block")
    parser.add_argument("--mode", default="default", choices=("default", "max-autotune"))
    args = parser.parse_args(argv)
    if args.reps < 1:  # refused before torch.compile's minutes of warm-up
        parser.error(f"--reps must be at least 1; got {args.reps}")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    precisions = ("float32", "bfloat16") if native_bfloat16(torch.device("cpu")) else ("float32",)
    if len(precisions) == 1:
        print("No native bfloat16 products on this processor: float32 rows only.\n")
    print("| network (batch) | precision | nn.LSTM (oneDNN), ms | nn.LSTM (ATen), ms "
          "| hand-written, eager, ms | hand-written, compiled, ms | ATen / oneDNN "
          "| compiled / oneDNN |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    lstms = pugan_lstms()
    for name, role, batch, grads in CALLS:
        ref = lstms[name]
        unrolled = UnrolledLSTM(ref)
        x = call_input(ref, batch, grads)
        with torch.no_grad():
            gap = (ref(x)[0] - unrolled(x)).abs().max().item()
        if gap > 1e-5:
            raise AssertionError(f"{name}: the hand-written LSTM differs from nn.LSTM by {gap}")
        compiled = torch.compile(unrolled, dynamic=False, mode=args.mode)
        for precision in precisions:
            onednn, eager, fused = (fastest_ms(_train_step(m, x, precision), args.reps)
                                    for m in (ref, unrolled, compiled))
            # ATen's bfloat16 LSTM is emulated gate by gate: float32 only
            aten = (fastest_ms(_train_step(ref, x, precision, onednn=False), args.reps)
                    if precision == "float32" else float("nan"))
            aten_ms, aten_ratio = ((f"{aten:.1f}", f"{aten / onednn:.2f}") if aten == aten
                                   else ("-", "-"))
            print(f"| {name}, {role} ({batch}) | {precision} | {onednn:.1f} | {aten_ms} "
                  f"| {eager:.1f} | {fused:.1f} | {aten_ratio} | {fused / onednn:.2f} |",
                  flush=True)

if __name__ == "__main__":
    main()
