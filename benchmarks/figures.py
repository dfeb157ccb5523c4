"""Figures a reader can trust: one colour per detector everywhere, intervals not spreads.

Every figure of the report draws a detector in the same colour (:func:`detector_colour`,
from the Okabe-Ito palette, which stays distinguishable under the common colour-vision
deficiencies), shows uncertainty as the 95% Student-t interval over seeds clipped to the
metric's range [0, 1] (never ±1 sd running past it), and marks the AUPRC a random detector
gets (the share of anomalies among the scored records) wherever AUPRC is plotted.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.stats import mean_ci

__all__ = ["FIGURE_METRICS", "detector_colour", "line_style", "plot_sweep", "plot_table2", "safe_name",
           "save_figure"]

FIGURE_METRICS = {"f1": "F1 (own threshold)", "auprc": "AUPRC"}

#: Okabe-Ito, black last (it is kept for reference lines)
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
           "#999999")
#: the suite's own detectors, by registry name: (colour, dash), no two alike, so that every
#: figure tells them apart by line alone; PU-GAN is vermillion and solid
FIXED = {
    "pugan": ("#D55E00", "-"), "pugan-distilled": ("#D55E00", "-."),
    "pu-bagging": ("#E69F00", "-"), "pu-classifier": ("#E69F00", "--"),
    "ocsvm-normals": ("#0072B2", "-"), "ocsvm": ("#0072B2", "--"),
    "ocsvm-sgd": ("#56B4E9", "-"), "ocsvm-sgd-normals": ("#56B4E9", "--"),
    "iforest": ("#009E73", "-"), "iforest-normals": ("#009E73", "--"),
    "knn-normals": ("#CC79A7", "-"), "lof-normals": ("#CC79A7", "--"),
    "ecod-normals": ("#999999", "-"), "autoencoder-normals": ("#999999", "--"),
    "deepsvdd-normals": ("#999999", ":"), "oracle-supervised": ("#000000", "-"),
}
_DASHES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _registry_name(label: str) -> str:
    """The registry name a label starts with: labels add settings after a space, in round
    brackets without one (a config's default ``name(params)``) or in square ones."""
    return re.split(r"[ (\[]", str(label), maxsplit=1)[0]


def _style(label: str) -> tuple[str, str]:
    """(colour, dash) of a detector label: the suite's fixed pair, else a stable pick of a
    palette colour and a dash from the name's hash (a plugin's detector)."""
    name = _registry_name(label)
    if name in FIXED:
        return FIXED[name]
    digest = int(hashlib.sha256(name.encode()).hexdigest(), 16)
    return PALETTE[digest % len(PALETTE)], _DASHES[(digest // len(PALETTE)) % len(_DASHES)]


def detector_colour(label: str) -> str:
    """The colour of a detector label in every figure (:data:`FIXED`, else a stable pick)."""
    return _style(label)[0]


def line_style(label: str, index: int) -> dict:
    """Colour and dash by detector; entries sharing a registry name (PU-GAN at the paper's
    settings beside PU-GAN tuned) differ by marker, and an entry of a solid-line detector at
    settings of its own (a label with settings in round or square brackets, other than
    "tuned") is dotted."""
    colour, dash = _style(label)
    settings = "(" in str(label) or "[" in str(label)
    if dash == "-" and settings and "tuned" not in str(label):
        dash = ":"
    return {"color": colour, "marker": _MARKERS[index % len(_MARKERS)], "linestyle": dash}


def safe_name(name: str) -> str:
    """``name`` as a file-name part: runs of other characters become one dash."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(name)).strip("-") or "x"


def save_figure(fig, path_stem: Path, *, dpi: int = 130) -> list[Path]:
    """Write ``fig`` as PNG and SVG beside each other (``path_stem`` without a suffix), close
    it, and return the two paths."""
    import matplotlib
    import matplotlib.pyplot as plt

    path_stem = Path(path_stem)
    path_stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    # the same figure gives the same bytes, so a rerun of the report changes no committed
    # figure: no timestamp in the SVG, and its element ids drawn from a fixed salt
    with matplotlib.rc_context({"svg.hashsalt": "pugan-bench"}):
        for ext in ("png", "svg"):
            path = path_stem.with_suffix(f".{ext}")
            fig.savefig(path, dpi=dpi, bbox_inches="tight",
                        metadata={"Date": None} if ext == "svg" else None)
            out.append(path)
    plt.close(fig)
    return out


def figure_legend(fig, axes, **kwargs) -> None:
    """One legend for a figure of panels, with every label drawn in any panel once: a detector
    skipped on the first panel's dataset still gets its entry."""
    handles = {}
    for ax in np.ravel(axes):
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    fig.legend(list(handles.values()), list(handles), frameon=False, **kwargs)


def _interval_lines(ax, data: pd.DataFrame, x: str, metric: str) -> None:
    """One line per detector: the mean over seeds with its clipped 95% interval as a band."""
    for i, (det, d) in enumerate(sorted(data.groupby("detector"), key=lambda kv: kv[0])):
        stats = [(xv, *mean_ci(g[metric])) for xv, g in d.groupby(x, sort=True)]
        xs = np.array([s[0] for s in stats], dtype=float)
        mean = np.array([s[1] for s in stats])
        low = np.array([s[3] for s in stats])
        high = np.array([s[4] for s in stats])
        style = line_style(det, i)
        ax.plot(xs, mean, label=det, markersize=4, **style)
        ok = np.isfinite(low) & np.isfinite(high)
        ax.fill_between(xs[ok], low[ok], high[ok], color=style["color"], alpha=0.15,
                        linewidth=0)


def _chance(data: pd.DataFrame, x: str) -> pd.Series:
    """AUPRC of a random detector per x value: the test set's anomaly share."""
    if {"n_test_anomalies", "n_test"} <= set(data.columns):
        share = data["n_test_anomalies"].astype(float) / data["n_test"].astype(float)
    else:
        share = data["anomaly_ratio"].astype(float)
    return share.groupby(data[x]).mean().sort_index()


def plot_sweep(frame: pd.DataFrame, prefix: str, outdir: str | Path) -> list[Path]:
    """For each dataset, F1 and AUPRC against the anomaly ratio (one panel per labelled
    fraction) and against the labelled fraction (one panel per ratio); returns the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outdir = Path(outdir)
    ok = frame[frame["status"] == "ok"]
    written: list[Path] = []
    axes_spec = (("anomaly_ratio", "labelled_fraction", "anomaly ratio", "labelled fraction"),
                 ("labelled_fraction", "anomaly_ratio", "labelled fraction", "anomaly ratio"))
    for dataset, d in ok.groupby("dataset", sort=True):
        for x, panel, xlabel, plabel in axes_spec:
            if d[x].nunique() < 2:
                continue
            panels = sorted(d[panel].unique())
            ncol = min(3, len(panels))
            nrow = -(-len(panels) // ncol)
            for metric, mlabel in FIGURE_METRICS.items():
                fig, axs = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 3.0 * nrow),
                                        sharey=True, squeeze=False, layout="constrained")
                for ax, value in zip(axs.flat, panels, strict=False):
                    part = d[d[panel] == value].astype({metric: float})
                    _interval_lines(ax, part, x, metric)
                    if metric == "auprc":
                        chance = _chance(part, x)
                        ax.plot(chance.index, chance.to_numpy(), color="black", linestyle=":",
                                linewidth=1, label="chance (anomaly share)")
                    ax.set_xscale("log")
                    ticks = sorted(part[x].unique())
                    ax.set_xticks(ticks, [f"{t:g}" for t in ticks], rotation=45)
                    ax.minorticks_off()
                    ax.set_ylim(-0.02, 1.02)
                    ax.set_title(f"{plabel} = {value:.3g}", fontsize=9)
                    ax.set_xlabel(xlabel)
                    ax.set_ylabel(mlabel)
                for ax in list(axs.flat)[len(panels):]:
                    ax.set_visible(False)
                figure_legend(fig, axs, loc="outside right center", fontsize=8)
                fig.suptitle(f"{dataset}: {mlabel} vs {xlabel} (band: 95% CI over seeds, "
                             "clipped to [0, 1])")
                stem = f"{safe_name(prefix)}_{safe_name(dataset)}_{metric}_vs_{x}"
                written += save_figure(fig, outdir / stem, dpi=120)
    return written


def plot_table2(t2: pd.DataFrame, path_stem: Path,
                metrics=(("f1", "F1 (own threshold)"), ("auprc", "AUPRC"))) -> list[Path]:
    """Table 2 as a dot plot: per dataset (rows) and metric (columns), each method's mean
    with its 95% interval; the paper's F1 marked where it reports one, chance for AUPRC."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(t2["dataset"]))
    methods = sorted(t2["method"].unique())
    fig, axs = plt.subplots(len(datasets), len(metrics),
                            figsize=(4.2 * len(metrics), 0.32 * len(methods) * len(datasets) + 1.5),
                            sharex=True, squeeze=False, layout="constrained")
    for r, dataset in enumerate(datasets):
        rows = t2[t2["dataset"] == dataset].set_index("method")
        for c, (metric, mlabel) in enumerate(metrics):
            ax = axs[r, c]
            for i, method in enumerate(methods):
                if method not in rows.index or not np.isfinite(rows.loc[method, metric]):
                    continue
                row = rows.loc[method]
                lo, hi = row[f"{metric}_ci_low"], row[f"{metric}_ci_high"]
                err = [[row[metric] - lo], [hi - row[metric]]] if np.isfinite(lo) else None
                ax.errorbar(row[metric], i, xerr=err, fmt="o", capsize=3,
                            color=detector_colour(method))
                if metric == "f1" and np.isfinite(row.get("paper_f1_oracle", np.nan)):
                    ax.plot(row["paper_f1_oracle"], i, marker="x", color="black", markersize=8,
                            label="paper's F1 (oracle threshold)")
            if metric == "auprc":
                ax.axvline(float(rows["anomaly_ratio"].iloc[0]), color="black", linestyle=":",
                           linewidth=1, label="chance (anomaly ratio)")
            ax.set_yticks(range(len(methods)), methods if c == 0 else [""] * len(methods))
            ax.set_xlim(-0.02, 1.02)
            ax.grid(axis="x", alpha=0.3)
            ax.set_title(f"{dataset}: {mlabel}", fontsize=9)
    figure_legend(fig, axs, loc="outside lower center", ncol=2)
    fig.suptitle("Table 2: mean and 95% CI over seeds")
    return save_figure(fig, path_stem)
