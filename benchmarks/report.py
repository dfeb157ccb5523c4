"""Tables and figures from a sweep's ``results.csv`` alone (no torch, no detector code).

``report(DIR)`` writes:

- ``DIR/table2.csv``: one row per (dataset, method, anomaly ratio, labelled fraction): mean and
  standard deviation over seeds of precision, recall and F1 at the detector's own threshold,
  mean AUROC, AUPRC and ``best_f1_oracle`` (the best F1 over all thresholds, chosen with the
  test labels: an upper bound, not a result), mean fit seconds, cell counts by status, and the
  paper's numbers where it has them (``paper_precision``, ``paper_recall``, ``paper_f1``);
- ``DIR/table1.csv`` (when the results include a paper preset): the paper's Table 1 beside
  ours, from :func:`benchmarks.splits.table1`;
- markdown copies in ``reports/``: ``table1.md``, ``table2.md`` for the folder named ``paper``,
  ``<name>_table2.md`` for any other folder ``<name>``;
- figures in ``reports/figures/`` (PNG and SVG), prefixed with the folder name: for each
  dataset, F1 and AUPRC against the anomaly ratio (one panel per labelled fraction) and against
  the labelled fraction (one panel per anomaly ratio), one line per detector with a band of one
  standard deviation over seeds. A figure needs at least two values on its x axis.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["PAPER_TABLE2", "load_results", "markdown_table", "plot_sweep", "report", "table2"]

log = logging.getLogger(__name__)

#: Table 2 of the paper: (preset, method) -> (precision, recall, F1)
PAPER_TABLE2 = {
    ("kddcup99-high", "PU-GAN"): (0.821, 0.925, 0.870),
    ("kddcup99-low", "PU-GAN"): (0.816, 0.647, 0.722),
    ("kddcup99-low", "OCSVM"): (0.729, 0.803, 0.716),
    ("moons-paper", "PU-GAN"): (1.0, 0.995, 0.997),
    ("moons-paper", "OCSVM"): (0.85, 0.847, 0.847),
}
#: registry names compared with the paper's methods. The paper does not say on which records
#: its OCSVM was fitted, so both our exact OCSVM variants are shown beside its numbers.
PAPER_METHOD = {"pugan": "PU-GAN", "ocsvm": "OCSVM", "ocsvm-normals": "OCSVM"}

GROUP = ["dataset", "detector", "anomaly_ratio", "labelled_fraction"]
FIGURE_METRICS = {"f1": "F1 (own threshold)", "auprc": "AUPRC"}


def load_results(folder: str | Path) -> pd.DataFrame:
    """Read ``folder/results.csv`` (a folder or the CSV path itself)."""
    path = Path(folder)
    if path.is_dir():
        path = path / "results.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no results file at {path}; run `pugan-bench run CONFIG --out "
                                f"{path.parent}` first")
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    missing = sorted(set(GROUP + ["seed", "status", "f1", "auprc"]) - set(frame.columns))
    if missing:
        raise ValueError(f"{path} is not a pugan-bench results file: missing column(s) {missing}")
    for col in ("error", "preset", "detector_name"):
        if col in frame:
            frame[col] = frame[col].fillna("").astype(str)
    return frame


def _status_counts(g: pd.DataFrame) -> dict:
    counts = g["status"].value_counts()
    out = {f"n_{s}": int(counts.get(s, 0)) for s in ("ok", "failed", "timeout", "skipped")}
    notes = sorted({e for e in g.loc[g["status"] != "ok", "error"] if e})
    out["note"] = "; ".join(notes)[:300]
    return out


def table2(frame: pd.DataFrame) -> pd.DataFrame:
    """Aggregate a results frame over seeds (see the module docstring for the columns)."""
    rows = []
    for keys, g in frame.groupby(GROUP, sort=True, dropna=False):
        ok = g[g["status"] == "ok"]
        row = dict(zip(GROUP, keys, strict=True))
        row["method"] = row.pop("detector")
        for m in ("precision", "recall", "f1"):
            vals = ok[m].astype(float)
            row[m] = vals.mean() if len(vals) else np.nan
            row[f"{m}_std"] = vals.std(ddof=0) if len(vals) else np.nan
        for m in ("auroc", "auprc"):
            row[m] = ok[m].astype(float).mean() if len(ok) else np.nan
        row["best_f1_oracle"] = ok["best_f1"].astype(float).mean() if len(ok) else np.nan
        row["fit_seconds"] = (ok["fit_seconds"].astype(float).mean()
                              if len(ok) and "fit_seconds" in ok else np.nan)
        row.update(_status_counts(g))
        preset = g["preset"].iloc[0] if "preset" in g else ""
        name = g["detector_name"].iloc[0] if "detector_name" in g else row["method"]
        paper_method = PAPER_METHOD.get(name, "")
        paper = PAPER_TABLE2.get((preset, paper_method))
        row["paper_method"] = paper_method if paper else ""
        for m, v in zip(("precision", "recall", "f1"), paper or (np.nan,) * 3, strict=True):
            row[f"paper_{m}"] = v
        rows.append(row)
    cols = ["dataset", "method", "anomaly_ratio", "labelled_fraction", "precision",
            "precision_std", "recall", "recall_std", "f1", "f1_std", "auroc", "auprc",
            "best_f1_oracle", "fit_seconds", "n_ok", "n_failed", "n_timeout", "n_skipped",
            "paper_method", "paper_precision", "paper_recall", "paper_f1", "note"]
    return pd.DataFrame(rows, columns=cols)


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float | np.floating):
        return f"{v:.4g}" if abs(v) < 1e-3 and v != 0 else f"{v:.3f}"
    return str(v).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub markdown table (no extra dependency)."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    sep = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(_fmt(v) for v in row) + " |"
            for row in frame.itertuples(index=False, name=None)]
    return "\n".join([header, sep, *body]) + "\n"


def _table2_markdown(t2: pd.DataFrame, name: str) -> str:
    show = pd.DataFrame({
        "dataset": t2["dataset"], "method": t2["method"],
        # 3 significant digits: the KDD presets' ratio 0.00184 must not read as 0.002
        "anomaly ratio": [f"{v:.3g}" for v in t2["anomaly_ratio"]],
        "labelled fraction": [f"{v:.3g}" for v in t2["labelled_fraction"]],
    })
    for m in ("precision", "recall", "f1"):
        show[m] = [f"{a:.3f} ± {s:.3f}" if not math.isnan(a) else ""
                   for a, s in zip(t2[m], t2[f"{m}_std"], strict=True)]
    show["AUROC"] = t2["auroc"]
    show["AUPRC"] = t2["auprc"]
    show["best F1 (ORACLE)"] = t2["best_f1_oracle"]
    show["fit s"] = t2["fit_seconds"]
    show["cells ok/failed/timeout/skipped"] = [
        f"{a}/{b}/{c}/{d}" for a, b, c, d in
        zip(t2["n_ok"], t2["n_failed"], t2["n_timeout"], t2["n_skipped"], strict=True)]
    show["paper P / R / F1"] = [
        f"{p:.3f} / {r:.3f} / {f:.3f}" if not math.isnan(p) else ""
        for p, r, f in zip(t2["paper_precision"], t2["paper_recall"], t2["paper_f1"],
                           strict=True)]
    show["note"] = t2["note"]
    return (f"# Table 2 ({name}): anomaly detection results\n\n"
            "Mean ± standard deviation over seeds of precision, recall and F1 of the anomaly "
            "class at each detector's own threshold (chosen without test labels). "
            "\"best F1 (ORACLE)\" picks the threshold with the test labels, as the paper did: "
            "an upper bound, not a result. Generated by `pugan-bench report` from "
            "results.csv; do not edit.\n\n" + markdown_table(show))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(name)).strip("-") or "x"


def plot_sweep(frame: pd.DataFrame, prefix: str, outdir: str | Path) -> list[Path]:
    """Metric-versus-axis figures (PNG and SVG) for every dataset; returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    ok = frame[frame["status"] == "ok"].copy()
    written: list[Path] = []
    axes = (("anomaly_ratio", "labelled_fraction", "anomaly ratio", "labelled fraction"),
            ("labelled_fraction", "anomaly_ratio", "labelled fraction", "anomaly ratio"))
    for dataset, d in ok.groupby("dataset", sort=True):
        for x, panel, xlabel, plabel in axes:
            if d[x].nunique() < 2:
                continue
            for metric, mlabel in FIGURE_METRICS.items():
                data = d[[x, panel, "detector", "seed", metric]].astype({metric: float})
                grid = sns.relplot(
                    data=data, x=x, y=metric, hue="detector", col=panel, kind="line",
                    marker="o", errorbar="sd", col_wrap=min(3, data[panel].nunique()),
                    height=3.2, aspect=1.2, facet_kws={"sharey": True},
                    hue_order=sorted(data["detector"].unique()))
                grid.set(xscale="log")
                ticks = sorted(data[x].unique())
                for ax in grid.axes.flat:
                    ax.set_xticks(ticks)
                    ax.set_xticklabels([f"{t:g}" for t in ticks], rotation=45)
                    ax.minorticks_off()
                grid.set_axis_labels(xlabel, mlabel)
                grid.set_titles(f"{plabel} = {{col_name:.3g}}")
                grid.figure.suptitle(f"{dataset}: {mlabel} vs {xlabel} (band: ±1 sd over seeds)",
                                     y=1.03)
                stem = f"{_safe(prefix)}_{_safe(dataset)}_{metric}_vs_{x}"
                for ext in ("png", "svg"):
                    path = outdir / f"{stem}.{ext}"
                    grid.figure.savefig(path, dpi=120, bbox_inches="tight")
                    written.append(path)
                plt.close(grid.figure)
    return written


def report(folder: str | Path, *, reports_dir: str | Path = "reports", figures: bool = True,
           with_table1: bool | None = None) -> list[Path]:
    """Regenerate tables and figures from ``folder/results.csv``; returns the paths written.

    ``with_table1``: write Table 1 (None: when the results include a paper preset).
    """
    folder = Path(folder)
    frame = load_results(folder)
    name = folder.resolve().name
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    md_prefix = "" if name == "paper" else f"{_safe(name)}_"
    written = []

    t2 = table2(frame)
    t2.to_csv(folder / "table2.csv", index=False)
    (reports_dir / f"{md_prefix}table2.md").write_text(_table2_markdown(t2, name))
    written += [folder / "table2.csv", reports_dir / f"{md_prefix}table2.md"]

    presets = set(frame["preset"]) if "preset" in frame else set()
    if with_table1 is None:
        from benchmarks.splits import PAPER_TABLE1

        with_table1 = bool(presets & set(PAPER_TABLE1))
    if with_table1:
        from benchmarks.splits import table1

        t1 = table1(seed=0)
        t1.to_csv(folder / "table1.csv", index=False)
        (reports_dir / f"{md_prefix}table1.md").write_text(
            "# Table 1: dataset composition, ours beside the paper's (paper_ columns)\n\n"
            "Generated by `pugan-bench report` (benchmarks.splits.table1, seed 0); do not "
            "edit.\n\n" + markdown_table(t1))
        written += [folder / "table1.csv", reports_dir / f"{md_prefix}table1.md"]

    if figures:
        written += plot_sweep(frame, name, reports_dir / "figures")
    counts = frame["status"].value_counts().to_dict()
    log.info("report for %s (%s): wrote %d file(s)", folder, counts, len(written))
    return written
