"""Stage 2 training loops: the MAD-GAN adversarial game and the amortised encoder.

MAD-GAN's KDD settings are the starting point: per batch, one discriminator round with SGD
(lr 0.1) on real and generated sequences, then ``g_rounds`` (3) generator rounds with Adam, each
on fresh latents; both losses are per-step binary cross-entropy. Departures, all driven by two
CPU cores (see docs/pugan.md): far fewer epochs and a cap on the rows per epoch; the generator's
Adam learning rate is 1e-3 (MAD-GAN's 0.1 diverges for Adam here).

Every random draw comes from a ``torch.Generator`` seeded by the caller, so training is
deterministic on CPU for a given seed and thread count.

Speed without changing the game (docs/speed.md): the discriminator reads real and generated
sequences in one call; with the reconstruction term the generator runs the fresh latents and the
encoded real sequences in one call; the discriminator's weight gradients, which the generator's
update throws away, are not computed in the generator rounds. ``precision="bfloat16"`` runs
the networks' arithmetic in bfloat16 (torch autocast; weights, optimiser state and losses stay
float32), a higher matrix throughput than float32 on processors with native bfloat16
instructions; ``"auto"`` picks it where the device has them. It changes the arithmetic, not the
game, and left AUPRC on development seeds where it was. ``recon_rounds`` changes the game: the
reconstruction term joins only the first rounds of a batch (the adversarial rounds stay
MAD-GAN's three), a third less work that cost AUPRC at a small budget, so it is an option.
"""

from __future__ import annotations

import copy
import logging

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

__all__ = ["native_bfloat16", "resolve_precision", "train_encoder", "train_gan"]

log = logging.getLogger(__name__)


def _batches(n: int, batch_size: int, rng: torch.Generator):
    perm = torch.randperm(n, generator=rng)
    for start in range(0, n, batch_size):
        yield perm[start:start + batch_size]


PRECISIONS = ("auto", "float32", "bfloat16")


def native_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` multiplies bfloat16 matrices natively: a CUDA device that reports
    bfloat16 support, or a CPU whose oneDNN build reports it (AVX-512 BF16 or AMX). Elsewhere
    autocast emulates bfloat16, slower than float32."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(device.type == "cpu" and torch.backends.mkldnn.is_available()
                and check is not None and check())


def resolve_precision(precision: str, device: torch.device) -> str:
    """``precision`` with ``"auto"`` resolved: bfloat16 where the device has native bfloat16
    products (:func:`native_bfloat16`), else float32."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}; got {precision!r}")
    if precision == "auto":
        return "bfloat16" if native_bfloat16(device) else "float32"
    return precision


def autocast(device: torch.device, precision: str):
    """The autocast context of ``precision`` on ``device`` (disabled for float32)."""
    precision = resolve_precision(precision, device)
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16")


def _latent_steps(G, data: torch.Tensor) -> int:
    """Steps of one latent draw: 1 when the generator repeats one latent per sequence (its
    ``seq_len`` is set: PUGAN's record latent), else one per sequence step (MAD-GAN)."""
    return 1 if getattr(G, "seq_len", None) else data.shape[1]


def train_gan(G, D, data: torch.Tensor, *, n_epochs: int, batch_size: int, latent_dim: int,
              rng: torch.Generator, d_optimizer: str = "sgd", d_lr: float | None = None,
              g_lr: float = 1e-3, g_rounds: int = 3, d_rounds: int = 1, E=None,
              recon_weight: float = 0.0, recon_rounds: int | None = None,
              precision: str = "float32",
              val: torch.Tensor | None = None, patience: int | None = None,
              tol: float = 1e-3, verbose: bool = False) -> list[dict]:
    """Train generator ``G`` and discriminator ``D`` on ``data`` (N, T, n_signals) in [-1, 1].

    ``d_optimizer``: "sgd" (MAD-GAN, lr 0.1) or "adam" (lr 1e-3); ``d_lr`` overrides the lr.
    ``recon_rounds``: the reconstruction term joins the first ``recon_rounds`` of the
    ``g_rounds`` generator rounds of each batch (``None``: every round).
    ``precision``: "float32", "bfloat16" (autocast arithmetic, float32 weights) or "auto"
    (:func:`resolve_precision`).
    ``val`` and ``patience`` (label-free early stopping, needs the joint encoder ``E``): after
    each epoch the reconstruction MSE of ``G(E(val))`` on held-out normal sequences is
    recorded (``val_recon``); training stops once it has not improved by a relative ``tol``
    for ``patience`` epochs, and G, D and E go back to the weights of the best epoch.
    Returns one dict of mean losses per epoch (``d_loss``, ``g_loss``), for the fit history.
    """
    device = data.device
    if d_optimizer == "sgd":
        d_opt = torch.optim.SGD(D.parameters(), lr=0.1 if d_lr is None else d_lr)
    elif d_optimizer == "adam":
        d_opt = torch.optim.Adam(D.parameters(), lr=1e-3 if d_lr is None else d_lr, fused=True)
    else:
        raise ValueError(f"d_optimizer must be 'sgd' or 'adam'; got {d_optimizer!r}")
    joint = E is not None and recon_weight > 0
    g_params = list(G.parameters()) + (list(E.parameters()) if joint else [])
    g_opt = torch.optim.Adam(g_params, lr=g_lr, fused=True)  # one kernel for all tensors
    n, T = data.shape[0], _latent_steps(G, data)
    cast = autocast(device, precision)
    stopping = val is not None and patience is not None
    if stopping and not joint:
        raise ValueError("early stopping reads G(E(x)): it needs E and recon_weight > 0")
    best, best_state, stale = float("inf"), None, 0
    history = []
    bar = tqdm(range(n_epochs), desc="PU-GAN epochs", disable=not verbose, leave=False)
    for epoch in bar:
        G.train()
        D.train()
        if joint:
            E.train()
        d_sum = g_sum = 0.0
        n_batches = 0
        for idx in _batches(n, batch_size, rng):
            real = data[idx]
            b = real.shape[0]
            for _ in range(d_rounds):
                z = torch.randn(b, T, latent_dim, generator=rng).to(device)
                with cast:
                    with torch.no_grad():
                        fake = G(z)
                    # one D call on real and generated sequences together
                    both = D(torch.cat([real, fake.to(real.dtype)])).float()
                logit_real, logit_fake = both.split(b)
                bce = F.binary_cross_entropy_with_logits
                d_loss = (bce(logit_real, torch.ones_like(logit_real))
                          + bce(logit_fake, torch.zeros_like(logit_fake)))
                d_opt.zero_grad(set_to_none=True)
                d_loss.backward()
                d_opt.step()
            D.requires_grad_(False)  # G's update needs D's input gradients, not its weights'
            for g_round in range(g_rounds):
                z = torch.randn(b, T, latent_dim, generator=rng).to(device)
                with_recon = joint and (recon_rounds is None or g_round < recon_rounds)
                with cast:
                    if with_recon:  # G on the fresh latents and on the encoded real ones in one call
                        fake, recon = G(torch.cat([z, E(real).to(z.dtype)])).float().split(b)
                    else:
                        fake = G(z).float()
                    logit_fake = D(fake).float()
                g_loss = F.binary_cross_entropy_with_logits(logit_fake,
                                                            torch.ones_like(logit_fake))
                loss = g_loss
                if with_recon:
                    loss = g_loss + recon_weight * F.mse_loss(recon, real)
                g_opt.zero_grad(set_to_none=True)
                loss.backward()
                g_opt.step()
            D.requires_grad_(True)
            d_sum += d_loss.item()
            g_sum += g_loss.item()
            n_batches += 1
        rec = {"epoch": epoch, "d_loss": d_sum / n_batches, "g_loss": g_sum / n_batches}
        history.append(rec)
        if stopping:
            with torch.no_grad():
                rec["val_recon"] = F.mse_loss(G(E(val)), val).item()
            if rec["val_recon"] < best * (1 - tol):
                best, stale = rec["val_recon"], 0
                best_state = [copy.deepcopy(m.state_dict()) for m in (G, D, E)]
            else:
                stale += 1
            if stale >= patience:
                log.debug("GAN stopped after epoch %d: held-out reconstruction %.5f, best %.5f",
                          epoch, rec["val_recon"], best)
                break
        bar.set_postfix(d=f"{rec['d_loss']:.3f}", g=f"{rec['g_loss']:.3f}")
        log.debug("GAN epoch %d: d_loss %.4f g_loss %.4f", epoch, rec["d_loss"], rec["g_loss"])
    if stopping and stale and best_state is not None:
        # the last epoch was not the best, whether the rule fired or the epochs ran out
        for m, state in zip((G, D, E), best_state, strict=True):
            m.load_state_dict(state)
    G.eval()
    D.eval()
    if joint:
        E.eval()
    return history


def train_encoder(E, G, data: torch.Tensor, *, n_epochs: int, batch_size: int, latent_dim: int,
                  rng: torch.Generator, lr: float = 1e-3, cycle_weight: float = 0.1,
                  precision: str = "float32", verbose: bool = False) -> list[dict]:
    """Train encoder ``E`` so that ``G(E(x))`` reconstructs ``x``; ``G`` stays frozen.

    Loss: reconstruction MSE on real normal sequences, plus ``cycle_weight`` times the latent
    cycle MSE ``|E(G(z)) - z|^2`` on generated ones, which keeps the codes near the prior the
    generator was trained on (so that inversion starts from a latent G has seen).
    """
    for p in G.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(E.parameters(), lr=lr, fused=True)
    n, T = data.shape[0], _latent_steps(G, data)
    cast = autocast(data.device, precision)
    history = []
    bar = tqdm(range(n_epochs), desc="PU-GAN encoder", disable=not verbose, leave=False)
    try:
        for epoch in bar:
            E.train()
            tot = 0.0
            nb = 0
            for idx in _batches(n, batch_size, rng):
                real = data[idx]
                z = torch.randn(real.shape[0], T, latent_dim, generator=rng).to(data.device)
                with cast:
                    with torch.no_grad():
                        fake = G(z)
                    # one E call on real and generated sequences together
                    z_real, z_fake = E(torch.cat([real, fake.to(real.dtype)])).split(
                        real.shape[0])
                    recon = G(z_real).float()
                loss = F.mse_loss(recon, real) + cycle_weight * F.mse_loss(z_fake.float(), z)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                tot += loss.item()
                nb += 1
            history.append({"epoch": epoch, "e_loss": tot / nb})
            bar.set_postfix(e=f"{tot / nb:.4f}")
    finally:
        for p in G.parameters():
            p.requires_grad_(True)
    E.eval()
    return history
