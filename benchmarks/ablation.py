"""PU-GAN ablation: what each stage adds, same splits and seeds for every variant.

Usage::

    pugan-bench ablation --presets moons-paper,kddcup99-low \\
        --seeds 0-2 --allow-report-seeds --out results/ablation

(``make ablation``: the ablation is a reported table, so it runs on report seeds, asked for
explicitly; on its own the command takes development seeds.)

One PUGAN fit per (preset, seed, training set): ``pu`` (P + stage-1 reliable normals, the
method), ``p`` (GAN on the known normals only: no PU stage) and ``all`` (GAN on every training
row). Each fit is then scored six ways (inversion ``gradient`` | ``encoder`` x score
``combined`` | ``reconstruction`` | ``discrimination``), which needs no refit because the
variants differ only at scoring time, plus stage 1 alone (the PU-bagging ensemble of the
``pu`` fit, score = 1 - P(normal)). Every variant's threshold is the 0.99 quantile of the
known normals' scores under that same variant; test labels only score. Writes
``OUT/ablation.csv`` (one row per preset x seed x variant) and ``reports/ablation.md`` (means
over seeds, ``best_f1`` named as the oracle it is, and each variant's AUPRC against the
method's own, paired by seed with its interval), the markdown made from the CSV as written,
so that the page is what the committed table gives (:func:`ablation_markdown`). A (preset, seed) task that fails costs its
own rows only: the others are written to ``OUT/ablation.partial.csv`` and the command fails
naming it (each failed task's traceback is printed to stderr first), leaving the previous
table whole; a later run that succeeds removes that partial file.
"""

from __future__ import annotations

import io
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed

from benchmarks.cache import atomic_write_text
from benchmarks.cells import canonical_json
from benchmarks.fingerprint import row_code_version
from benchmarks.metrics import anomaly_metrics
from benchmarks.report import ORACLE_NAMES, markdown_table
from benchmarks.seeds import seeds_from_args
from benchmarks.splits import preset_split
from pugan.base import labels_at_threshold, quantile_threshold
from pugan.detector import PUGAN

TRAIN_SETS = {"pu": "P + reliable normals (PU-GAN)", "p": "P only (no PU stage)",
              "all": "all of U + P (no PU stage)"}


def variant_rows(det: PUGAN, split, base: dict) -> list[dict]:
    """A fitted PUGAN scored six ways (inversion x score; nine with its distilled scorer, when it
    was fitted with one), each thresholded at the 0.99 quantile
    of the known normals' scores under the same variant; ``base`` is copied into every row."""
    rows = []
    distilled = ("distilled",) if det.student_ is not None else ()
    for inversion in ("gradient", "encoder") + distilled:
        t = time.perf_counter()
        test = det.score_components(split.X_test, inversion=inversion)
        score_s = time.perf_counter() - t
        known = det.score_components(split.X_train[split.known_normal], inversion=inversion)
        for score in ("combined", "reconstruction", "discrimination"):
            st, sp = getattr(test, score), getattr(known, score)
            thr = quantile_threshold(sp, det.threshold_quantile)
            m = anomaly_metrics(split.y_test, st, labels_at_threshold(st, thr))
            rows.append({**base, "inversion": inversion, "score": score, **m,
                         "score_seconds": score_s})
    return rows


def stage1_row(det: PUGAN, split, base: dict) -> dict:
    """Stage 1 alone: the fit's PU-bagging ensemble, score = 1 - P(normal); threshold = 0.99
    quantile of the known normals' *out-of-bag* scores (each known normal sits out of some
    rounds; its in-bag scores would be optimistic).
    Its scoring is timed like the variants', so its ``score_seconds`` is measured, not zero."""
    t = time.perf_counter()
    st = 1 - det.pu_classifier_.predict_proba(split.X_test)[:, 1]
    score_s = time.perf_counter() - t
    thr = quantile_threshold(1 - det.pu_known_scores_, det.threshold_quantile)
    m = anomaly_metrics(split.y_test, st, labels_at_threshold(st, thr))
    return {**base, "train_on": "-", "inversion": "-", "score": "stage-1 PU bagging alone",
            **m, "score_seconds": score_s}


def _one_split(preset: str, seed: int, params: dict | None) -> list[dict]:
    """The three fits of one (preset, seed) and every scoring variant of each.

    Fits are timed stage by stage (:func:`benchmarks.perf.pugan_profile.profile_fit`, wall
    seconds), so that the stage-1 row carries the time of stage 1, not of the whole fit."""
    from benchmarks.perf.pugan_profile import profile_fit

    rows = []
    split = preset_split(preset, seed)
    for train_on in TRAIN_SETS:
        stages, det = profile_fit(split.X_train, split.known_normal, cpu=False,
                                  random_state=seed, train_on=train_on, **(params or {}))
        base = {"dataset": preset, "seed": seed, "train_on": train_on,
                "fit_seconds": stages["total"], "n_gan_rows": det.n_gan_rows_,
                "n_reliable": det.n_reliable_, "detector_name": "pugan",
                "detector_params": canonical_json({**(params or {}), "train_on": train_on}),
                "code_version": row_code_version(det)}
        rows += variant_rows(det, split, base)
        if train_on == "pu":
            rows.append(stage1_row(det, split, {**base, "fit_seconds": stages["stage1"]}))
        print(f"{preset} seed {seed} train_on={train_on}: fit {base['fit_seconds']:.0f} s",
              flush=True)
    return rows


@dataclass(frozen=True)
class TaskFailure:
    """What a failed task hands back instead of its rows: plain text only, so that it always
    pickles back from a joblib worker (an exception object may not, and its failure to
    would lose every task's rows)."""

    summary: str     # "<ExceptionType>: <message>"
    traceback: str   # the formatted traceback


def _one_split_or_error(preset: str, seed: int, params: dict | None):
    """:func:`_one_split`'s rows, or a :class:`TaskFailure` describing the error that stopped
    it, so that one failing task costs its own rows only."""
    try:
        return _one_split(preset, seed, params)
    except Exception as exc:  # recorded and raised by run() once every task is done
        return TaskFailure(summary=f"{type(exc).__name__}: {exc}",
                           traceback="".join(traceback.format_exception(exc)))


class AblationError(RuntimeError):
    """Some (preset, seed) tasks failed; ``frame`` holds the rows of those that did not and
    ``tracebacks`` the failed tasks' tracebacks, as text."""

    def __init__(self, failed: list[tuple[str, TaskFailure]], frame: pd.DataFrame):
        super().__init__(f"{len(failed)} ablation task(s) failed: "
                         + "; ".join(f"{task}: {f.summary}" for task, f in failed))
        self.frame = frame
        self.tracebacks = [f"{task}:\n{f.traceback}" for task, f in failed]


def run(presets: list[str], seeds: list[int], params: dict | None = None,
        n_jobs: int = 1) -> pd.DataFrame:
    """Every (preset, seed) in its own joblib task (one torch thread each); rows in input order.
    A task that fails is named in an :class:`AblationError` raised after all tasks ran, which
    carries the other tasks' rows."""
    check_preset_names(presets)
    tasks = [(p, s) for p in presets for s in seeds]
    parts = Parallel(n_jobs=n_jobs)(delayed(_one_split_or_error)(p, s, params)
                                    for p, s in tasks)
    failed = [(f"{p} seed {s}", part) for (p, s), part in zip(tasks, parts, strict=True)
              if isinstance(part, TaskFailure)]
    frame = pd.DataFrame([row for part in parts if not isinstance(part, TaskFailure)
                          for row in part])
    if failed:
        raise AblationError(failed, frame)
    return frame


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean (and std over seeds) per dataset x variant; best_f1 renamed as the oracle.
    ``score_seconds`` is what scoring the test split took under that variant (the gradient
    search against the encoder's one pass), where the table records it."""
    keys = ["dataset", "train_on", "inversion", "score"]
    timed = ["fit_seconds"] + (["score_seconds"] if "score_seconds" in frame else [])
    g = frame.groupby(keys, sort=False)
    out = g[["auroc", "auprc", "f1", "best_f1", *timed]].mean()
    out["f1_std"] = g["f1"].std()
    out["n_seeds"] = g.size()
    out = out.reset_index().rename(columns=ORACLE_NAMES)
    return out[keys + ["auroc", "auprc", "f1", "f1_std", "best_f1_oracle", *timed,
                       "n_seeds"]]


#: the method itself: the variant every other one is set against
METHOD_VARIANT = {"train_on": "pu", "inversion": "gradient", "score": "combined"}
#: how the CSV stores its floats; the page is made from the table as stored
CSV_FLOATS = "%.6g"


def paired_differences(frame: pd.DataFrame, metric: str = "auprc") -> pd.DataFrame:
    """Per dataset, each variant's ``metric`` minus the method's (:data:`METHOD_VARIANT`),
    paired by seed: mean difference, its 95% Student-t interval over the paired seeds and
    their number. Seeds are few, so no test is claimed: the interval is the evidence, and
    one that contains 0 tells the two apart on nothing."""
    from benchmarks.stats import mean_ci

    keys = ["train_on", "inversion", "score"]
    rows = []
    for dataset, block in frame.groupby("dataset", sort=False):
        wide = block.pivot_table(index="seed", columns=keys, values=metric, aggfunc="mean",
                                 sort=False)
        method = tuple(METHOD_VARIANT[k] for k in keys)
        if method not in wide:
            continue
        for variant in wide.columns:
            if variant == method:
                continue
            diff = (wide[variant] - wide[method]).dropna()
            mean, _, low, high = mean_ci(diff.to_numpy(), bounded=False)
            rows.append({"dataset": dataset, **dict(zip(keys, variant, strict=True)),
                         f"{metric} difference": _signed_ci(mean, low, high),
                         "paired seeds": int(diff.size)})
    return pd.DataFrame(rows)


def _signed_ci(mean: float, low: float, high: float) -> str:
    """A difference with four decimals and its sign: the variants differ in the third."""
    if pd.isna(mean):
        return ""
    return f"{mean:+.4f}" + ("" if pd.isna(low) else f" [{low:+.4f}, {high:+.4f}]")


def ablation_markdown(frame: pd.DataFrame) -> str:
    """reports/ablation.md from an ablation table: means over seeds, then each variant's
    AUPRC against the method's, paired by seed (:func:`paired_differences`)."""
    method = ", ".join(f"{k} {v}" for k, v in METHOD_VARIANT.items())
    return ("# PU-GAN ablation (means over seeds; best_f1_oracle picks its threshold with test "
            "labels)\n\n" + markdown_table(summary(frame)) + "\n\n## Each variant against the "
            f"method ({method}), AUPRC paired by seed\n\nMean difference (variant minus "
            "method) with its 95% Student-t interval over the paired seeds; with so few "
            "seeds no test is claimed, and an interval that contains 0 tells the two apart on "
            "nothing. Generated by `pugan-bench ablation` from "
            "results/ablation/ablation.csv; do not edit.\n\n"
            + markdown_table(paired_differences(frame)) + "\n")


def check_workers(n_jobs: int) -> None:
    """Refuse ``--n-jobs`` below 1 (joblib would name its own ``n_jobs`` for 0 and quietly
    take a large negative count as one worker) or far above the cores, as ``run`` does."""
    import os

    from benchmarks.config import check_n_jobs

    if n_jobs < 1:
        raise ValueError(f"--n-jobs must be >= 1; got {n_jobs}")
    check_n_jobs(n_jobs, os.cpu_count() or 1)


def check_presets(presets: list[str]) -> None:
    """Refuse an empty preset list before any work: it would fit nothing and replace the
    committed table with an empty one."""
    if not presets:
        raise ValueError("no preset given: --presets needs at least one preset name")


def check_preset_names(presets: list[str]) -> None:
    """Refuse, before any fit, an unknown preset (found otherwise only after the other
    presets' fits) or one named twice (its seeds would count twice)."""
    from benchmarks.splits import PRESETS

    unknown = [p for p in presets if p not in PRESETS]
    if unknown:
        raise ValueError(f"unknown preset(s) {', '.join(map(repr, unknown))} in --presets; "
                         f"known: {', '.join(sorted(PRESETS))}")
    repeated = sorted({p for p in presets if presets.count(p) > 1})
    if repeated:
        raise ValueError(f"--presets names {', '.join(map(repr, repeated))} more than once: "
                         "its seeds would count twice")


def write_ablation(presets: list[str], seeds: list[int], *, out: str | Path = "results/ablation",
                   reports: str | Path = "reports", n_jobs: int = 2) -> str:
    """Run the ablation; write ``OUT/ablation.csv`` and ``REPORTS/ablation.md`` (each whole
    or not at all) and remove a stale ``OUT/ablation.partial.csv`` left by an earlier failed
    run; return the markdown (``pugan-bench ablation``)."""
    check_presets(presets)
    out = Path(out)
    try:
        frame = run(presets, seeds, n_jobs=n_jobs)
    except AblationError as exc:  # keep what finished, beside the committed table, and fail
        if len(exc.frame):
            out.mkdir(parents=True, exist_ok=True)
            atomic_write_text(out / "ablation.partial.csv",
                              exc.frame.to_csv(index=False, float_format="%.6g"))
        raise
    if frame.empty:  # would replace the committed table with nothing
        raise ValueError("the ablation produced no rows: ablation.csv and ablation.md are "
                         "left as they were")
    # built before either file is written: a table that cannot be summarised writes nothing;
    # from the table as stored, so that the page is what the committed CSV gives
    text = frame.to_csv(index=False, float_format=CSV_FLOATS)
    md = ablation_markdown(pd.read_csv(io.StringIO(text)))
    out.mkdir(parents=True, exist_ok=True)
    # whole or not at all: a half file would still read as an ablation with fewer rows
    atomic_write_text(out / "ablation.csv", text)
    Path(reports).mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(reports) / "ablation.md", md)   # whole or not at all, as the CSV
    # the rows an earlier failed run kept are superseded by this whole table
    (out / "ablation.partial.csv").unlink(missing_ok=True)
    return md


def run_command(args) -> int:
    """``pugan-bench ablation``: development seeds unless report seeds are asked for."""
    seeds = list(seeds_from_args(args))
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    try:
        check_presets(presets)
        check_workers(args.n_jobs)
    except ValueError as exc:
        print(f"pugan-bench ablation: error: {exc}", file=sys.stderr)
        return 2
    try:
        md = write_ablation(presets, seeds, out=args.out, reports=args.reports,
                            n_jobs=args.n_jobs)
    except AblationError as exc:
        for text in exc.tracebacks:   # where each task failed, then the one-line error
            print(text, file=sys.stderr, end="" if text.endswith("\n") else "\n")
        kept = (f"; the {len(exc.frame)} rows of the other tasks are in "
                f"{Path(args.out) / 'ablation.partial.csv'}" if len(exc.frame) else "")
        print(f"pugan-bench ablation: error: {exc}{kept}; ablation.csv and ablation.md are "
              "left as they were", file=sys.stderr)
        return 1
    print(md)
    return 0

