"""Fit and score time against training size, PU-GAN beside the baselines (``make scale-curves``).

    pugan-bench scale-curves [--sizes 10000 30000 ...] [--detectors ...]
        [--max-fit-seconds 300] [--out results/scale/scale.csv] [--figure reports/figures/scale_curves]
        [--plot-only]

(``python -m benchmarks.perf.scale_curves`` takes the same arguments.)

Input: KDD-like rows (:func:`benchmarks.perf.data.kdd_like`: 6 PCA attributes, 2% anomalies,
20% of normals labelled) of each training size; every fitted model scores the same 10,000
held-out records, drawn from base records that no training set uses (``part``), so score
time shows how scoring grows with the model and AUPRC is out of sample. Each detector runs
with its registry defaults, single-threaded (BLAS, OpenMP and torch limited to one thread),
sizes in increasing order, in this process, after one untimed warm-up fit on
``WARMUP_ROWS`` rows: one-time costs (imports, compiled kernels, torch's first calls)
are paid there, not by the smallest size.

A size is not attempted, and the row says why (``status`` skipped), when the registry caps the
detector's training rows (exact OCSVM: 50,000), or when the fit time predicted from the two
previous sizes (log-log slope, at least linear) exceeds ``--max-fit-seconds``: the curve stops
where the detector stops being practical instead of hanging the run. A fit or scoring that
raises is a row with ``status`` failed and the error as its reason; that detector's larger
sizes are skipped, and the other detectors still run; the failure is logged as a warning,
named in the figure's footnote, and the command exits 1 naming it on stderr.

Writes ``results/scale/scale.csv`` (one row per detector and size: fit and score seconds,
records per second, AUPRC on the scored records, status) and
``reports/figures/scale_curves.{png,svg}`` (log-log, one line per detector in the suite's
colours, each labelled at its last point) with its table ``reports/figures/scale_curves.md``;
both are functions of the CSV alone: ``--plot-only`` redraws them.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from pathlib import Path

import pandas as pd

__all__ = ["check_options", "failed_rows", "footnote", "main", "measure", "plot",
           "predict_seconds", "run_scale_curves", "summary_markdown", "summary_path"]

log = logging.getLogger("benchmarks.perf.scale_curves")

ROOT = Path(__file__).resolve().parents[2]
SIZES = (2_000, 5_000, 10_000, 30_000, 100_000, 300_000, 500_000)
WARMUP_ROWS = 1_000
DETECTORS = ("iforest", "ocsvm-sgd", "knn-normals", "ocsvm", "pu-bagging", "pugan")
SCORE_ROWS = 10_000
#: the smallest training size: below it not every detector fits with its defaults
#: (knn-normals needs more labelled normals than it has neighbours)
MIN_SIZE = 100
DEFAULT_OUT = ROOT / "results" / "scale" / "scale.csv"
DEFAULT_FIGURE = ROOT / "reports" / "figures" / "scale_curves"
#: a skipped size's reason opens with one of these, and the table names it by the word beside it
CAPPED, OVER_BUDGET, STOPPED = "registry caps", "predicted fit", "stopped"
SKIP_WORDS = {CAPPED: "capped", OVER_BUDGET: "over budget", STOPPED: "stopped"}
COLUMNS = ("detector", "n_train", "n_fit_rows", "status", "reason", "fit_seconds",
           "score_seconds", "score_records_per_s", "auprc", "n_score", "threads",
           "detector_name", "detector_params", "code_version")


def predict_seconds(points: list[tuple[int, float]], n: int) -> float | None:
    """Fit time predicted at ``n`` rows from earlier (rows, seconds) measurements.

    Two points or more: the log-log slope of the last two, at least 1 (never optimistic about
    growth); one point: linear. None without measurements.
    """
    if not points:
        return None
    n1, t1 = points[-1]
    slope = 1.0
    if len(points) >= 2:
        n0, t0 = points[-2]
        if t0 > 0 and t1 > 0 and n1 > n0:
            slope = max(1.0, math.log(t1 / t0) / math.log(n1 / n0))
    return t1 * (n / n1) ** slope


def _other_detectors_rows(out: Path, detectors) -> pd.DataFrame:
    """The rows ``out`` already holds of detectors this run does not measure: a run for some
    detectors replaces their curves and keeps the others' (the committed file was made so)."""
    if not out.is_file():
        return pd.DataFrame(columns=list(COLUMNS))
    try:
        old = pd.read_csv(out)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ValueError(f"{out} is not a scale-curve table ({type(exc).__name__}: {exc}); "
                         "move it aside or give another --out") from None
    if "detector" not in old:
        raise ValueError(f"{out} has no detector column: not a scale-curve table; move it "
                         "aside or give another --out")
    return old[~old["detector"].isin(list(detectors))].reindex(columns=list(COLUMNS))


def measure(detectors, sizes, *, max_fit_seconds: float, out: Path) -> pd.DataFrame:
    """Run every (detector, size) in order, rewriting ``out`` whole (atomically) as each row
    finishes, so that a run killed midway leaves the rows it measured, never a half file.
    The rows ``out`` holds of other detectors stay in it; the frame returned is this run's."""
    from benchmarks.cache import atomic_write_text
    from benchmarks.fingerprint import row_code_version
    from benchmarks.perf.data import kdd_like
    from benchmarks.registry import fit_detector, get_spec, make_detector, plugin_registration

    # scored records come from a pool of base records that no training set draws from
    X_score, y_score, _ = kdd_like(SCORE_ROWS, seed=1, part="score")
    Xw, yw, known_w = kdd_like(WARMUP_ROWS, seed=2, part="train")   # every warm-up's input
    rows: list[dict] = []
    kept = _other_detectors_rows(out, detectors)
    out.parent.mkdir(parents=True, exist_ok=True)
    import torch  # noqa: F401  (loaded first, so that thread_limits sets its threads too)

    from benchmarks.isolation import thread_limits

    with thread_limits(1):
        for name in detectors:
            spec = get_spec(name)
            points: list[tuple[int, float]] = []
            warm = make_detector(name, random_state=0)
            version = row_code_version(warm, plugin_registration(name))
            try:
                fit_detector(warm, spec.supervision, Xw, yw, known_w).decision_function(Xw[:100])
            except Exception as exc:  # the timed fits say what fails; the curve goes on
                log.warning("%s: warm-up fit failed (%s: %s)", name, type(exc).__name__, exc)
            del warm
            failed_at = None   # the size whose fit failed: larger ones are not attempted
            for n in sorted(sizes):
                X, y, known = kdd_like(n, seed=0, part="train")
                n_fit = int(known.sum()) if spec.supervision == "normals-only" else n
                row = dict(detector=name, n_train=n, n_fit_rows=n_fit, status="ok", reason="",
                           n_score=SCORE_ROWS, threads=1, detector_name=name,
                           detector_params="{}", code_version=version)
                guess = predict_seconds(points, n)
                if failed_at is not None:
                    row.update(status="skipped", reason=f"{STOPPED}: the fit failed at "
                                                        f"{failed_at} rows")
                elif spec.max_train_rows is not None and n_fit > spec.max_train_rows:
                    row.update(status="skipped", reason=f"{CAPPED} {name} at "
                                                        f"{spec.max_train_rows} training rows")
                elif guess is not None and guess > max_fit_seconds:
                    row.update(status="skipped",
                               reason=f"{OVER_BUDGET} {guess:.3g} s > {max_fit_seconds:g} s "
                                      f"budget (from the previous sizes)")
                else:
                    try:
                        fit_s, score_s, auprc = _time_one(name, spec, X, y, known, X_score,
                                                          y_score)
                    except Exception as exc:  # this detector's curve stops; the others run
                        failed_at = n
                        row.update(status="failed", reason=f"{type(exc).__name__}: {exc}")
                    else:
                        points.append((n, fit_s))
                        row.update(fit_seconds=fit_s, score_seconds=score_s,
                                   score_records_per_s=SCORE_ROWS / score_s, auprc=auprc)
                # a failed fit is a warning, so that -q (WARNING and up) still shows it
                log.log(logging.WARNING if row["status"] == "failed" else logging.INFO,
                        "%s n=%d: %s %s", name, n, row["status"],
                        f"fit {row['fit_seconds']:.2f} s, score {row['score_seconds']:.2f} s"
                        if row["status"] == "ok" else row["reason"])
                rows.append(row)
                now = pd.DataFrame(rows, columns=list(COLUMNS))
                atomic_write_text(out, (pd.concat([kept, now], ignore_index=True)
                                        if len(kept) else now).to_csv(index=False))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _time_one(name, spec, X, y, known, X_score, y_score) -> tuple[float, float, float]:
    """Fit seconds, score seconds and AUPRC of one detector at one size (raises as its fit
    or scoring does)."""
    from sklearn.metrics import average_precision_score

    from benchmarks.registry import fit_detector, make_detector

    det = make_detector(name, random_state=0)
    t0 = time.perf_counter()
    fit_detector(det, spec.supervision, X, y, known)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = det.decision_function(X_score)
    score_s = time.perf_counter() - t0
    return fit_s, score_s, float(average_precision_score(y_score, scores))


def plot(csv: Path, figure: Path) -> list[Path]:
    """Log-log fit and score time against training rows, one line per detector in its colour
    (:func:`benchmarks.figures.detector_colour`), named at its last point instead of in a legend,
    so the eye goes from the curve to its name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchmarks.figures import line_style, save_figure

    frame = pd.read_csv(csv)
    ok = frame[frame["status"] == "ok"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharex=True, layout="constrained")
    order = list(dict.fromkeys(frame["detector"]))
    for ax, col, title in ((axes[0], "fit_seconds", "fit time"),
                           (axes[1], "score_seconds", f"score time ({SCORE_ROWS:,} records)")):
        for i, name in enumerate(order):
            d = ok[ok["detector"] == name].sort_values("n_train")
            if d.empty:
                continue
            style = line_style(name, i)
            ax.plot(d["n_train"], d[col], markersize=4, **style)
            ax.annotate(f" {name}", (d["n_train"].iloc[-1], d[col].iloc[-1]), fontsize=8,
                        color=style["color"], va="center", ha="left")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(right=ax.get_xlim()[1] * 3)   # room for the names at the right end
        ax.set_xlabel("training rows (KDD-like, 6 features)")
        ax.set_ylabel("seconds (1 thread, after a warm-up fit)")
        ax.set_title(title)
        ax.grid(True, which="major", alpha=0.4)
    note = footnote(frame)
    if note:
        fig.supxlabel(note, fontsize=7, x=0.01, ha="left")
    return save_figure(fig, Path(figure), dpi=150)


def _seconds(v: float) -> str:
    return f"{v:.2f} s" if v < 10 else f"{v:.1f} s"


def _span(values: pd.Series, digits: int) -> str:
    """``low-high`` of ``values`` at ``digits`` decimals, one number when they round alike,
    "" when there are none."""
    if values.empty:
        return ""
    low, high = (f"{float(v):.{digits}f}" for v in (values.min(), values.max()))
    return low if low == high else f"{low}-{high}"


def _not_measured(status: str, reason: str) -> str:
    """A table cell's word for a size not measured, from the row's status and reason."""
    if status == "failed":
        return "failed"
    for start, word in SKIP_WORDS.items():
        if reason.startswith(start):
            return word
    return status


def summary_markdown(frame: pd.DataFrame, source: str = "results/scale/scale.csv") -> str:
    """The curves as a table (markdown): fit seconds per detector and training size, the range
    of scoring times and of the scored records' AUPRC. Generated from the CSV ``source`` alone,
    so the docs point to it instead of copying numbers that a new run would change."""
    frame = frame.reindex(columns=list(COLUMNS))   # a CSV of an earlier run may lack some
    frame["reason"] = frame["reason"].fillna("")
    # a size measured twice (an appended CSV): the later row is the measurement
    frame = frame.drop_duplicates(["detector", "n_train"], keep="last")
    sizes = sorted(frame["n_train"].unique())
    scored = sorted({f"{int(n):,}" for n in frame["n_score"].dropna()}) or ["the"]
    header = ["detector", *(f"{int(n):,}" for n in sizes),
              f"scoring {' or '.join(scored)} records", "AUPRC of the scored records"]
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join(["---", *("---:" for _ in sizes), "---", "---"]) + " |"]
    for name in dict.fromkeys(frame["detector"]):
        rows = frame[frame["detector"] == name].set_index("n_train")
        cells = []
        for n in sizes:
            if n not in rows.index:
                cells.append("")
                continue
            row = rows.loc[n]
            cells.append(_seconds(float(row["fit_seconds"])) if row["status"] == "ok"
                         else _not_measured(row["status"], str(row["reason"])))
        ok = rows[rows["status"] == "ok"]
        seconds = _span(ok["score_seconds"], 2)
        cells += [f"{seconds} s" if seconds else "", _span(ok["auprc"], 3)]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    versions = ", ".join(sorted({str(v) for v in frame["code_version"].dropna()})) or "none"
    return ("# Scale curves: fit seconds by training rows\n\n"
            "One thread, after an untimed warm-up fit; a size not measured says why (capped: "
            "the registry's row cap; over budget: the predicted fit exceeded "
            "`--max-fit-seconds`; stopped: a smaller size failed). The AUPRC scores the same "
            "held-out records at every size: a sanity check on one draw, not a result. Code "
            f"versions: {versions}. Generated by `pugan-bench scale-curves` from {source}; do "
            "not edit.\n\n" + "\n".join(lines) + "\n")


def _shown_path(path: Path) -> str:
    """``path`` as the table names it: relative to the repository when it lies inside."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def summary_path(figure: Path) -> Path:
    """Where the table of a figure's curves is written: beside the figure, as ``.md``."""
    return Path(figure).with_suffix(".md")


def footnote(frame: pd.DataFrame) -> str:
    """The figure's footnote: the fits that failed, each named with its size, then the
    detectors not measured from some size on (budget, cap, or stopped after a failure);
    empty when every row is ``ok``."""
    parts = []
    failed = frame[frame["status"] == "failed"].groupby("detector", sort=False)["n_train"].min()
    if len(failed):
        parts.append("; ".join(f"{d} failed at {n} rows" for d, n in failed.items()))
    skipped = (frame[frame["status"] == "skipped"].groupby("detector", sort=False)["n_train"]
               .min())
    if len(skipped):
        parts.append("not measured (budget, cap or stopped): " + ", ".join(
            f"{d} from {n:,} rows" for d, n in skipped.items()))
    return "; ".join(parts)


def failed_rows(frame: pd.DataFrame) -> list[str]:
    """``"<detector> at <n> rows: <reason>"`` for every row whose fit failed."""
    return [f"{r.detector} at {r.n_train} rows: {r.reason}"
            for r in frame[frame["status"] == "failed"].itertuples()]


def check_options(sizes, max_fit_seconds: float, detectors=()) -> None:
    """Refuse bad sizes, budgets and repeated names before any fit, naming the option.

    Without this a size of 0 fails only after the warm-up fits, deep in the data generator,
    with a message that names neither the option nor the value given; and a size or detector
    given twice would be measured twice, leaving two rows for one point of a curve.
    """
    bad = [n for n in sizes if isinstance(n, bool) or not isinstance(n, int) or n < MIN_SIZE]
    if not list(sizes) or bad:
        raise ValueError(f"--sizes must be integers >= {MIN_SIZE} (training rows); got "
                         f"{bad or list(sizes)}")
    for option, values in (("--sizes", list(sizes)), ("--detectors", list(detectors))):
        twice = sorted({v for v in values if values.count(v) > 1}, key=str)
        if twice:
            raise ValueError(f"{option} names {twice} more than once")
    if math.isnan(max_fit_seconds) or max_fit_seconds <= 0:
        raise ValueError(f"--max-fit-seconds must be > 0; got {max_fit_seconds}")
    # an unknown name found after the first detectors' fits would leave --out rewritten with
    # their rows only
    from benchmarks.registry import get_spec

    for name in detectors:
        get_spec(name)


def run_scale_curves(detectors=DETECTORS, sizes=SIZES, *, max_fit_seconds: float = 300.0,
                     out: str | Path = DEFAULT_OUT, figure: str | Path = DEFAULT_FIGURE,
                     plot_only: bool = False) -> tuple[list[Path], pd.DataFrame | None]:
    """Measure (unless ``plot_only``) into ``out``, draw ``figure``.{png,svg} and write its
    table ``figure``.md (``pugan-bench scale-curves``); returns the paths written and the rows
    measured (None with ``plot_only``), from which the caller reads the failed fits."""
    from benchmarks.cache import atomic_write_text

    out = Path(out)
    measured = None
    if not plot_only:
        check_options(sizes, max_fit_seconds, detectors)
        t0 = time.monotonic()
        measured = measure(list(detectors), list(sizes), max_fit_seconds=max_fit_seconds,
                           out=out)
        log.info("measured in %.0f s; %s", time.monotonic() - t0, out)
    paths = plot(out, Path(figure))
    table = summary_path(Path(figure))
    atomic_write_text(table, summary_markdown(pd.read_csv(out), _shown_path(out)))
    paths.append(table)
    for path in paths:
        log.info("wrote %s", path)
    return paths, measured


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.perf.scale_curves ARGS``: ``pugan-bench scale-curves ARGS``."""
    from benchmarks.cli import main as cli_main

    return cli_main(["scale-curves", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
