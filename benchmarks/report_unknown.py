"""Unknown anomaly types: table and figure from a held-out-family sweep's ``results.csv``.

The sweep (``benchmarks/configs/unknown_types.yaml``) holds one attack family out of training per
dataset entry; each results row carries recall at the detector's own threshold and AUPRC on the
held-out family and on the seen families, each against all test normals
(:func:`benchmarks.metrics.heldout_metrics`). This module writes:

- ``DIR/unknown_types.csv`` and ``REPORTS/unknown_types.md``: per detector and held-out family,
  the mean over seeds and a 95% t-interval of each metric, the AUPRC a random detector would
  get (the anomaly share of that group against the normals), and the number of seeds;
- ``REPORTS/figures/unknown_types.{png,svg}``: one column per detector; AUPRC above (chance
  marked), recall at the own threshold below; held-out and seen families side by side, with
  intervals clipped to [0, 1].

The report and figure names are those of the shipped sweep (``results/unknown_types``); a sweep
in another folder puts its folder's name in front (``REPORTS/mine_unknown_types.md``), so two
held-out sweeps reported into one folder keep their own pages.

    python -m benchmarks.report_unknown results/unknown_types [--reports-dir reports]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.figures import figure_legend, safe_name, save_figure
from benchmarks.report import focus_detectors, format_ci
from benchmarks.stats import RIVALS_RULE, attempted, mean_ci, versus_best_where_ran

__all__ = ["GROUP_COLOURS", "plot_unknown", "report_stem", "report_unknown", "unknown_table",
           "unknown_versus_best"]

#: Okabe-Ito colours (safe for the common colour-vision deficiencies)
GROUP_COLOURS = {"heldout": "#D55E00", "seen": "#0072B2"}
GROUP_LABELS = {"heldout": "held-out family", "seen": "seen families"}
METRICS = ("auprc", "recall")


def _heldout_label(split_params: str) -> str:
    """The held-out families of a cell's split, joined by "+" ("none" without any). A config
    may name one family as a bare string, which the split reads as a list of one."""
    held = json.loads(split_params or "{}").get("holdout_types") or []
    if isinstance(held, str):
        held = [held]
    return "+".join(held) if held else "none"


def unknown_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (detector, held-out family): means, intervals, chance AUPRC, seed count."""
    need = {"detector", "split_params", "status", "n_test", "n_test_anomalies",
            "n_test_heldout", "n_test_seen", "recall_heldout", "auprc_heldout", "recall_seen",
            "auprc_seen"}
    missing = sorted(need - set(frame.columns))
    if missing:
        raise ValueError(f"results lack the held-out columns {missing}: run a sweep with "
                         "holdout_types (benchmarks/configs/unknown_types.yaml)")
    ok = frame[frame["status"] == "ok"].copy()
    ok["heldout"] = ok["split_params"].map(_heldout_label)
    ok = ok[ok["heldout"] != "none"]
    if ok.empty:
        raise ValueError("no finished cell with held-out types in these results")
    _one_setting_per_family(ok)
    normals = ok["n_test"] - ok["n_test_anomalies"]
    for group in ("heldout", "seen"):
        ok[f"chance_{group}"] = ok[f"n_test_{group}"] / (ok[f"n_test_{group}"] + normals)
    rows = []
    for (det, held), g in ok.groupby(["detector", "heldout"], sort=True):
        row = {"detector": det, "heldout_family": held, "n_seeds": int(g["seed"].nunique())}
        for group in ("heldout", "seen"):
            for metric in METRICS:
                m, _, lo, hi = mean_ci(g[f"{metric}_{group}"])
                row.update({f"{metric}_{group}": m, f"{metric}_{group}_lo": lo,
                            f"{metric}_{group}_hi": hi})
            row[f"chance_auprc_{group}"] = float(g[f"chance_{group}"].mean())
            row[f"n_test_{group}"] = float(g[f"n_test_{group}"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def _one_setting_per_family(ok: pd.DataFrame) -> None:
    """Refuse a family held out under several settings (datasets, ratios or fractions): its
    rows would be pooled into one mean whose interval counts each seed more than once."""
    keys = [c for c in ("dataset", "anomaly_ratio", "labelled_fraction") if c in ok]
    settings = ok.groupby("heldout")[keys].apply(lambda g: len(g.drop_duplicates()))
    several = settings[settings > 1]
    if len(several):
        family = several.index[0]
        raise ValueError(f"held-out family {family} was run under {several.iloc[0]} settings "
                         f"({', '.join(keys)}); the unknown-types tables compare one setting "
                         "per family: report each setting's sweep on its own")


def unknown_versus_best(frame: pd.DataFrame, metric: str = "auprc_heldout") -> pd.DataFrame:
    """Per held-out family, each PU-GAN entry against the other detectors on ``metric``
    (:func:`benchmarks.stats.versus_best`, paired over seeds)."""
    ran = attempted(frame).copy()
    ran["heldout"] = ran["split_params"].map(_heldout_label)
    ok = ran[ran["status"] == "ok"]
    pugan = focus_detectors(ran)
    _one_setting_per_family(ok[ok["heldout"] != "none"])
    rows = []
    # every family a PU-GAN entry ran on, finished or not: one it finished nothing on is
    # undecided, not left out of "handles every unknown family"
    for held, tried in ran[ran["heldout"] != "none"].groupby("heldout", sort=True):
        for focus in pugan:
            if focus in set(tried["detector"]):
                rows.append({"heldout_family": held, "metric": metric,
                             **versus_best_where_ran(tried, focus, pugan, metric)})
    return pd.DataFrame(rows)


def _fmt(value: float) -> str:
    """A mean with three decimals; "n/a" where nothing finished to take one."""
    return "n/a" if pd.isna(value) else f"{value:.3f}"


def _level(level: float) -> str:
    return "" if pd.isna(level) else f"{level:.4g}"


def versus_markdown(versus: pd.DataFrame) -> str:
    """The table of PU-GAN against the other detectors, as markdown."""
    if versus.empty:
        return "No PU-GAN entry in these results.\n"
    lines = ["| held-out family | PU-GAN entry | its AUPRC held-out | rival shown | its AUPRC "
             "held-out | difference [interval] | interval level | seeds | PU-GAN is |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in versus.itertuples(index=False):
        diff = format_ci(r.diff, r.diff_low, r.diff_high)
        lines.append(f"| {r.heldout_family} | {r.focus} | {_fmt(r.mean)} | {r.best_other} | "
                     f"{_fmt(r.best_other_mean)} | {diff} | {_level(r.ci_level)} | "
                     f"{r.n_pairs} | {r.position} |")
    return ("PU-GAN against the other detectors on the held-out family's AUPRC, paired over "
            f"seeds. {RIVALS_RULE}\n\n" + "\n".join(lines) + "\n")


def markdown(table: pd.DataFrame) -> str:
    """The table as markdown: one row per detector and held-out family."""
    head = ("| detector | held-out family | seeds | AUPRC held-out | AUPRC seen | chance AUPRC "
            "held-out / seen | recall held-out | recall seen |\n"
            "| --- | --- | --- | --- | --- | --- | --- | --- |\n")
    lines = []
    for r in table.itertuples(index=False):
        cell = {f"{k}_{g}": format_ci(getattr(r, f"{k}_{g}"), getattr(r, f"{k}_{g}_lo"),
                                 getattr(r, f"{k}_{g}_hi"), missing="n/a")
                for k in METRICS for g in ("heldout", "seen")}
        lines.append(f"| {r.detector} | {r.heldout_family} | {r.n_seeds} | {cell['auprc_heldout']} "
                     f"| {cell['auprc_seen']} | {r.chance_auprc_heldout:.3f} / "
                     f"{r.chance_auprc_seen:.3f} | {cell['recall_heldout']} | "
                     f"{cell['recall_seen']} |")
    note = ("Mean over seeds [95% t-interval, clipped to [0, 1]]. Each group (the held-out "
            "family, or the seen families) is scored against all test normals; chance AUPRC is "
            "that group's share of the records scored. Recall at the detector's own threshold.\n\n")
    return note + head + "\n".join(lines) + "\n"


def plot_unknown(table: pd.DataFrame, path_stem: Path) -> list[Path]:
    """The figure (PNG and SVG): AUPRC and recall per detector, held-out vs seen families."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dets = list(dict.fromkeys(table["detector"]))
    fams = sorted(table["heldout_family"].unique())
    fig, axes = plt.subplots(2, len(dets), figsize=(2.3 * len(dets) + 1, 5.2), sharey="row",
                             squeeze=False)
    x = np.arange(len(fams))
    for j, det in enumerate(dets):
        sub = table[table["detector"] == det].set_index("heldout_family").reindex(fams)
        for i, metric in enumerate(METRICS):
            ax = axes[i, j]
            for k, group in enumerate(("heldout", "seen")):
                xs = x + (k - 0.5) * 0.3
                m = sub[f"{metric}_{group}"].to_numpy(float)
                lo = sub[f"{metric}_{group}_lo"].to_numpy(float)
                hi = sub[f"{metric}_{group}_hi"].to_numpy(float)
                err = np.vstack([np.where(np.isfinite(lo), m - lo, 0),
                                 np.where(np.isfinite(hi), hi - m, 0)])
                ax.errorbar(xs, m, yerr=err, fmt="o", color=GROUP_COLOURS[group], capsize=3,
                            label=GROUP_LABELS[group])
                if metric == "auprc":
                    chance = sub[f"chance_auprc_{group}"].to_numpy(float)
                    ax.hlines(chance, xs - 0.14, xs + 0.14, colors="0.4", linestyles=":",
                              label="chance (group's share)" if k == 0 else None)
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlim(-0.6, len(fams) - 0.4)
            ax.set_xticks(x, fams)
            ax.grid(axis="y", alpha=0.3)
            if i == 0:
                ax.set_title(det, fontsize=9)
            if j == 0:
                ax.set_ylabel("AUPRC" if metric == "auprc" else "recall (own threshold)")
            if i == 1:
                ax.set_xlabel("held-out family")
    figure_legend(fig, axes, loc="lower center", ncol=3)
    fig.suptitle("One attack family held out of training\n(each group vs all test normals; "
                 "95% CI over seeds)", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.92))
    return save_figure(fig, path_stem)


def report_unknown(folder: str | Path, reports_dir: str | Path = "reports",
                   figures: bool = True) -> list[Path]:
    """Write the CSV, markdown and figure for the sweep in ``folder``; return the paths."""
    from benchmarks.report import load_results

    folder, reports = Path(folder), Path(reports_dir)
    frame = load_results(folder)
    table = unknown_table(frame)
    versus = unknown_versus_best(frame)
    csv = folder / "unknown_types.csv"
    table.to_csv(csv, index=False)
    versus.to_csv(folder / "unknown_versus_best.csv", index=False)
    reports.mkdir(parents=True, exist_ok=True)
    stem = report_stem(folder)
    md = reports / f"{stem}.md"
    md.write_text("# Unknown anomaly types (KDD Cup 99)\n\nGenerated by `pugan-bench report "
                  f"{folder.as_posix()}`; do not edit.\n\n" + markdown(table) + "\n"
                  + versus_markdown(versus))
    written = [csv, folder / "unknown_versus_best.csv", md]
    if figures:
        written += plot_unknown(table, reports / "figures" / stem)
    return written


def report_stem(folder: Path) -> str:
    """File stem of a held-out sweep's page and figure: ``unknown_types`` for the shipped
    sweep's folder, ``<folder name>_unknown_types`` for any other."""
    name = Path(folder).resolve().name
    return "unknown_types" if name == "unknown_types" else f"{safe_name(name)}_unknown_types"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.report_unknown",
                                description="table and figure of a held-out-family sweep")
    p.add_argument("dir", help="sweep folder holding results.csv")
    p.add_argument("--reports-dir", default="reports")
    p.add_argument("--no-figures", action="store_true")
    args = p.parse_args(argv)
    for path in report_unknown(args.dir, args.reports_dir, figures=not args.no_figures):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
