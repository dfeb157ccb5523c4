"""A distilled scorer: a small MLP that reproduces a fitted PU-GAN's scores at a fraction of
the cost (``inversion="distilled"``).

Why: the paper's generator, a 3 x 100 LSTM run over every attribute of a record, costs
megaflops per record, and the whole encoder path (E, then G(E(x)), then D(x)) scores records
far more slowly than the other detectors, whatever the precision or batch size (measured in
docs/pugan.md). The anomaly score is, however, a smooth function of the record with few
inputs, so a 3-layer MLP of width 128 (about 35 kFLOP per record) is trained by regression to
reproduce the *teacher's* raw per-record scores, the reconstruction residual of G(E(x)) and the
discrimination loss -log D(x). It reads the record, not the teacher's internals, and scores in
one pass.

The student must agree with the teacher away from the training rows too, where anomalies lie:
:func:`distillation_inputs` adds Gaussian perturbations of the training rows at three scales and
uniform draws from their (padded) bounding box. The teacher labels every input; no anomaly label
is used. Targets are regressed as ``log(score + eps)``: residuals span orders of magnitude and
the ranking, not the absolute value, is what the detector needs.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

__all__ = ["ScoreStudent", "distillation_inputs", "train_student"]

_EPS = 1e-6


class ScoreStudent(nn.Module):
    """Scaled record (B, n_features) -> raw (rec, disc) scores, each (B,).

    Input standardisation and target de-standardisation live in buffers, so the module's
    ``state_dict`` is the whole fitted student.
    """

    def __init__(self, n_features: int, width: int = 128, depth: int = 3):
        super().__init__()
        layers, d = [], n_features
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.SiLU()]
            d = width
        layers.append(nn.Linear(d, 2))
        self.net = nn.Sequential(*layers)
        self.register_buffer("x_mean", torch.zeros(n_features))
        self.register_buffer("x_std", torch.ones(n_features))
        self.register_buffer("y_mean", torch.zeros(2))
        self.register_buffer("y_std", torch.ones(2))

    def standardised(self, x: torch.Tensor) -> torch.Tensor:
        """The network's output in standardised log-score units (what training fits)."""
        return self.net((x - self.x_mean) / self.x_std)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # float64 and a cap on the log: a record far outside the data (the MLP extrapolates
        # linearly) must get a huge but finite score, never inf, which metrics refuse
        logs = (self.standardised(x) * self.y_std + self.y_mean).double().clamp(max=700.0)
        scores = (torch.exp(logs) - _EPS).clamp_min(0.0)
        return scores[:, 0], scores[:, 1]


def distillation_inputs(Xs: np.ndarray, *, max_rows: int, rng: np.random.Generator) -> np.ndarray:
    """The records the teacher labels: up to ``max_rows`` training rows, as many again around
    and between them.

    Half of the extra rows are training rows plus Gaussian noise at 0.05, 0.2 and 0.5 column
    standard deviations (the neighbourhood of the data, where the threshold is decided); the
    other half are uniform in the training rows' bounding box padded by 10% per side (the far
    field, where anomalies are scored and which no training row covers).
    """
    n = min(len(Xs), max_rows)
    real = Xs[np.sort(rng.choice(len(Xs), n, replace=False))] if n < len(Xs) else Xs
    sd = real.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    parts = [real]
    for scale in (0.05, 0.2, 0.5):
        base = real[rng.integers(0, n, n // 6)]
        parts.append(base + rng.normal(size=base.shape) * scale * sd)
    lo, hi = real.min(0), real.max(0)
    pad = 0.1 * np.where(hi > lo, hi - lo, 1.0)
    parts.append(rng.uniform(lo - pad, hi + pad, size=(n - 3 * (n // 6), Xs.shape[1])))
    return np.concatenate(parts)


def train_student(student: ScoreStudent, X: np.ndarray, rec: np.ndarray, disc: np.ndarray, *,
                  steps: int, rng: torch.Generator, batch_size: int = 512,
                  verbose: bool = False) -> list[dict]:
    """Fit ``student`` to the teacher's raw scores (``rec``, ``disc``) of the inputs ``X``.

    Adam with a one-cycle learning rate (peak 3e-3) for ``steps`` updates, cycling through
    seeded permutations of the inputs; mean squared error on the standardised log-scores. The
    budget is in updates, not epochs: the student must resolve narrow peaks of the teacher (a
    tight cluster of identical attack records), and on a small training set 30 epochs were too
    few updates to do it (docs/pugan.md). Returns the mean loss of each pass over the inputs
    (``student_loss``), for the fit history.
    """
    y = np.log(np.stack([rec, disc], 1) + _EPS)
    with torch.no_grad():
        student.x_mean.copy_(torch.as_tensor(X.mean(0), dtype=torch.float32))
        student.x_std.copy_(torch.as_tensor(np.where(X.std(0) > 0, X.std(0), 1.0),
                                            dtype=torch.float32))
        student.y_mean.copy_(torch.as_tensor(y.mean(0), dtype=torch.float32))
        student.y_std.copy_(torch.as_tensor(np.where(y.std(0) > 0, y.std(0), 1.0),
                                            dtype=torch.float32))
    dev = student.x_mean.device  # the student's device: inputs and targets go there
    xt = torch.as_tensor(X, dtype=torch.float32, device=dev)
    yt = (torch.as_tensor(y, dtype=torch.float32, device=dev) - student.y_mean) / student.y_std
    n = len(xt)
    opt = torch.optim.Adam(student.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    history, done = [], 0
    student.train()
    bar = tqdm(total=steps, desc="PU-GAN student", disable=not verbose, leave=False)
    while done < steps:
        total, seen = 0.0, 0
        for idx in torch.randperm(n, generator=rng).to(dev).split(batch_size):
            loss = ((student.standardised(xt[idx]) - yt[idx]) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total, seen, done = total + float(loss.detach()) * len(idx), seen + len(idx), done + 1
            bar.update(1)
            if done == steps:
                break
        history.append({"student_loss": total / seen})
    bar.close()
    student.eval()
    return history
