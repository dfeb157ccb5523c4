"""Class priors and labelled fractions: where PU-GAN is ahead of, level with or behind the rest.

The paper claims PU-GAN "performs well under different class priors and different
proportions of given positive classes". The imbalance sweep (``make sweep-imbalance``) runs
every detector over an anomaly ratio x labelled fraction grid; :func:`grid_verdicts` compares
PU-GAN with the other detectors in each cell of that grid
(:func:`benchmarks.stats.versus_best`), :func:`plot_verdict_heatmap` draws the difference as
one heatmap per dataset with the verdict in each square, and :func:`verdict_sentence` states
the outcome in words for the report. :func:`marginal_table` gives the compact view: each
detector's metric along one axis of the grid, averaged over the other.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.stats import attempted, versus_best_where_ran

__all__ = ["POSITION_MARK", "grid_verdicts", "marginal_table", "plot_verdict_heatmap",
           "verdict_sentence"]

#: how a heatmap square marks the verdict
POSITION_MARK = {"ahead": "▲", "level": "=", "behind": "▼", "undecided": "?"}
_AXES = ["dataset", "anomaly_ratio", "labelled_fraction"]


def grid_verdicts(frame: pd.DataFrame, focus: str | None = None,
                  metric: str = "auprc", corrected: bool = False) -> pd.DataFrame:
    """One row per (dataset, anomaly ratio, labelled fraction): ``focus`` (default: the
    frame's PU-GAN entry) against the other detectors of that grid cell. With
    ``corrected``, each cell is judged as one of its dataset's grid cells (Bonferroni over
    them), since "never behind anywhere on the grid" is one claim over all of them."""
    ran = attempted(frame)
    if focus is None:
        from benchmarks.report import focus_detectors

        entries = focus_detectors(ran)
        if len(entries) != 1:
            raise ValueError(f"name the detector to judge: the results hold PU-GAN entries "
                             f"{entries}")
        focus = entries[0]
    # with the correction, a dataset's family is its grid cells that ran the focus detector
    family = (ran[ran["detector"] == focus].groupby("dataset")[_AXES].apply(
        lambda g: len(g.drop_duplicates())) if corrected else None)
    rows = []
    # every grid cell the focus ran in, finished or not: a cell where it (or every other
    # detector) finished nothing is undecided, not left out of "never behind anywhere"
    for keys, tried in ran.groupby(_AXES, sort=True):
        if focus not in set(tried["detector"]):
            continue
        rows.append({**dict(zip(_AXES, keys, strict=True)), "metric": metric,
                     **versus_best_where_ran(
                         tried, focus, [focus], metric,
                         family_size=1 if family is None else int(family[keys[0]]))})
    if not rows:
        raise ValueError(f"no grid cell of these results ran {focus!r}")
    return pd.DataFrame(rows)


def marginal_table(frame: pd.DataFrame, axis: str, metric: str = "auprc") -> pd.DataFrame:
    """One row per (dataset, detector), one column per value of ``axis`` (``"anomaly_ratio"``
    or ``"labelled_fraction"``): the metric averaged over the grid's other axis, as
    ``mean [low, high]``, and ``seeds``: how many seeds each mean is over (a range where the
    axis's values differ). Each seed's average over the other axis is one observation, so the
    95% t-interval is over seeds, which are independent; the other axis's values are not. A
    seed counts only where it finished with a finite metric at every value of the other axis
    that the grid ran (``frame``: every row, not only finished ones), so that every
    observation averages the same settings."""
    from benchmarks.report import format_ci
    from benchmarks.stats import attempted, finished, mean_ci

    other = {"anomaly_ratio": "labelled_fraction", "labelled_fraction": "anomaly_ratio"}
    if axis not in other:
        raise ValueError(f"axis must be one of {sorted(other)}; got {axis!r}")
    done = finished(frame, metric).astype({metric: float})
    keys = ["dataset", "detector", axis, "seed"]
    grouped = done.groupby(keys)
    reached = grouped[other[axis]].nunique()   # values of the other axis each seed finished
    needed = attempted(frame).groupby("dataset")[other[axis]].nunique()
    complete = reached.to_numpy() == needed.reindex(
        reached.index.get_level_values("dataset")).to_numpy()
    per_seed = grouped[metric].mean()[complete].reset_index()
    by_value = per_seed.groupby(["dataset", "detector", axis])[metric]
    cells = by_value.apply(lambda v: format_ci(*np.asarray(mean_ci(v))[[0, 2, 3]])).unstack(axis)
    cells.columns = [f"{c:g}" for c in cells.columns]
    counts = by_value.size().groupby(["dataset", "detector"])
    low, high = counts.min(), counts.max()
    cells["seeds"] = [f"{lo}" if lo == hi else f"{lo}-{hi}"
                      for lo, hi in zip(low.reindex(cells.index), high.reindex(cells.index),
                                        strict=True)]
    return cells.reset_index().fillna("")


def verdict_sentence(verdicts: pd.DataFrame) -> str:
    """The grid's outcome per dataset, in one sentence, with why cells were left undecided
    (each cell's ``undecided_by``: the comparison that left it so, not only the rival shown)."""
    from benchmarks.stats import NO_PAIR, NOTHING_FINISHED, ONE_PAIR, SAME_DIFFERENCE

    focus = verdicts["focus"].iloc[0]
    parts = []
    for dataset, g in verdicts.groupby("dataset", sort=True):
        counts = g["position"].value_counts()
        why_counts = g.loc[g["position"] == "undecided", "undecided_by"].value_counts()
        few, same = int(why_counts.get(ONE_PAIR, 0)), int(why_counts.get(SAME_DIFFERENCE, 0))
        empty = int(why_counts.get(NO_PAIR, 0) + why_counts.get(NOTHING_FINISHED, 0))
        why = [f"too few paired seeds in {few}"] if few else []
        why += [f"a rival with the same difference on every seed in {same}"] if same else []
        why += [f"nothing finished to compare in {empty}"] if empty else []
        parts.append(f"on {dataset}, ahead in {counts.get('ahead', 0)}, level in "
                     f"{counts.get('level', 0)} and behind in {counts.get('behind', 0)}"
                     + (f" (undecided: {'; '.join(why)})" if why else "")
                     + f" of {len(g)} cells")
    pairs = sorted(set(verdicts.loc[verdicts["n_pairs"] > 0, "n_pairs"]))
    seeds = ("no" if not pairs else f"{pairs[0]}" if len(pairs) == 1
             else f"{pairs[0]}-{pairs[-1]}")
    return (f"Against the other detectors of each anomaly ratio x labelled fraction cell "
            f"({verdicts['metric'].iloc[0].upper()}, {seeds} paired seeds a cell), {focus} is "
            + "; ".join(parts) + ".")


def plot_verdict_heatmap(verdicts: pd.DataFrame, path_stem: Path) -> list[Path]:
    """One heatmap per dataset: the mean difference to the rival shown (the strongest, or the
    one PU-GAN trails by most where it is behind), with its
    mark (▲ ahead, = level, ▼ behind) and the difference written in each square."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchmarks.figures import save_figure

    datasets = sorted(verdicts["dataset"].unique())
    measured = np.abs(verdicts["diff"].astype(float).dropna())
    span = float(measured.max()) if len(measured) and measured.max() > 0 else 1.0
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.6 * len(datasets), 4.2),
                             squeeze=False, layout="constrained")
    image = None
    for ax, dataset in zip(axes[0], datasets, strict=True):
        g = verdicts[verdicts["dataset"] == dataset]
        ratios = sorted(g["anomaly_ratio"].unique())
        fractions = sorted(g["labelled_fraction"].unique())
        grid = np.full((len(ratios), len(fractions)), np.nan)
        for r in g.itertuples(index=False):
            i, j = ratios.index(r.anomaly_ratio), fractions.index(r.labelled_fraction)
            grid[i, j] = r.diff
            shown = "" if np.isnan(r.diff) else f"\n{r.diff:+.2f}"
            ax.text(j, i, f"{POSITION_MARK[r.position]}{shown}", ha="center", va="center",
                    fontsize=7)
        image = ax.imshow(grid, cmap="PuOr", vmin=-span, vmax=span, origin="lower",
                          aspect="auto")
        ax.set_xticks(range(len(fractions)), [f"{f:g}" for f in fractions])
        ax.set_yticks(range(len(ratios)), [f"{r:g}" for r in ratios])
        ax.set_xlabel("labelled fraction")
        ax.set_ylabel("anomaly ratio")
        ax.set_title(dataset)
    metric = verdicts["metric"].iloc[0].upper()
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8,
                 label=f"{metric}: {verdicts['focus'].iloc[0]} minus the rival shown")
    fig.suptitle(f"{verdicts['focus'].iloc[0]} against the other detectors "
                 "(▲ ahead of all, = level, ▼ behind one)")
    return save_figure(fig, path_stem)
