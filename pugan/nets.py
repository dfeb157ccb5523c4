"""Stage 2 networks of PU-GAN: the MAD-GAN-style LSTM generator, discriminator and encoder.

Shapes follow MAD-GAN (Li et al. 2019): a sequence of ``T`` steps with ``n_signals`` values per
step; the generator maps one latent vector *per step* (``latent_dim`` each) through a stacked
LSTM to a sequence in [-1, 1] (tanh, matching the [-1, 1] scaling of the data); the discriminator
reads a sequence and returns one real/fake logit *per step*, so that a per-step (per-record, in
window mode) discrimination score exists. The encoder, our addition for amortised inversion,
maps a sequence back to per-step latents.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Discriminator", "Encoder", "Generator"]


class Generator(nn.Module):
    """z (B, T, latent_dim) -> x (B, T, n_signals); an LSTM of ``layers`` x ``hidden``.

    With ``seq_len`` set, a latent of one step (B, 1, latent_dim) is fed at every one of the
    ``seq_len`` steps: one latent per sequence, so the generator's output has ``latent_dim``
    degrees of freedom in all (the "record" latent of :class:`pugan.PUGAN`).

    ``bounded=True`` (MAD-GAN) squashes the output into [-1, 1] with tanh, for min-max scaled
    data; ``bounded=False`` leaves it linear, for robustly standardised (unbounded) data.
    """

    def __init__(self, latent_dim: int, n_signals: int, hidden: int = 100, layers: int = 3,
                 bounded: bool = True, seq_len: int | None = None):
        super().__init__()
        self.lstm = nn.LSTM(latent_dim, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(hidden, n_signals)
        self.bounded = bounded
        self.seq_len = seq_len

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.shape[1] == 1 and self.seq_len is not None and self.seq_len > 1:
            z = z.expand(-1, self.seq_len, -1)  # one latent per sequence, fed at every step
        h, _ = self.lstm(z)
        x = self.out(h)
        return torch.tanh(x) if self.bounded else x


class Discriminator(nn.Module):
    """x (B, T, n_signals) -> per-step real/fake logits (B, T); real (normal) is 1."""

    def __init__(self, n_signals: int, hidden: int = 100, layers: int = 1):
        super().__init__()
        self.lstm = nn.LSTM(n_signals, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(x)
        return self.out(h).squeeze(-1)


class Encoder(nn.Module):
    """x (B, T, n_signals) -> z (B, T, latent_dim): an amortised inverse of the generator.

    Bidirectional, because the generator's output at step t depends on every earlier latent and
    its latent at step t is best read from the whole sequence. ``shared=True`` averages the
    per-step codes into one latent per sequence (B, 1, latent_dim), for the "record" latent.
    """

    def __init__(self, n_signals: int, latent_dim: int, hidden: int = 100, shared: bool = False):
        super().__init__()
        self.shared = shared
        self.lstm = nn.LSTM(n_signals, hidden, num_layers=1, batch_first=True,
                            bidirectional=True)
        self.out = nn.Linear(2 * hidden, latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(x)
        z = self.out(h)
        return z.mean(1, keepdim=True) if self.shared else z
