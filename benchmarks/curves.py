"""ROC and precision-recall curves from the per-record scores a sweep keeps beside its cells.

Each cell that finished ``ok`` stores its test scores and labels
(:func:`benchmarks.cache.read_cell_scores`), so curves are drawn after the fact, without
refitting. Per (dataset, detector) the curve of every seed is interpolated onto one grid (false
positive rate for ROC, recall for PR) and the band is the 95% Student-t interval over seeds,
clipped to [0, 1]; the dotted line is a random detector (the diagonal for ROC, the anomaly
share for PR). A curve is drawn from every ok cell of its (dataset, detector) or not at all:
cells without stored scores (cached before scores were kept) are counted, and their pair is
left to the kept table (``curves.csv``), which names the cells behind each curve.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.figures import figure_legend, line_style, safe_name, save_figure
from benchmarks.stats import mean_ci

__all__ = ["GRID", "cells_digest", "curve_figures", "curve_table", "current_curves",
           "plot_curves", "read_curve_table"]

log = logging.getLogger(__name__)

#: where every seed's curve is read off: false-positive rate (ROC) or recall (PR)
GRID = np.linspace(0.0, 1.0, 101)


def _roc(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, s)
    return np.interp(GRID, fpr, tpr)


def _pr(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Interpolated precision (the best precision at this recall or beyond), on GRID."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, _ = precision_recall_curve(y, s)
    envelope = np.maximum.accumulate(precision)  # recall falls along the arrays
    return np.interp(GRID, recall[::-1], envelope[::-1])


#: the columns of curves.csv that a kept table must have to be drawn (``cells`` may be absent
#: in an old table: its curves are then left out as of unknown cells)
CURVE_COLUMNS = ("dataset", "detector", "curve", "x", "mean", "low", "high", "chance",
                 "n_seeds")


def cells_digest(cell_ids) -> str:
    """A short hash of the cells behind one curve. Cell ids carry the code version, so a
    kept curve whose digest differs from its rows' was drawn from other code's scores."""
    import hashlib

    return hashlib.sha256("\n".join(sorted(map(str, cell_ids))).encode()).hexdigest()[:16]


def _ok_digests(frame: pd.DataFrame) -> pd.Series:
    ok = frame[frame["status"] == "ok"]
    return ok.groupby(["dataset", "detector"], sort=True)["cell_id"].agg(cells_digest)


def read_curve_table(path: str | Path) -> pd.DataFrame:
    """A kept ``curves.csv``, its ``cells`` digests and labels read as text (a digest of
    digits alone must not turn into a number, nor a label into a missing value). A file that
    is not such a table is a ``ValueError`` naming it."""
    remedy = "delete it: a report of the sweep with its cells' scores writes it again"
    try:
        table = pd.read_csv(path, dtype={"cells": str, "dataset": str, "detector": str},
                            keep_default_na=False, na_values=[""])
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{path} is not a curve table ({type(exc).__name__}: {exc}); "
                         f"{remedy}") from None
    missing = sorted(set(CURVE_COLUMNS) - set(table.columns))
    if missing:
        raise ValueError(f"{path} is not a curve table: missing column(s) {missing}; {remedy}")
    return table


def current_curves(table: pd.DataFrame, frame: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """The rows of a kept curve table drawn from the cells ``frame`` holds now, and the
    (dataset, detector) pairs left out because their curves came from other cells (older
    code, other seeds) or do not say which cells they came from."""
    if table.empty:
        return table, []
    digests = _ok_digests(frame)
    pairs = table[["dataset", "detector"]].drop_duplicates().itertuples(index=False)
    keep, dropped = [], []
    for dataset, det in pairs:
        rows = table[(table["dataset"] == dataset) & (table["detector"] == det)]
        kept = set(rows["cells"]) if "cells" in rows else set()
        if kept == {digests.get((dataset, det))}:
            keep.append(rows)
        else:
            dropped.append((dataset, det))
    return (pd.concat(keep, ignore_index=True) if keep else table.iloc[:0]), dropped


def curve_table(frame: pd.DataFrame, folder: str | Path) -> tuple[pd.DataFrame, dict]:
    """Long table of (dataset, detector, curve, x, mean, low, high, chance, n_seeds, cells)
    over the ok cells of ``frame``, ``cells`` naming them (:func:`cells_digest`); and, per
    (dataset, detector) with ok cells that have no stored scores, how many. Such a pair gets
    no curve: a band over the seeds that happen to have scores is not the sweep's band."""
    from benchmarks.cache import read_cell_scores

    ok = frame[frame["status"] == "ok"]
    digests = _ok_digests(frame)
    rows, missing = [], {}
    for (dataset, det), g in ok.groupby(["dataset", "detector"], sort=True):
        per_seed = {"roc": [], "pr": []}
        shares = []
        for key in g["cell_id"]:
            try:
                scores = read_cell_scores(folder, key)
            except ValueError as exc:  # one damaged file: this pair's curve only is lost
                log.warning("%s; no fresh curve for %s on %s", exc, det, dataset)
                scores = None
            if scores is None:
                missing[(dataset, det)] = missing.get((dataset, det), 0) + 1
                continue
            y = scores["y_test"].to_numpy()
            if y.min() == y.max():
                continue  # one class: no curve
            s = scores["score"].to_numpy(np.float64)
            per_seed["roc"].append(_roc(y, s))
            per_seed["pr"].append(_pr(y, s))
            shares.append(float(y.mean()))
        if (dataset, det) in missing:
            continue
        for curve, values in per_seed.items():
            if not values:
                continue
            stack = np.vstack(values)
            chance = GRID if curve == "roc" else np.full_like(GRID, np.mean(shares))
            for i, x in enumerate(GRID):
                mean, _, low, high = mean_ci(stack[:, i])
                rows.append({"dataset": dataset, "detector": det, "curve": curve, "x": x,
                             "mean": mean, "low": low, "high": high, "chance": chance[i],
                             "n_seeds": len(values),
                             "cells": digests[(dataset, det)]})
    return pd.DataFrame(rows), missing


def curve_figures(prefix: str, outdir: str | Path) -> list[Path]:
    """Every file :func:`plot_curves` may write for ``prefix`` (both curves, PNG and SVG)."""
    return [Path(outdir) / f"{safe_name(prefix)}_{curve}_curves.{ext}"
            for curve in ("pr", "roc") for ext in ("png", "svg")]


def plot_curves(table: pd.DataFrame, prefix: str, outdir: str | Path) -> list[Path]:
    """One figure per curve kind: a panel per dataset, a line and band per detector."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[Path] = []
    labels = {"roc": ("false positive rate", "true positive rate"),
              "pr": ("recall", "precision")}
    for curve, part in table.groupby("curve", sort=True):
        datasets = sorted(part["dataset"].unique())
        fig, axes = plt.subplots(1, len(datasets), figsize=(3.8 * len(datasets), 3.6),
                                 squeeze=False, layout="constrained")
        for ax, dataset in zip(axes[0], datasets, strict=True):
            d = part[part["dataset"] == dataset]
            for i, (det, g) in enumerate(d.groupby("detector", sort=True)):
                style = {**line_style(det, i), "marker": None}
                ax.plot(g["x"], g["mean"], label=det, **style)
                band = g["low"].notna()
                ax.fill_between(g["x"][band], g["low"][band], g["high"][band],
                                color=style["color"], alpha=0.15, linewidth=0)
            first = d[d["detector"] == d["detector"].iloc[0]]
            ax.plot(first["x"], first["chance"], color="black", linestyle=":", linewidth=1,
                    label="random detector")
            ax.set_xlim(0, 1)
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlabel(labels[curve][0])
            ax.set_ylabel(labels[curve][1])
            ax.set_title(dataset, fontsize=9)
        figure_legend(fig, axes, loc="outside right center", fontsize=8)
        fig.suptitle(f"{curve.upper()} curves: mean over seeds, band 95% CI clipped to [0, 1]")
        written += save_figure(fig, Path(outdir) / f"{safe_name(prefix)}_{curve}_curves")
    return written
