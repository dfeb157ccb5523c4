"""Stage 3 of PU-GAN: map records back to latent space and score them.

Two inversions:

* ``"encoder"``: one pass of the amortised encoder, ``z = E(x)``.
* ``"gradient"``: MAD-GAN's search for the latent whose generation is closest to ``x``, by
  RMSProp (lr 0.1) on ``z``, but *batched* with *per-sample early stopping*, and started from
  ``E(x)`` rather than from noise. MAD-GAN inverts one window at a time for up to 1000 steps
  (days on KDD). Here a sample leaves the active batch as soon as (a) its residual is at or
  below ``stop_level`` (a residual already typical of training normals: more search cannot
  make it more normal-looking, so it cannot change the ranking near the threshold), or (b) it
  has not improved by a relative ``tol`` for ``patience`` steps, or (c) after ``max_steps``.
  The best latent seen is kept per sample. Training normals are scored by the same procedure,
  so the normalisation and the threshold see exactly what test records see.

Scores per sequence step (a record in window mode, an attribute in feature mode):

* reconstruction residual: squared error between ``x`` and ``G(z*)`` at that step;
* discrimination: ``-log D(x)`` at that step (softplus of minus the logit): high when the
  discriminator thinks ``x`` is not a real (normal) sequence.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["invert_and_score"]


def _residual(x: torch.Tensor, xh: torch.Tensor) -> torch.Tensor:
    """Per-step squared error, summed over signals: (B, T)."""
    return ((x - xh) ** 2).sum(-1)


def _gradient_refine(G, x, z0, res0, *, stop_level, max_steps, lr, tol, patience):
    """Refine latents of the batch ``x`` from ``z0``; returns the best per-step residual."""
    best_res_seq = res0.clone()
    best = res0.mean(1)
    active = torch.nonzero(best > stop_level).squeeze(1)
    if active.numel() == 0 or max_steps <= 0:
        return best_res_seq
    z = z0[active].clone().requires_grad_(True)
    xa = x[active]
    opt = torch.optim.RMSprop([z], lr=lr)
    stall = torch.zeros(active.numel(), dtype=torch.long, device=x.device)
    a_best = best[active].clone()
    for _ in range(max_steps):
        r_seq = _residual(xa, G(z))
        r = r_seq.mean(1)
        opt.zero_grad(set_to_none=True)
        r.sum().backward()  # per-sample losses are independent: one backward for all
        opt.step()
        with torch.no_grad():
            improved = r < a_best * (1 - tol)
            better = r < a_best
            a_best = torch.where(better, r.detach(), a_best)
            idx = active[better]
            best_res_seq[idx] = r_seq.detach()[better]
            stall = torch.where(improved, torch.zeros_like(stall), stall + 1)
            keep = (a_best > stop_level) & (stall < patience)
        if not bool(keep.any()):
            break
        if not bool(keep.all()):  # shrink the active batch: stopped samples cost nothing more
            sel = torch.nonzero(keep).squeeze(1)
            active, a_best, stall, xa = active[sel], a_best[sel], stall[sel], xa[sel]
            state = opt.state[z]
            z = z.detach()[sel].clone().requires_grad_(True)
            new_opt = torch.optim.RMSprop([z], lr=lr)
            if state:
                new_opt.state[z] = {k: (v[sel].clone() if torch.is_tensor(v) and v.dim() else v)
                                    for k, v in state.items()}
            opt = new_opt
    return best_res_seq


def invert_and_score(G, D, E, seqs: torch.Tensor, *, inversion: str, batch_size: int = 8192,
                     stop_level: float = 0.0, max_steps: int = 50, lr: float = 0.1,
                     tol: float = 1e-3, patience: int = 5):
    """Per-step reconstruction and discrimination scores of ``seqs`` (N, T, n_signals).

    Parameters
    ----------
    G, D, E : fitted generator, discriminator, encoder (eval mode).
    seqs : float tensor in the generator's [-1, 1] scale.
    inversion : "encoder" or "gradient" (encoder start + early-stopped RMSProp refinement).
    stop_level : a sample whose mean residual is at or below it needs no search.
    max_steps, lr, tol, patience : the gradient search budget and early-stopping rule.

    Returns
    -------
    rec, disc : tensors of shape (N, T).
    """
    rec_out = torch.empty(seqs.shape[0], seqs.shape[1])
    disc_out = torch.empty(seqs.shape[0], seqs.shape[1])
    for start in range(0, seqs.shape[0], batch_size):
        x = seqs[start:start + batch_size]
        with torch.no_grad():
            z0 = E(x)
            res0 = _residual(x, G(z0))
            disc = F.softplus(-D(x))
        if inversion == "gradient":
            with torch.enable_grad():
                res = _gradient_refine(G, x, z0, res0, stop_level=stop_level,
                                       max_steps=max_steps, lr=lr, tol=tol, patience=patience)
        else:
            res = res0
        rec_out[start:start + x.shape[0]] = res.cpu()
        disc_out[start:start + x.shape[0]] = disc.cpu()
    return rec_out, disc_out
