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

    ``bounded=True`` (MAD-GAN) squashes the output into [-1, 1] with tanh, for min-max scaled
    data; ``bounded=False`` leaves it linear, for robustly standardised (unbounded) data.
    """

    def __init__(self, latent_dim: int, n_signals: int, hidden: int = 100, layers: int = 3,
                 bounded: bool = True):
        super().__init__()
        self.lstm = nn.LSTM(latent_dim, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(hidden, n_signals)
        self.bounded = bounded

    def forward(self, z: torch.Tensor) -> torch.Tensor:
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
    its latent at step t is best read from the whole sequence.
    """

    def __init__(self, n_signals: int, latent_dim: int, hidden: int = 100):
        super().__init__()
        self.lstm = nn.LSTM(n_signals, hidden, num_layers=1, batch_first=True,
                            bidirectional=True)
        self.out = nn.Linear(2 * hidden, latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(x)
        return self.out(h)
