"""PU-GAN, the detector users see: stage 1 (PU bagging) -> stage 2 (LSTM GAN) -> stage 3 (score).

1. PU bagging on P (known normals) vs U picks *reliable normals* from U (``train_on="pu"``);
   the ablations train the GAN on P alone (``"p"``) or on every training row (``"all"``).
2. A MAD-GAN-style LSTM GAN learns the normal records, each record a sequence (its attributes
   as steps by default; a window of consecutive records with ``window=w``).
3. Each record is mapped back to latent space (gradient search or encoder), and its
   reconstruction residual and discrimination loss are combined with weight ``lam``.

See docs/pugan.md for the design choices, defaults and measured numbers.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import numbers
import os
import re
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import torch
from scipy.stats import spearmanr
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, check_random_state

from pugan.base import (
    MAX_SEED,
    AnomalyDetectorMixin,
    check_features,
    check_known_normal,
    labels_at_threshold,
    quantile_threshold,
)
from pugan.distill import ScoreStudent, distillation_inputs, train_student
from pugan.inversion import invert_and_score
from pugan.nets import Discriminator, Encoder, Generator
from pugan.pu_bagging import PUBaggingClassifier, select_reliable
from pugan.train import PRECISIONS, resolve_precision, train_encoder, train_gan

__all__ = ["PUGAN", "Networks", "ScoreComponents"]

log = logging.getLogger(__name__)

_TRAIN_ON = ("pu", "p", "all")
_SCORES = ("combined", "reconstruction", "discrimination")
_INVERSIONS = ("gradient", "encoder", "distilled")
#: save/load file format; fitted attributes are found by name (ending in "_"), not listed
_FORMAT = "pugan-4"
#: formats earlier versions wrote, whose parameters or attributes this version reads otherwise
#: (the last of them had no digest of its contents)
_OLD_FORMATS = ("pugan-1", "pugan-2", "pugan-3")
_NOT_SAVED = ("pu_classifier_",)
#: the parameters that turn a fitted model's networks into scores; the training rows' scores,
#: computed on first read, use their values at fit, as the threshold did
_SCORING_PARAMS = ("score", "lam", "inversion", "inversion_steps")
#: MAD-GAN's stride between windows
_WINDOW_STEP = 10
#: what to do when fewer records than a window are given to score
_SCORE_TOGETHER = " (score at least that many records together)"


class ScoreComponents(NamedTuple):
    """Per-record terms of PU-GAN's anomaly score, each standardised by its median and IQR on
    the GAN's training normals: the reconstruction residual, the discrimination loss, and
    their mix ``lam * reconstruction + (1 - lam) * discrimination``."""

    reconstruction: np.ndarray
    discrimination: np.ndarray
    combined: np.ndarray


class Networks(NamedTuple):
    """PU-GAN's three networks and the latent size they were built for."""

    generator: Generator
    discriminator: Discriminator
    encoder: Encoder
    latent_dim: int


@contextmanager
def _torch_threads(n: int):
    """Set torch's intra-op threads for the duration of a call, then restore them."""
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _plain(value) -> bool:
    """Whether ``value`` is a number, string, None, or a list, tuple or str-keyed dict of
    such: what a PUGAN file stores as it is (and ``weights_only`` loading accepts)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _robust_scale(values: np.ndarray) -> tuple[float, float]:
    """Median and interquartile range (std, then 1, if the IQR is 0)."""
    center = float(np.median(values))
    q75, q25 = np.percentile(values, [75, 25])
    scale = float(q75 - q25)
    if not scale > 0:
        scale = float(np.std(values))
    if not scale > 0:
        scale = 1.0
    return center, scale


def _refuse_non_finite(scores: np.ndarray, Xs: np.ndarray,
                       rows: np.ndarray | None = None) -> None:
    """A ValueError naming the first record of scaled records ``Xs`` whose score is not
    finite: the networks compute in float32, so a record far outside the training rows'
    scale overflows (its residual squared), and a silent infinity would be ranked,
    thresholded and reported as a score. ``rows``: the caller's row numbers of ``Xs``'s
    records where they are a subset of its input (fit scores the known normals alone)."""
    bad = np.flatnonzero(~np.isfinite(scores))
    if len(bad):
        first = int(bad[0])
        row = first if rows is None else int(rows[first])
        raise ValueError(
            f"{len(bad)} record(s) got a non-finite anomaly score (first: row {row}, "
            f"largest attribute {float(np.max(np.abs(Xs[first]))):.3g} after the training "
            "rows' scaling): PU-GAN computes in float32, whose range such records leave")


def _check_device(device) -> None:
    """Refuse a device PU-GAN cannot run on here, by name: not 'cpu' or 'cuda[:n]', or CUDA
    asked for where torch has none, or a GPU index the machine does not have."""
    dev = str(device)
    if not (dev == "cpu" or dev == "cuda" or re.fullmatch(r"cuda:\d+", dev)):
        raise ValueError(f"device must be 'cpu' or 'cuda[:n]'; got {device!r}")
    if dev.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available")
    if dev.startswith("cuda:") and int(dev.split(":")[1]) >= torch.cuda.device_count():
        raise ValueError(f"device={device!r}: this machine has {torch.cuda.device_count()} "
                         "CUDA device(s)")


def _read_torch_file(source, path) -> object:
    """``torch.load`` of ``source`` (a path or a buffer) with tensors and plain values only,
    onto the CPU; any failure but a missing file is a ValueError naming ``path``."""
    try:
        return torch.load(source, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # zip, pickle and torch errors alike
        raise ValueError(f"{path} is not a readable PUGAN file (truncated, damaged or "
                         f"another format): {type(exc).__name__}: {exc}") from None


def _refuse_past_float32(X: np.ndarray) -> None:
    """Stage 1's trees read the raw records in float32 (scikit-learn's), so a value past its
    range is named here by column rather than by scikit-learn's message for the whole X."""
    past = np.abs(X) > np.finfo(np.float32).max
    if past.any():
        row, col = np.argwhere(past)[0]
        raise ValueError(f"column {col} of X holds {int(past[:, col].sum())} value(s) past "
                         f"float32's range (first at row {row}: {X[row, col]:g}), which stage "
                         "1's classifier reads in; rescale the column")


class PUGAN(AnomalyDetectorMixin, BaseEstimator):
    """PU-GAN: PU bagging, an LSTM GAN on the reliable normals, and latent-inversion scores.

    Parameters
    ----------
    n_bags : int, default=50
        PU-bagging rounds (stage 1); the ``pu-bagging`` detector's default too, so stage 1 inside
        PU-GAN and stage 1 alone are the same ensemble.
    reliable_quantile : float, default=0.05
        A U record is a reliable normal when its OOB score is at least this quantile of the known
        normals' out-of-bag scores (:func:`pugan.pu_bagging.select_reliable`).
    window : int or None, default=None
        ``None``: a record is a sequence of its attributes (``seq_len = n_features``, one signal
        per step), so every record is scored on its own. An int ``w``: windows of ``w``
        consecutive records (MAD-GAN's way, ``n_features`` signals per step); a record's score
        is the mean of its own step's scores over the windows that contain it.
    window_step : int or None, default=None
        Stride between windows: ``None`` is MAD-GAN's 10, or the window when it is shorter; a
        stride longer than ``window`` is refused (records between windows would go unscored).
        Scoring adds a last window so every row is covered.
    latent : {"record", "step"}, default="record"
        ``"step"`` (MAD-GAN): a fresh latent of ``latent_dim`` at every sequence step.
        ``"record"``: one latent of ``latent_dim`` per sequence, fed at every step, so a
        generated record has only ``latent_dim`` degrees of freedom; with ``latent_dim`` below
        the number of attributes the generator cannot reproduce an arbitrary record, and the
        reconstruction residual measures the distance to the learnt normal manifold.
    latent_dim : int or "auto", default="auto"
        Latent size (per step or per sequence). "auto": half the values of a sequence (at least
        1) with ``latent="record"``; MAD-GAN's 15 with ``latent="step"``. Resolved in
        ``latent_dim_``.
    hidden, g_layers, d_layers : int, defaults 100, 3, 1
        MAD-GAN's KDD architecture (and the paper's): LSTM width, generator and
        discriminator depth.
    n_epochs : int, default=10
        GAN epochs over (at most ``max_gan_rows``) training sequences. MAD-GAN used 100.
    batch_size : int, default=128
        MAD-GAN used 500; with few epochs, smaller batches give the GAN more updates for the
        same CPU time, which the reconstruction term needed (docs/notes.md).
    max_gan_rows : int or None, default=8000
        Sequences per GAN epoch, a seeded subsample of the GAN training set, so that the GAN's
        cost does not grow with the training set; ``None`` uses every sequence.
    g_rounds : int, default=3
        Generator updates per discriminator update (MAD-GAN: 3).
    recon_weight : float >= 0, default=1.0
        Weight of the reconstruction loss MSE(G(E(x)), x) added to the generator's adversarial
        loss, the encoder trained jointly with G. 0 is MAD-GAN's pure adversarial game, which
        left the generator collapsed onto a few points on moons (docs/pugan.md).
    recon_rounds : int or None, default=None
        How many of a batch's ``g_rounds`` generator rounds add the reconstruction loss (the
        first ones; ``None``: all of them). One cuts the GAN's work per batch by a third, but
        at a small budget (4 epochs of 3,000 rows) it cost moons-paper a tenth of its AUPRC on
        development seeds, so it is not the default (docs/speed.md).
    d_optimizer : {"sgd", "adam"}, default="sgd"
        Discriminator optimiser: MAD-GAN's SGD (lr 0.1) or Adam (lr 1e-3).
    encoder_epochs : int or None, default=None
        Epochs of the amortised encoder (``None``: ``n_epochs``).
    lam : float in [0, 1], default=0.8
        Weight of the reconstruction term in the combined score (MAD-GAN: 0.8). Both terms are
        first standardised by their median and IQR on the GAN's training normals, so ``lam`` is
        a weight between comparable quantities.
    threshold_quantile : float, default=0.99
        ``threshold_`` is this quantile of the known normals' scores.
    inversion : {"gradient", "encoder", "distilled"}, default="gradient"
        ``"gradient"``: encoder start + batched, per-sample early-stopped RMSProp search;
        ``"encoder"``: the encoder's latent alone; ``"distilled"``: a small MLP trained at fit
        to reproduce the encoder path's scores (:mod:`pugan.distill`; many times the encoder's
        speed, with ``student_fidelity_`` reporting how closely it ranks like its teacher).
        Needs ``window=None``.
    student_steps : int, default=5000
        Adam updates of the distilled scorer (only with ``inversion="distilled"``).
    early_stopping : int or None, default=None
        ``None``: the GAN trains ``n_epochs`` (the paper). An int ``k`` (label-free early
        stopping, ``window=None``): known normals outside the GAN's training sample (or, when
        every known normal is in it, a seeded tenth of them, then left out of it; at most
        2,000) are held out, the GAN stops once their reconstruction ``G(E(x))`` has not
        improved for ``k`` epochs and keeps its best epoch's weights; the encoder then trains
        as many epochs as the GAN did (unless ``encoder_epochs`` is set). No anomaly label is
        read. Measured in docs/speed.md.
    max_seq_len : int or None, default=None
        ``None``: one attribute per LSTM step (the paper), so a fit's cost grows with the
        number of attributes. An int ``m`` (with ``window=None``): a record of more than ``m``
        attributes is cut into at most ``m`` steps of ``ceil(n_features / m)`` consecutive
        attributes each (the last step padded with zeros), which bounds the cost per record;
        a departure from the paper, measured in docs/speed.md.
    inversion_steps : int, default=30
        Upper bound on gradient steps per record.
    stop_quantile : float, default=0.99
        Records whose starting residual is at or below this quantile of the training normals'
        residuals skip the gradient search (they already look normal).
    train_on : {"pu", "p", "all"}, default="pu"
        GAN training set: P plus reliable normals from stage 1; P only; or every training row.
    score : {"combined", "reconstruction", "discrimination"}, default="combined"
    scaling : {"minmax", "robust"}, default="minmax"
        How records are scaled for the GAN, fitted on the known normals. ``"minmax"``
        (MAD-GAN): each column onto [-1, 1], tanh generator output. ``"robust"``: median and
        IQR, linear generator output; keeps the bulk of heavy-tailed columns (KDD's PCA
        signals) from being squeezed into a sliver of [-1, 1] by a few far-out normals.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Arithmetic of the GAN's and the encoder's training (:mod:`pugan.train`): ``"bfloat16"``
        runs the networks under bfloat16 autocast (weights, optimiser state and losses stay
        float32), faster on processors with native bfloat16 instructions and much slower on
        those without; ``"auto"`` picks bfloat16 where the device has them and float32 elsewhere
        (``precision_`` records the choice). Scoring is always float32. Measured in
        docs/speed.md.
    device : str, default="cpu"
        ``"cuda"`` (or ``"cuda:n"``) when asked and available: training, inversion and scoring
        run there; fitted attributes and scores come back as numpy arrays.
    n_jobs : int or None, default=1
        Torch threads (``None``: 1; ``-1``: all cores) and PU-bagging workers.
    verbose : bool, default=False
        tqdm progress bars for the epochs.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    decision_scores_, threshold_, labels_, n_features_in_ : the detector contract. With
        ``window=None`` the training rows' scores are computed on first read of
        ``decision_scores_`` (or ``labels_``), not during fit: the threshold needs the known
        normals' scores only, and a benchmark cell never reads the rest.
    generator_, discriminator_, encoder_ : the fitted torch modules.
    history_ : list of dicts, per-epoch losses.
    n_gan_rows_ : rows the GAN training set held; n_reliable_ : of which reliable U normals.
    p_held_out_ : bool, True when no known normal was in the GAN's training sample (the
        reliable normals filled ``max_gan_rows``), so the threshold rests on held-out scores.
    precision_ : str, the training arithmetic ``precision`` resolved to on the fit's device.
    student_ : the distilled scorer (``inversion="distilled"``), else None.
    student_fidelity_ : float, Spearman correlation between the student's and its teacher's
        combined scores on a tenth of the distillation inputs held out of its training (NaN
        without a student). Computed from the teacher alone: no label is involved.
    """

    def __init__(self, *, n_bags=50, reliable_quantile=0.05, window=None, window_step=None,
                 latent="record", latent_dim="auto", hidden=100, g_layers=3, d_layers=1,
                 n_epochs=10, batch_size=128,
                 max_gan_rows=8000, g_rounds=3, recon_weight=1.0, recon_rounds=None,
                 d_optimizer="sgd",
                 encoder_epochs=None, lam=0.8,
                 threshold_quantile=0.99, inversion="gradient", student_steps=5000,
                 inversion_steps=30, max_seq_len=None, early_stopping=None,
                 stop_quantile=0.99, train_on="pu", score="combined", scaling="minmax",
                 precision="auto", device="cpu", n_jobs=1, verbose=False, random_state=None):
        self.n_bags = n_bags
        self.reliable_quantile = reliable_quantile
        self.window = window
        self.window_step = window_step
        self.latent = latent
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.g_layers = g_layers
        self.d_layers = d_layers
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.max_gan_rows = max_gan_rows
        self.g_rounds = g_rounds
        self.recon_weight = recon_weight
        self.recon_rounds = recon_rounds
        self.d_optimizer = d_optimizer
        self.encoder_epochs = encoder_epochs
        self.lam = lam
        self.threshold_quantile = threshold_quantile
        self.inversion = inversion
        self.student_steps = student_steps
        self.inversion_steps = inversion_steps
        self.max_seq_len = max_seq_len
        self.early_stopping = early_stopping
        self.stop_quantile = stop_quantile
        self.train_on = train_on
        self.score = score
        self.scaling = scaling
        self.precision = precision
        self.device = device
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ validation
    def _window_step(self) -> int:
        """The stride between windows (``window_step``, or its default)."""
        if self.window_step is None:
            return min(_WINDOW_STEP, self.window)
        return self.window_step

    def _check_params(self):
        def pos_int(name, allow_none=False, minimum=1):
            v = getattr(self, name)
            if v is None and allow_none:
                return
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}"
                                 f"{' or None' if allow_none else ''}; got {v!r}")

        if self.latent_dim != "auto":
            pos_int("latent_dim")
        for name in ("n_bags", "hidden", "g_layers", "d_layers", "n_epochs",
                     "batch_size", "g_rounds"):
            pos_int(name)
        pos_int("window", allow_none=True, minimum=2)
        pos_int("window_step", allow_none=True)
        if self.window is None and self.window_step is not None:
            raise ValueError(f"window_step={self.window_step!r} is the stride between windows: "
                             "it needs window set (window=None scores records one by one)")
        if (self.window is not None and self.window_step is not None
                and self.window_step > self.window):
            raise ValueError(f"window_step ({self.window_step}) must be at most window "
                             f"({self.window}): a longer stride leaves records between the "
                             "windows that no window scores")
        pos_int("max_gan_rows", allow_none=True)
        pos_int("recon_rounds", allow_none=True)
        pos_int("encoder_epochs", allow_none=True, minimum=0)
        pos_int("inversion_steps", minimum=0)
        pos_int("max_seq_len", allow_none=True)
        if self.max_seq_len is not None and self.window is not None:
            raise ValueError(f"max_seq_len={self.max_seq_len!r} groups a record's attributes "
                             "into steps: it needs window=None (a window's steps are records)")
        pos_int("early_stopping", allow_none=True)
        if self.early_stopping is not None and (self.window is not None
                                                or not self.recon_weight > 0):
            raise ValueError("early_stopping reads the reconstruction G(E(x)) of held-out "
                             "records: it needs window=None and recon_weight > 0")
        pos_int("student_steps")
        rw = self.recon_weight
        if (isinstance(rw, bool) or not isinstance(rw, numbers.Real) or not rw >= 0
                or not math.isfinite(rw)):
            raise ValueError(f"recon_weight must be a finite number >= 0; got {rw!r}")
        for name, lo, hi in (("lam", 0.0, 1.0), ("reliable_quantile", 0.0, 1.0),
                             ("stop_quantile", 0.0, 1.0)):
            v = getattr(self, name)
            if not isinstance(v, numbers.Real) or not lo <= v <= hi:
                raise ValueError(f"{name} must be a number in [{lo}, {hi}]; got {v!r}")
        q = self.threshold_quantile
        if not isinstance(q, numbers.Real) or not 0.0 < q <= 1.0:
            raise ValueError(f"threshold_quantile must be in (0, 1]; got {q!r}")
        for name, allowed in (("train_on", _TRAIN_ON), ("score", _SCORES),
                              ("inversion", _INVERSIONS), ("scaling", ("minmax", "robust")),
                              ("precision", PRECISIONS),
                              ("d_optimizer", ("sgd", "adam")), ("latent", ("step", "record"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}; got {getattr(self, name)!r}")
        if self.inversion == "distilled" and self.window is not None:
            raise ValueError("inversion='distilled' scores one record at a time and needs "
                             f"window=None; got window={self.window!r}")
        _check_device(self.device)
        if self.n_jobs is not None and (not isinstance(self.n_jobs, numbers.Integral)
                                        or self.n_jobs == 0 or self.n_jobs < -1):
            raise ValueError(f"n_jobs must be a positive integer, -1 or None; got {self.n_jobs!r}")

    def _threads(self) -> int:
        if self.n_jobs is None:
            return 1
        if self.n_jobs == -1:
            return os.cpu_count() or 1
        return int(self.n_jobs)

    # ------------------------------------------------------------------ sequences
    def _scale(self, X: np.ndarray) -> np.ndarray:
        return (X - self.scale_center_) / self.scale_width_

    def _window_starts(self, n: int) -> np.ndarray:
        w = self.window
        starts = np.arange(0, max(n - w, 0) + 1, self._window_step())
        if starts[-1] != max(n - w, 0):
            starts = np.append(starts, max(n - w, 0))  # cover the last rows too
        return starts

    @staticmethod
    def _held_out_normals(pool, mask, torch_rng):
        """(training pool, held-out known normals) for early stopping: the known normals
        outside the pool, else a seeded tenth of those inside it (then removed from it)."""
        out = np.setdiff1d(np.flatnonzero(mask), pool)
        if len(out) == 0:
            inside = pool[mask[pool]]
            if len(inside) < 2:
                return pool, out  # nothing to spare: no early stopping
            pick = torch.randperm(len(inside), generator=torch_rng)[:max(1, len(inside) // 10)]
            out = np.sort(inside[pick.numpy()])
            pool = np.setdiff1d(pool, out)
        if len(out) > 2000:
            out = out[torch.randperm(len(out), generator=torch_rng)[:2000].sort().values.numpy()]
        return pool, out

    def _step_attributes(self, n_features: int) -> int:
        """Attributes per LSTM step of a record: 1 (the paper), or with ``max_seq_len`` set and
        more attributes than it, the fewest per step that keep the sequence within it."""
        if self.max_seq_len is None or n_features <= self.max_seq_len:
            return 1
        return -(-n_features // self.max_seq_len)

    def _sequences(self, Xs: np.ndarray):
        """(seqs (N, T, S) float32 tensor, row index (N, T) of each step, or None)."""
        if self.window is None:
            g = self._step_attributes(Xs.shape[1])
            if g == 1:
                return torch.from_numpy(Xs[:, :, None].astype(np.float32)), None
            # consecutive attributes share a step; the last step is padded with zeros (the
            # middle of the scaled range), the same for every record
            steps = -(-Xs.shape[1] // g)
            padded = np.zeros((Xs.shape[0], steps * g), dtype=np.float32)
            padded[:, :Xs.shape[1]] = Xs
            return torch.from_numpy(padded.reshape(Xs.shape[0], steps, g)), None
        n, w = Xs.shape[0], self.window
        starts = self._window_starts(n)
        rows = (starts[:, None] + np.arange(w)[None, :]) % n  # wrap when n < w
        return torch.from_numpy(Xs[rows].astype(np.float32)), rows

    def _raw_record_scores(self, Xs: np.ndarray, *, inversion=None, stop_level=None,
                           max_steps=None):
        """Per-record (rec, disc) of scaled records, before standardisation (``inversion``
        and ``max_steps`` default to the parameters ``inversion`` and ``inversion_steps``)."""
        if (inversion or self.inversion) == "distilled":
            return self._student_scores(Xs)
        seqs, rows = self._sequences(Xs)
        dev = torch.device(self.device)
        rec, disc = invert_and_score(
            self.generator_, self.discriminator_, self.encoder_, seqs.to(dev),
            inversion=inversion or self.inversion,
            stop_level=self.stop_level_ if stop_level is None else stop_level,
            max_steps=self.inversion_steps if max_steps is None else max_steps)
        rec, disc = rec.numpy().astype(np.float64), disc.numpy().astype(np.float64)
        if rows is None:
            return rec.mean(1), disc.mean(1)
        n = Xs.shape[0]
        count = np.bincount(rows.ravel(), minlength=n).astype(np.float64)
        r = np.bincount(rows.ravel(), weights=rec.ravel(), minlength=n) / count
        d = np.bincount(rows.ravel(), weights=disc.ravel(), minlength=n) / count
        return r, d

    def _student_scores(self, Xs: np.ndarray, batch_size: int = 65536):
        """Per-record (rec, disc) of scaled records from the distilled scorer, in batches."""
        if self.student_ is None:
            raise ValueError("this detector has no distilled scorer: fit it with "
                             "inversion='distilled'")
        dev = torch.device(self.device)
        rec, disc = np.empty(len(Xs)), np.empty(len(Xs))
        with torch.no_grad():
            for start in range(0, len(Xs), batch_size):
                x = torch.as_tensor(Xs[start:start + batch_size], dtype=torch.float32, device=dev)
                r, d = self.student_(x)
                rec[start:start + len(x)] = r.cpu().numpy()
                disc[start:start + len(x)] = d.cpu().numpy()
        return rec, disc

    def _standardise(self, rec: np.ndarray, disc: np.ndarray, lam=None) -> ScoreComponents:
        """Both terms on the training normals' median / IQR scale, and their mix by ``lam``
        (default: the parameter)."""
        lam = self.lam if lam is None else lam
        r = (rec - self.rec_center_) / self.rec_scale_
        d = (disc - self.disc_center_) / self.disc_scale_
        return ScoreComponents(r, d, lam * r + (1.0 - lam) * d)

    def _resolve_latent_dim(self, seq_len: int, n_signals: int, n_features: int) -> int:
        """``latent_dim``, or for "auto": half a record's values (at least 1) with the record
        latent, a bottleneck (moons: 1, KDD's 6 PCA attributes: 3); MAD-GAN's 15 per step."""
        if self.latent_dim != "auto":
            return int(self.latent_dim)
        if self.latent == "record":
            values = n_features if self.window is None else seq_len * n_signals
            return max(1, values // 2)
        return 15

    # ------------------------------------------------------------------ public building blocks
    def scale_records(self, X) -> np.ndarray:
        """Records as the GAN sees them: each column scaled by the fit's known normals
        (onto [-1, 1] with ``scaling="minmax"``)."""
        check_is_fitted(self, "scale_center_")
        X = check_features(X, n_features=self.n_features_in_)
        return self._scale(X)

    def build_networks(self, seq_len: int, n_signals: int, *, n_features: int | None = None
                       ) -> Networks:
        """Fresh, untrained (generator, discriminator, encoder, latent size) for sequences of
        ``seq_len`` steps of ``n_signals`` values, as :meth:`fit` builds them; ``n_features``
        (default ``seq_len * n_signals``) is a record's attribute count, which sizes the
        record latent. Reads only the parameters, so benchmarks can time the networks alone."""
        n_features = seq_len * n_signals if n_features is None else n_features
        latent_dim = self._resolve_latent_dim(seq_len, n_signals, n_features)
        record = self.latent == "record"
        G = Generator(latent_dim, n_signals, self.hidden, self.g_layers,
                      bounded=self.scaling == "minmax", seq_len=seq_len if record else None)
        D = Discriminator(n_signals, self.hidden, self.d_layers)
        E = Encoder(n_signals, latent_dim, self.hidden, shared=record)
        return Networks(G, D, E, latent_dim)

    def score_components(self, X, *, inversion=None) -> ScoreComponents:
        """The two terms of the anomaly score and their mix, per record of ``X``.

        ``reconstruction`` (the residual of ``G(z)`` at the inverted latent) and
        ``discrimination`` (the discriminator's loss on the record), each standardised by its
        median and IQR on the GAN's training normals, and ``combined = lam * reconstruction +
        (1 - lam) * discrimination``. ``inversion`` (default: the detector's) chooses how a
        record is mapped to latent space. :meth:`decision_function` returns the field named by
        ``score``; the ablation reads all three from one inversion.
        """
        check_is_fitted(self, "generator_")
        if inversion is not None and inversion not in _INVERSIONS:
            raise ValueError(f"inversion must be one of {_INVERSIONS}; got {inversion!r}")
        Xs = self.scale_records(X)
        self._check_enough_for_a_window(Xs, _SCORE_TOGETHER)
        with _torch_threads(self._threads()):
            parts = self._standardise(*self._raw_record_scores(Xs, inversion=inversion))
        for values in parts:
            _refuse_non_finite(values, Xs)
        return parts

    def _check_enough_for_a_window(self, X, hint: str = "") -> None:
        """Fitting and scoring in windows need a window's worth of records: fewer would wrap
        around into windows of repeated records that the GAN never saw. ``hint`` closes the
        message (scoring's: what to do instead)."""
        if self.window is not None and X.shape[0] < self.window:
            raise ValueError(f"X has {X.shape[0]} rows, fewer than window={self.window}: cannot "
                             f"cut one window{hint}")

    # ------------------------------------------------------------------ fit, stage by stage
    def fit(self, X, y=None, *, known_normal=None):
        """Fit the three stages on P (``known_normal`` True) and U (the rest).

        The stages, in order: :meth:`fit_scaling`, :meth:`select_gan_rows` (stage 1),
        :meth:`gan_training_sample`, :meth:`train_networks`, :meth:`fit_distilled_scorer`
        (with ``inversion="distilled"``) and :meth:`calibrate` (stage 3); then the training
        rows' scores and the threshold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training records, in the order that windows (if any) are cut from.
        y : ignored; anomaly labels are never used.
        known_normal : array-like of bool, shape (n_samples,)
            True for records labelled normal (the P set); everything else is unlabelled.
            Required: the threshold is set from the known normals.

        Returns
        -------
        self
        """
        self._check_params()
        X = check_features(X)
        if known_normal is None:
            raise ValueError(
                "known_normal is required: PU-GAN needs records labelled normal (the P set) to "
                "choose its training set and its threshold"
            )
        mask = check_known_normal(known_normal, X.shape[0], require_some=True,
                                  forbid_all=self.train_on == "pu")
        self._check_enough_for_a_window(X)
        if self.train_on == "pu":
            _refuse_past_float32(X)
        self._forget_fit()
        try:
            return self._fit_stages(X, mask)
        except BaseException:
            self._forget_fit()  # nor does a fit that fails part way leave half of itself
            raise

    def _fit_stages(self, X: np.ndarray, mask: np.ndarray):
        """:meth:`fit`'s stages on checked records ``X`` and known-normal mask ``mask``."""
        rng = check_random_state(self.random_state)
        pu_seed, torch_seed = (int(s) for s in rng.randint(MAX_SEED, size=2))
        self.fit_scaling(X[mask], X)  # first: it names a column no scaling can hold
        gan_mask = self.select_gan_rows(X, mask, seed=pu_seed)
        Xs = self._scale(X)
        if self.window is not None and gan_mask.sum() < self.window:
            raise ValueError(f"the GAN training set has {int(gan_mask.sum())} rows, fewer than "
                             f"window={self.window}")
        # seeded without touching torch's global RNG: the networks are built on the CPU, whose
        # generator alone is seeded (torch.manual_seed would reseed every GPU's too) and
        # restored afterwards; every other draw comes from torch_rng
        with _torch_threads(self._threads()), torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(torch_seed)
            torch_rng = torch.Generator().manual_seed(torch_seed)
            seqs, val = self.gan_training_sample(Xs, gan_mask, mask, torch_rng)
            self.train_networks(seqs, torch_rng, val=val, n_features=X.shape[1])
            held = None
            if self.inversion == "distilled":
                held = self.fit_distilled_scorer(Xs, torch_rng)
            self.calibrate(Xs, gan_mask, rng)
            if self.window is None:  # records score one by one: the known normals suffice
                self._decision_scores, self._train_records = None, Xs
                self._train_scoring = {name: getattr(self, name) for name in _SCORING_PARAMS}
                known_scores = self._scores_of(Xs[mask], rows=np.flatnonzero(mask))
            else:  # a record's score comes from the windows around it
                self.decision_scores_ = self._scores_of(Xs)
                known_scores = self.decision_scores_[mask]
            self.student_fidelity_ = self._student_fidelity(held)
        self.threshold_ = quantile_threshold(known_scores, self.threshold_quantile)
        return self

    @property
    def decision_scores_(self) -> np.ndarray:
        """Anomaly scores of the training rows, computed on first read and kept.

        Reading it raises the ValueError of a training record whose score is not finite (fit
        scores only the known normals when records are scored one by one, so such a row is
        found here, not in fit)."""
        if getattr(self, "_decision_scores", None) is None:
            if getattr(self, "_train_records", None) is None:
                raise AttributeError("decision_scores_: this PUGAN is not fitted")
            with _torch_threads(self._threads()):
                self._decision_scores = self._scores_of(
                    self._train_records, getattr(self, "_train_scoring", None))
            self._train_records = None
        return self._decision_scores

    @decision_scores_.setter
    def decision_scores_(self, scores: np.ndarray) -> None:
        self._decision_scores, self._train_records = np.asarray(scores), None

    def _forget_fit(self) -> None:
        """Drop every fitted attribute: called once a fit's input has passed its checks, and
        again when one of its stages fails, so that a failed fit leaves an unfitted detector,
        never one mixing two fits' stages (input refused by the checks leaves the earlier fit
        as it was)."""
        for name in list(vars(self)):
            if (name.endswith("_") and not name.startswith("__")) or name in (
                    "_decision_scores", "_train_records", "_train_scoring"):
                del self.__dict__[name]

    @property
    def labels_(self) -> np.ndarray:
        """Training rows flagged by the threshold: ``decision_scores_ >= threshold_``."""
        check_is_fitted(self, "threshold_")
        return labels_at_threshold(self.decision_scores_, self.threshold_)

    def select_gan_rows(self, X, known_normal, *, seed) -> np.ndarray:
        """Stage 1: the rows the GAN learns from, as a boolean mask over ``X``.

        ``train_on="pu"``: the known normals plus the reliable normals that PU bagging finds in
        U (keeps ``pu_classifier_`` and ``pu_known_scores_``, the known normals' out-of-bag
        P(normal)); ``"p"``: the known normals; ``"all"``: every row. Sets ``n_reliable_``,
        ``n_gan_rows_`` and ``n_features_in_``.
        """
        mask = np.asarray(known_normal, dtype=bool)
        if self.train_on == "pu":
            clf = PUBaggingClassifier(n_estimators=self.n_bags, n_jobs=self.n_jobs,
                                      random_state=seed)
            clf.fit(X, mask.astype(int))
            u_idx = np.flatnonzero(~mask)
            p_scores = clf.oob_decision_[mask]
            reliable, _ = select_reliable(clf.oob_decision_[u_idx], p_scores,
                                          normal_quantile=self.reliable_quantile)
            gan_mask = mask.copy()
            gan_mask[u_idx[reliable]] = True
            self.pu_classifier_, self.pu_known_scores_ = clf, p_scores
            self.n_reliable_ = int(reliable.sum())
            log.info("PU stage: %d known normals + %d reliable normals of %d unlabelled",
                     int(mask.sum()), self.n_reliable_, len(u_idx))
        else:
            gan_mask = mask.copy() if self.train_on == "p" else np.ones(len(mask), dtype=bool)
            self.n_reliable_ = 0
            # no stage 1 in this fit: an earlier fit's ensemble and scores must not stay
            # (save would write them as this fit's)
            for name in ("pu_classifier_", "pu_known_scores_"):
                self.__dict__.pop(name, None)
        self.n_gan_rows_ = int(gan_mask.sum())
        self.n_features_in_ = X.shape[1]
        return gan_mask

    def fit_scaling(self, X_known, X_train=None) -> None:
        """Fit the records' scaling on the known normals, the only rows certain to be normal:
        records outside their range stay outside [-1, 1], where the tanh generator cannot
        follow (fitting it on the reliable normals too, whose far-out rows stretch the range,
        cost most of the reconstruction term's AUPRC on KDD: docs/pugan.md).

        A column constant among the known normals takes its width from all training rows
        ``X_train`` (no label read), so that its units do not decide how far its anomalies
        lie; only a column constant there too gets width 1. A column whose centre or width
        float64 cannot hold is refused by name.
        """
        def centre_and_width(Z):
            if self.scaling == "minmax":  # MAD-GAN: each column onto [-1, 1]
                lo, hi = Z.min(0), Z.max(0)
                # halves first: a column near float64's limit has a centre, if not a width
                return lo / 2.0 + hi / 2.0, (hi - lo) / 2.0
            q25, centre, q75 = np.percentile(Z, [25, 50, 75], axis=0)  # robust: unbounded
            return centre, np.where(q75 > q25, q75 - q25, Z.std(0))

        with np.errstate(over="ignore", invalid="ignore"):
            center, width = centre_and_width(X_known)
            if X_train is not None and not (width > 0).all():
                width = np.where(width > 0, width, centre_and_width(X_train)[1])
        bad = np.flatnonzero(~(np.isfinite(center) & np.isfinite(width)))
        if len(bad):
            raise ValueError(f"column {bad[0]} of X spans more than float64 can scale (centre "
                             f"{center[bad[0]]}, width {width[bad[0]]}): rescale it first")
        self.scale_center_, self.scale_width_ = center, np.where(width > 0, width, 1.0)

    def gan_training_sample(self, Xs, gan_mask, known_normal, torch_rng):
        """The GAN's training sequences (at most ``max_gan_rows``, drawn with ``torch_rng``)
        and, with ``early_stopping``, the held-out known normals' sequences (else None).

        When the reliable normals alone fill the sample, every known normal is kept out of it,
        so that their scores (the threshold's reference) are held-out scores at no extra fit;
        ``p_held_out_`` records whether that happened.
        """
        gan_rows = np.flatnonzero(gan_mask)
        cap = self.max_gan_rows
        self.p_held_out_ = False
        if self.window is not None:
            seqs, _ = self._sequences(Xs[gan_rows])
            if cap is not None and seqs.shape[0] > cap:
                pick = torch.randperm(seqs.shape[0], generator=torch_rng)[:cap]
                seqs = seqs[pick.sort().values]
            return seqs, None
        pool = gan_rows
        if cap is not None and len(pool) > cap:
            if self.train_on == "pu" and self.n_reliable_ >= cap:
                pool = np.flatnonzero(gan_mask & ~known_normal)
                self.p_held_out_ = True
            pick = torch.randperm(len(pool), generator=torch_rng)[:cap].sort().values
            pool = pool[pick.numpy()]
        val = None
        if self.early_stopping is not None:
            pool, val_rows = self._held_out_normals(pool, known_normal, torch_rng)
            if len(val_rows):
                val = self._sequences(Xs[val_rows])[0]
        return self._sequences(Xs[pool])[0], val

    def train_networks(self, seqs, torch_rng, *, val=None, n_features=None) -> None:
        """Stage 2: the GAN (with its jointly trained encoder), then the encoder alone, on
        ``seqs``; with ``val`` and ``early_stopping``, the GAN stops on the held-out
        reconstruction. Sets ``generator_``, ``discriminator_``, ``encoder_``, ``history_``,
        ``gan_epochs_`` and the sequence shape (``seq_len_``, ``n_signals_``, ``latent_dim_``).
        """
        self.seq_len_, self.n_signals_ = int(seqs.shape[1]), int(seqs.shape[2])
        G, D, E, self.latent_dim_ = self.build_networks(self.seq_len_, self.n_signals_,
                                                        n_features=n_features)
        dev = torch.device(self.device)
        G, D, E, seqs = G.to(dev), D.to(dev), E.to(dev), seqs.to(dev)
        self.precision_ = resolve_precision(self.precision, dev)
        hist = train_gan(G, D, seqs, n_epochs=self.n_epochs, batch_size=self.batch_size,
                         latent_dim=self.latent_dim_, rng=torch_rng, g_rounds=self.g_rounds,
                         d_optimizer=self.d_optimizer, E=E, recon_weight=self.recon_weight,
                         recon_rounds=self.recon_rounds, precision=self.precision_,
                         val=None if val is None else val.to(dev),
                         patience=self.early_stopping, verbose=self.verbose)
        self.gan_epochs_ = len(hist)
        e_epochs = len(hist) if self.encoder_epochs is None else self.encoder_epochs
        hist_e = train_encoder(E, G, seqs, n_epochs=e_epochs, batch_size=self.batch_size,
                               latent_dim=self.latent_dim_, rng=torch_rng,
                               precision=self.precision_, verbose=self.verbose)
        for m in (G, D, E):
            m.eval()
            m.zero_grad(set_to_none=True)  # no training gradients left behind
            m.requires_grad_(False)  # frozen: scoring differentiates w.r.t. z only
        self.generator_, self.discriminator_, self.encoder_ = G, D, E
        self.history_ = hist + hist_e
        self.student_ = None

    def fit_distilled_scorer(self, Xs, torch_rng):
        """Train the distilled scorer on the encoder path's scores (:mod:`pugan.distill`).

        Keeps a tenth of the distillation inputs out of its training and returns them with
        their teacher scores, ``(inputs, rec, disc)``, from which :meth:`fit` measures
        ``student_fidelity_`` once the scores are standardised.
        """
        seed = int(torch.randint(MAX_SEED, (1,), generator=torch_rng))
        Xd = distillation_inputs(Xs, max_rows=50_000, rng=np.random.default_rng(seed))
        rec, disc = self._raw_record_scores(Xd, inversion="encoder", stop_level=0.0)
        order = torch.randperm(len(Xd), generator=torch_rng).numpy()
        hold, train = order[:len(Xd) // 10], order[len(Xd) // 10:]
        student = ScoreStudent(Xs.shape[1]).to(torch.device(self.device))
        hist = train_student(student, Xd[train], rec[train], disc[train],
                             steps=self.student_steps, rng=torch_rng, verbose=self.verbose)
        student.requires_grad_(False)
        self.student_ = student
        self.history_ += hist
        return Xd[hold], rec[hold], disc[hold]

    def calibrate(self, Xs, gan_mask, rng) -> None:
        """Stage 3's reference: the GAN's training normals (at most 5,000, drawn with ``rng``,
        when records are scored one by one) set the residual below which the gradient search
        is skipped (``stop_level_``) and the median / IQR that standardise both score terms."""
        ref = np.flatnonzero(gan_mask)
        if len(ref) > 5000 and self.window is None:
            ref = np.sort(rng.choice(ref, 5000, replace=False))
        rec0, _ = self._raw_record_scores(Xs[ref], inversion="encoder", stop_level=0.0)
        self.stop_level_ = float(np.quantile(rec0, self.stop_quantile))
        rec, disc = self._raw_record_scores(Xs[ref])
        self.rec_center_, self.rec_scale_ = _robust_scale(rec)
        self.disc_center_, self.disc_scale_ = _robust_scale(disc)

    def _scores_of(self, Xs: np.ndarray, settings: dict | None = None,
                   rows: np.ndarray | None = None) -> np.ndarray:
        """Anomaly scores of scaled records: the ``score`` field of their components, a score
        that is not finite refused by name (:func:`_refuse_non_finite`, with ``rows`` the
        input's row numbers of a subset). ``settings`` holds the scoring parameters
        (:data:`_SCORING_PARAMS`) to use instead of the current ones."""
        s = {name: getattr(self, name) for name in _SCORING_PARAMS}
        s.update(settings or {})
        rec, disc = self._raw_record_scores(Xs, inversion=s["inversion"],
                                            max_steps=s["inversion_steps"])
        scores = getattr(self._standardise(rec, disc, lam=s["lam"]), s["score"])
        _refuse_non_finite(scores, Xs, rows)
        return scores

    def _student_fidelity(self, held) -> float:
        """Spearman correlation of the student's and its teacher's combined scores on the
        inputs held out of its training (NaN without a student, or with fewer than 3)."""
        if held is None or len(held[0]) < 3:
            return float("nan")
        Xh, rec_h, disc_h = held
        return float(spearmanr(self._standardise(*self._student_scores(Xh)).combined,
                               self._standardise(rec_h, disc_h).combined)[0])

    # ------------------------------------------------------------------ scoring
    def decision_function(self, X) -> np.ndarray:
        """Anomaly score of each record (higher = more anomalous); writes nothing to self."""
        check_is_fitted(self, "generator_")
        X = check_features(X, n_features=self.n_features_in_)
        self._check_enough_for_a_window(X, _SCORE_TOGETHER)
        with _torch_threads(self._threads()):
            return self._scores_of(self._scale(X))

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Save the parameters and every fitted attribute to ``path`` (one torch file).

        Fitted attributes (names ending in ``_``) are stored by kind: networks as state dicts,
        arrays as tensors, and numbers, strings, None and lists / dicts of them as they are.
        The training rows' scores (``decision_scores_``) are computed first if they have not
        been read yet. The stage-1 ensemble (``pu_classifier_``) is a fitting aid that scoring
        never uses and is not portable without pickled code, so it alone is left out; an
        attribute of any other kind is a TypeError naming it.
        """
        check_is_fitted(self, "generator_")
        # numpy numbers as the Python ones they hold, a torch device as its name: the file is
        # read with weights_only, which takes neither, and a numpy seed would be dropped
        params = {k: v.item() if isinstance(v, np.generic)
                  else str(v) if isinstance(v, torch.device) else v
                  for k, v in self.get_params().items()}
        if not (params["random_state"] is None or isinstance(params["random_state"], int)):
            params["random_state"] = None  # a RandomState object is not portable
        for name, value in params.items():
            if not _plain(value):
                raise TypeError(f"cannot save parameter {name}={value!r} "
                                f"({type(value).__name__}): PUGAN files hold plain values only")
        networks, arrays, values = {}, {}, {}
        for name, value in vars(self).items():
            if not name.endswith("_") or name.startswith("_") or name in _NOT_SAVED:
                continue
            if isinstance(value, torch.nn.Module):
                networks[name] = value.state_dict()
            elif isinstance(value, np.ndarray):
                arrays[name] = torch.from_numpy(np.ascontiguousarray(value))
            elif isinstance(value, np.generic):
                values[name] = value.item()
            elif _plain(value):
                values[name] = value
            else:
                raise TypeError(f"cannot save {name} ({type(value).__name__}): PUGAN files hold "
                                "networks, arrays and plain values (numbers, strings, None, "
                                "lists and dicts of them) only")
        arrays["decision_scores_"] = torch.from_numpy(np.ascontiguousarray(self.decision_scores_))
        content = io.BytesIO()
        torch.save({"params": params, "networks": networks, "arrays": arrays, "values": values},
                   content)
        content = content.getvalue()
        # a byte tensor: stored as it is (pickled bytes would be re-encoded as text)
        torch.save({"format": _FORMAT, "sha256": hashlib.sha256(content).hexdigest(),
                    "content": torch.frombuffer(bytearray(content), dtype=torch.uint8)}, path)

    @classmethod
    def load(cls, path, *, device="cpu") -> PUGAN:
        """Load a detector written by :meth:`save` (onto ``device``).

        A missing file raises FileNotFoundError; a truncated, damaged or foreign file (one
        that is not a whole PUGAN save) raises ValueError naming the file, never a raw
        unpickling or key error. The file carries the SHA-256 of its contents, checked before
        they are read: torch's own reader checks no checksum, so a changed byte would otherwise
        load and score. Files are read with ``weights_only=True``: tensors and plain values
        only, no code runs. Whatever device wrote the file, it is read onto the CPU (numpy
        needs the arrays there) and the networks are then moved to ``device``.
        """
        _check_device(device)  # before the file: a bad device is no damaged file
        outer = _read_torch_file(path, path)
        found = outer.get("format") if isinstance(outer, dict) else None
        if found in _OLD_FORMATS:
            raise ValueError(f"{path} was written by an earlier pugan-bench (format {found!r}; "
                             f"this version reads {_FORMAT!r}): fit the detector again and save it")
        content = outer.get("content") if found == _FORMAT else None
        if isinstance(content, torch.Tensor) and content.dtype == torch.uint8:
            content = content.numpy().tobytes()
        if not isinstance(content, bytes):
            raise ValueError(f"{path} is not a PUGAN file written by PUGAN.save "
                             f"(format {_FORMAT!r})")
        if hashlib.sha256(content).hexdigest() != outer.get("sha256"):
            raise ValueError(f"{path} is a damaged PUGAN file: its contents do not match the "
                             "SHA-256 saved with them")
        state = _read_torch_file(io.BytesIO(content), path)
        try:
            return cls._from_state(state, device)
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
            raise ValueError(f"{path} is a damaged PUGAN file ({type(exc).__name__}: "
                             f"{exc})") from None

    @classmethod
    def _from_state(cls, state: dict, device) -> PUGAN:
        det = cls(**{**state["params"], "device": device})
        for name, value in state["values"].items():
            setattr(det, name, value)
        for name, value in state["arrays"].items():
            setattr(det, name, value.numpy())
        nets = state["networks"]
        G, D, E, _ = det.build_networks(det.seq_len_, det.n_signals_,
                                        n_features=det.n_features_in_)
        modules = {"generator_": G, "discriminator_": D, "encoder_": E,
                   "student_": ScoreStudent(det.n_features_in_) if "student_" in nets else None}
        unknown = set(nets) - set(modules)
        if unknown:
            raise ValueError(f"unknown networks {sorted(unknown)}")
        for name, module in modules.items():
            if module is not None:
                module.load_state_dict(nets[name])
                module.to(device).eval().requires_grad_(False)
            setattr(det, name, module)
        return det
