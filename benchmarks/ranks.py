"""Rank statistics across datasets: the leaderboard, Friedman + Nemenyi, CD diagram, win/tie/loss.

A *block* is one (dataset, anomaly ratio, labelled fraction) of a sweep; each detector's score in
a block is its metric averaged over seeds. Detectors are ranked within each block (1 = best,
ties share the mean rank) and the ranks averaged over blocks (Demšar, JMLR 2006). The Friedman
test asks whether any detector ranks differently from the others; the Nemenyi post-hoc test
(scikit-posthocs) which pairs differ, drawn as a critical-difference diagram. Only blocks where
every ranked detector has a result enter (a skipped or failed cell drops its block, counted);
a detector with a result in fewer than half of the blocks is left out of the ranking, named.
The oracle (supervision ``oracle``) is an upper reference, kept out of the ranking.

Per dataset, the reference detector (PU-GAN) against each other detector: the Wilcoxon
signed-rank test on paired cells (same ratio, fraction and seed), Holm-corrected over the
detectors compared on that dataset. The test is :mod:`benchmarks.stats`'s, so the paired
comparisons of the report and this table drop zero differences alike (``zero_method="wilcox"``;
identical scores on every pair give p = 1). Pairs are taken over ratio, fraction and seed together,
because 5 seeds alone can never reach p < 0.05 in a two-sided exact Wilcoxon test (its smallest
p-value with 5 pairs is 0.0625). Win or loss when the corrected p-value is below ``alpha``, by
the side the signed ranks of the non-zero differences lean to (the median of all differences
is 0 where most pairs tie exactly, though the test may reject); tie otherwise. Where the test cannot reach the family's
first Holm step whatever the data (fewer than six non-zero pairs at 0.05, more in a family of
several rivals) and Holm does not reject, the Student-t interval of the mean difference at the
Bonferroni level decides instead, the rule of :func:`benchmarks.stats.decide_family`. The
pairs of one dataset are splits of the same records under several settings, not independent
draws of data, so a win says PU-GAN was ahead consistently over that dataset's splits and
settings; the Friedman test over blocks is the statement across datasets.

    python -m benchmarks.ranks results/benchmark [--metric auprc] [--reports-dir reports]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from benchmarks.figures import detector_colour, safe_name, save_figure
from benchmarks.results import recorded_path
from benchmarks.stats import ALPHA, MIN_WILCOXON_PAIRS, attempted, decide_family, oracle_rows

__all__ = ["block_scores", "cd_diagram", "friedman", "mean_ranks", "nemenyi",
           "rank_report", "win_tie_loss"]

BLOCK = ["dataset", "anomaly_ratio", "labelled_fraction"]
#: the columns of win_tie_loss.csv
WIN_TIE_LOSS_COLUMNS = ["dataset", "detector", "n_pairs", "median_diff", "mean_diff",
                        "diff_low", "diff_high", "ci_level", "p_value", "p_holm", "test",
                        "verdict"]


def _ok_rows(frame: pd.DataFrame, metric: str, keep_oracle: bool = False) -> pd.DataFrame:
    missing = sorted(set(BLOCK + ["detector", "seed", "status", metric]) - set(frame.columns))
    if missing:
        raise ValueError(f"results lack column(s) {missing}")
    ok = frame[(frame["status"] == "ok") & np.isfinite(frame[metric].astype(float))]
    return ok if keep_oracle else ok[~oracle_rows(ok)]


def block_scores(frame: pd.DataFrame, metric: str = "auprc") -> tuple[pd.DataFrame, int]:
    """Blocks x detectors of the metric's seed mean, complete blocks only; and the number dropped.

    A detector's mean counts only where it finished every seed the block ran: a mean over the
    seeds it happened to finish (the easy ones, when the hard ones time out) would be ranked
    against the others' means over all of them. A detector complete in fewer than half of the
    blocks leaves the ranking (the report names it): kept, it would drop every block it
    missed, and one detector that always missed a seed would leave no block to rank."""
    ok = _ok_rows(frame, metric)
    seeds_run = frame.groupby(BLOCK)["seed"].nunique()
    grouped = ok.groupby(BLOCK + ["detector"])
    table = grouped[metric].mean().unstack("detector")
    finished = grouped["seed"].nunique().unstack("detector")
    table = table.where(finished.eq(seeds_run.reindex(finished.index), axis=0))
    table = table.loc[:, table.notna().sum() * 2 >= len(seeds_run)]
    complete = table.dropna()
    # a block with no finished cell at all is absent from the table but dropped all the same
    return complete, int(len(seeds_run) - len(complete))


def mean_ranks(blocks: pd.DataFrame, higher_is_better: bool = True) -> pd.Series:
    """Mean rank of each detector over the blocks (1 = best), best first."""
    ranks = blocks.rank(axis=1, ascending=not higher_is_better, method="average")
    return ranks.mean().sort_values()


def friedman(blocks: pd.DataFrame) -> tuple[float, float]:
    """Friedman chi-square statistic and p-value over the blocks (needs 3+ detectors, 2+ blocks)."""
    if blocks.shape[1] < 3 or blocks.shape[0] < 2:
        raise ValueError(f"the Friedman test needs at least 3 detectors and 2 blocks; got "
                         f"{blocks.shape[1]} detectors and {blocks.shape[0]} blocks")
    res = stats.friedmanchisquare(*(blocks[c].to_numpy() for c in blocks.columns))
    return float(res.statistic), float(res.pvalue)


def nemenyi(blocks: pd.DataFrame) -> pd.DataFrame:
    """Pairwise Nemenyi p-values (detector x detector) after Friedman."""
    import scikit_posthocs as sp

    pvals = sp.posthoc_nemenyi_friedman(blocks.to_numpy())
    pvals.index = pvals.columns = list(blocks.columns)
    return pvals


def cd_diagram(ranks: pd.Series, pvalues: pd.DataFrame, path_stem: Path,
               title: str = "") -> list[Path]:
    """Critical-difference diagram (PNG and SVG): mean ranks, bars join detectors not told apart.
    Each detector keeps the colour it has in every other figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import scikit_posthocs as sp

    fig, ax = plt.subplots(figsize=(8, 0.28 * len(ranks) + 1.6))
    sp.critical_difference_diagram(
        ranks, pvalues, ax=ax, label_fmt_left="{label} ({rank:.1f})",
        label_fmt_right="({rank:.1f}) {label}",
        color_palette={label: detector_colour(label) for label in ranks.index})
    if title:
        ax.set_title(title, fontsize=10, pad=28)
    fig.tight_layout()
    return save_figure(fig, path_stem)


def win_tie_loss(frame: pd.DataFrame, reference: str, metric: str = "auprc",
                 alpha: float = 0.05) -> pd.DataFrame:
    """Per dataset, ``reference`` vs each other detector: pairs, median and mean difference,
    the interval, p-values, which test decided and the verdict (:func:`stats.decide_family`).
    A detector that ran on the dataset but shares no finished seed with ``reference`` there
    is a row with no pair, "untested", not left out."""
    ok = _ok_rows(frame, metric)
    tried = attempted(frame[~oracle_rows(frame)])
    if reference not in set(ok["detector"]):
        raise ValueError(f"reference detector {reference!r} has no finished cell; detectors: "
                         f"{sorted(set(ok['detector']))}")
    key = ["anomaly_ratio", "labelled_fraction", "seed"]
    rows = []
    for dataset, g in tried.groupby("dataset", sort=True):
        if reference not in set(g["detector"]):
            continue
        wide = (ok[ok["dataset"] == dataset]
                .pivot_table(index=key, columns="detector", values=metric, aggfunc="mean")
                .reindex(columns=sorted(set(g["detector"]))))
        part = []
        for other in wide.columns:
            if other == reference:
                continue
            pair = wide[[reference, other]].dropna()
            diff = (pair[reference] - pair[other]).to_numpy()
            part.append({"dataset": dataset, "detector": other, "n_pairs": len(diff),
                         "median_diff": float(np.median(diff)) if diff.size else np.nan,
                         "mean_diff": float(diff.mean()) if diff.size else np.nan,
                         "diff": diff})
        if not part:
            continue
        decided = decide_family([r.pop("diff") for r in part], alpha)
        rows += [{**r, **d} for r, d in zip(part, decided, strict=True)]
    return pd.DataFrame(rows, columns=WIN_TIE_LOSS_COLUMNS)


def _default_reference(frame: pd.DataFrame) -> str:
    """PU-GAN itself as the reference: the first label, in the results' order, whose registry
    name is exactly ``pugan`` (not a variant such as ``pugan-distilled``, which
    :func:`benchmarks.report.pugan_rows` counts among PU-GAN's entries), else the label
    ``pugan``."""
    if "detector_name" in frame:
        hits = frame.loc[frame["detector_name"] == "pugan", "detector"].unique()
        if len(hits):
            return str(hits[0])
    return "pugan"


def rank_report(folder: str | Path, reports_dir: str | Path = "reports", metric: str = "auprc",
                reference: str | None = None, figures: bool = True) -> list[Path]:
    """Leaderboard, Friedman/Nemenyi, CD diagram and win/tie/loss for the sweep in ``folder``."""
    from benchmarks.report import load_results, markdown_table

    folder, reports = Path(folder), Path(reports_dir)
    frame = load_results(folder)
    name = safe_name(folder.resolve().name)  # "." names the folder it stands for
    blocks, dropped = block_scores(frame, metric)
    ranks = mean_ranks(blocks)
    stat, p = friedman(blocks)
    pvals = nemenyi(blocks)
    # a detector complete in too few blocks is no column of the blocks: name it, not drop it
    unranked = sorted(set(frame.loc[~oracle_rows(frame), "detector"]) - set(blocks.columns))
    board = pd.DataFrame({"detector": ranks.index, "mean_rank": ranks.to_numpy(),
                          f"mean_{metric}": blocks.mean()[ranks.index].to_numpy()})
    reference = reference or _default_reference(frame)
    if reference in set(_ok_rows(frame, metric)["detector"]):
        wtl = win_tie_loss(frame, reference, metric)
        counts = wtl.groupby(["detector", "verdict"]).size().unstack(fill_value=0)
        # undecided (one pair) and untested (none) are shown where they occur, never as ties
        extra = [v for v in ("undecided", "untested") if v in counts.columns]
        summary = markdown_table(counts.reindex(columns=["win", "tie", "loss", *extra],
                                                fill_value=0).reset_index())
    else:  # every cell of the reference failed or was skipped: rank the others all the same
        wtl = pd.DataFrame(columns=WIN_TIE_LOSS_COLUMNS)
        summary = f"No finished cell of {reference}: nothing to compare."
    written = []
    for stem, tab in (("leaderboard", board), ("nemenyi", pvals), ("win_tie_loss", wtl)):
        path = folder / f"{stem}.csv"
        tab.to_csv(path, index=stem == "nemenyi")
        written.append(path)
    reports.mkdir(parents=True, exist_ok=True)
    md = reports / f"{name}_leaderboard.md"
    shown = board.copy()
    nemenyi_note = ""
    if reference in pvals.index:
        # the post-hoc test of the ranks: which detectors' mean ranks differ from the
        # reference's, over every block at once (the figure draws every pair)
        shown[f"Nemenyi p against {reference}"] = [
            "" if d == reference else f"{pvals.loc[reference, d]:.2g}" for d in shown["detector"]]
        differ = int((pvals.loc[reference].drop(reference) < ALPHA).sum())
        nemenyi_note = (f" The Nemenyi test of the mean ranks (p against {reference} in the "
                        f"last column) tells {reference} apart from {differ} of the other "
                        f"{len(pvals) - 1} detectors at {ALPHA:g}"
                        + (f"; figures/{name}_cd_{metric}.png draws every pair." if figures
                           else "."))
    md.write_text(
        f"# Leaderboard ({name}, {metric})\n\nGenerated by `pugan-bench report "
        f"{recorded_path(folder)}`. "
        f"Mean rank over {len(blocks)} (dataset, anomaly ratio, labelled fraction) blocks with "
        f"every detector present ({dropped} incomplete block(s) left out); 1 = best. Friedman "
        f"chi-square {stat:.1f}, p = {p:.2g}." + nemenyi_note
        + (f" Not ranked (every seed finished in fewer than half of the blocks): "
           f"{', '.join(unranked)}." if unranked else "") + "\n\n"
        + markdown_table(shown)
        + f"\n\n## {reference} against each detector (per dataset: Wilcoxon-Holm at alpha "
        f"{ALPHA:g}; where the test cannot reach the corrected level whatever the data (fewer "
        f"than {MIN_WILCOXON_PAIRS} non-zero pairs at {ALPHA:g}, more in a family of several "
        "rivals), "
        "the Bonferroni Student-t interval of the mean difference)\n\n" + summary)
    written.append(md)
    if figures:
        written += cd_diagram(ranks, pvals, reports / "figures" / f"{name}_cd_{metric}",
                              title=f"Mean rank by {metric} over {len(blocks)} blocks "
                                    f"(Nemenyi, alpha {ALPHA:g})")
    return written


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.ranks",
                                description="rank statistics of a sweep folder")
    p.add_argument("dir")
    p.add_argument("--metric", default="auprc")
    p.add_argument("--reference", default=None, help="detector label (default: PU-GAN's)")
    p.add_argument("--reports-dir", default="reports")
    p.add_argument("--no-figures", action="store_true")
    args = p.parse_args(argv)
    for path in rank_report(args.dir, args.reports_dir, args.metric, args.reference,
                            figures=not args.no_figures):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
