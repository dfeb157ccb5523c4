"""The robustness table: does the ranking on KDD hold under every reading the paper leaves open?

The paper's KDD results depend on choices it does not state (what its anomaly ratio means
with the 10% file, whether repeated records stay in); :data:`benchmarks.splits.KDD_READINGS`
names each defensible reading as a preset. For every reading present in a results frame,
:func:`robustness_table` ranks the detectors by mean AUPRC with its interval, and
:func:`pugan_vs_best` says for each PU-GAN entry whether it is ahead of, level with or behind
the other detectors (:func:`benchmarks.stats.versus_best`). Each reading also reports
how many distinct records its test anomalies are and how many have an exact twin among the
training rows, the two facts that decide how much a ranking on it can mean.
"""

from __future__ import annotations

import pandas as pd

from benchmarks.splits import KDD_READINGS
from benchmarks.stats import RIVALS_RULE, attempted, mean_ci, oracle_rows, versus_best_where_ran

__all__ = ["pugan_vs_best", "readings_markdown", "robustness_table"]

_READING = {preset: {"ratio_reading": ratio, "deduplicated": dedupe, "labelling": level}
            for preset, ratio, dedupe, level in KDD_READINGS}


def _reading_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The ``ok`` rows of KDD readings, with the reading's description columns."""
    if "preset" not in frame:
        return frame.iloc[0:0]
    ok = frame[(frame["status"] == "ok") & frame["preset"].isin(_READING)].copy()
    for col in ("ratio_reading", "deduplicated", "labelling"):
        ok[col] = [_READING[p][col] for p in ok["preset"]]
    return ok


def _mean(g: pd.DataFrame, column: str) -> float:
    """A column's mean over a reading's rows; NaN where the results predate the column."""
    return float(g[column].astype(float).mean()) if column in g else float("nan")


def robustness_table(frame: pd.DataFrame, metric: str = "auprc") -> pd.DataFrame:
    """One row per (reading, detector), ranked by mean ``metric`` within the reading. The
    oracle reads the training anomalies' labels, so it is no ranked entry and is left out."""
    ok = _reading_rows(frame)
    ok = ok[~oracle_rows(ok)]
    rows = []
    for dataset, g in ok.groupby("dataset", sort=False):
        first = g.iloc[0]
        ranked = []
        for det, d in g.groupby("detector"):
            mean, _, low, high = mean_ci(d[metric].astype(float))
            ranked.append({"dataset": dataset, "preset": first["preset"],
                           "labelling": first["labelling"],
                           "ratio_reading": first["ratio_reading"],
                           "deduplicated": bool(first["deduplicated"]),
                           "anomaly_ratio": float(first["anomaly_ratio"]),
                           "test_anomalies": _mean(g, "n_test_anomalies"),
                           "distinct_test_anomalies": _mean(g, "n_test_anomalies_distinct"),
                           "twin_in_train": _mean(g, "n_test_anomalies_twin_in_train"),
                           "detector": det, "n_seeds": int(d["seed"].nunique()),
                           metric: mean, f"{metric}_ci_low": low, f"{metric}_ci_high": high})
        ranked.sort(key=lambda r: -r[metric])
        for rank, r in enumerate(ranked, start=1):
            rows.append({**r, "rank": rank})
    cols = ["dataset", "preset", "labelling", "ratio_reading", "deduplicated", "anomaly_ratio",
            "test_anomalies", "distinct_test_anomalies", "twin_in_train", "rank", "detector",
            "n_seeds", metric, f"{metric}_ci_low", f"{metric}_ci_high"]
    return pd.DataFrame(rows, columns=cols)


def pugan_vs_best(frame: pd.DataFrame, metric: str = "auprc") -> pd.DataFrame:
    """Per reading and PU-GAN entry: the paired comparison with the other detectors."""
    from benchmarks.report import pugan_rows

    ran = attempted(frame[frame["preset"].isin(_READING)] if "preset" in frame
                    else frame.iloc[0:0])
    rows = []
    # every PU-GAN entry that ran on a reading, finished or not: one with no finished cell
    # (or no finished rival) is undecided, not missing from the table
    for dataset, tried in ran.groupby("dataset", sort=False):
        entries = sorted(set(tried.loc[pugan_rows(tried), "detector"]))
        for focus in entries:
            rows.append({"dataset": dataset, "preset": tried["preset"].iloc[0],
                         "metric": metric,
                         **versus_best_where_ran(tried, focus, entries, metric)})
    return pd.DataFrame(rows)


def readings_markdown(table: pd.DataFrame, versus: pd.DataFrame, metric: str = "auprc") -> str:
    """Both tables as one markdown page."""
    from benchmarks.report import format_ci, markdown_table

    ranking = pd.DataFrame({
        "reading": table["dataset"],
        "labelling": table["labelling"],
        "anomaly ratio": [f"{v:.3g} ({r})" for v, r in
                          zip(table["anomaly_ratio"], table["ratio_reading"], strict=True)],
        "de-duplicated": ["yes" if v else "no" for v in table["deduplicated"]],
        "test anomalies (distinct, with a training twin)": [
            f"{a:.0f} ({d:.0f}, {t:.0f})" for a, d, t in
            zip(table["test_anomalies"], table["distinct_test_anomalies"],
                table["twin_in_train"], strict=True)],
        "rank": table["rank"], "detector": table["detector"], "seeds": table["n_seeds"],
        metric.upper(): [format_ci(m, lo, hi) for m, lo, hi in zip(
            table[metric], table[f"{metric}_ci_low"], table[f"{metric}_ci_high"],
            strict=True)]})
    verdicts = pd.DataFrame({
        "reading": versus["dataset"], "PU-GAN entry": versus["focus"],
        metric.upper(): ["n/a" if pd.isna(v) else f"{v:.3f}" for v in versus["mean"]],
        "rival shown": versus["best_other"],
        "its " + metric.upper(): ["n/a" if pd.isna(v) else f"{v:.3f}"
                                  for v in versus["best_other_mean"]],
        "difference": [format_ci(m, lo, hi) for m, lo, hi in zip(
            versus["diff"], versus["diff_low"], versus["diff_high"], strict=True)],
        "interval level": ["" if pd.isna(v) else f"{v:.4g}" for v in versus["ci_level"]],
        "pairs": versus["n_pairs"],
        "p (Wilcoxon, Holm)": ["" if pd.isna(p) else f"{p:.3g}" for p in versus["p_holm"]],
        "test": versus["test"],
        "PU-GAN is": versus["position"],
        "left out (seeds shared)": versus["left_out"]}) if len(versus) else pd.DataFrame()
    ran = set(table["preset"]) if len(table) else set()
    not_run = [preset for preset, *_ in KDD_READINGS if preset not in ran]
    absent = (f" Not in these results (no cell of theirs finished, or the sweep does not run "
              f"them): {', '.join(not_run)}." if not_run else "")
    return ("# KDD Cup 99 under every reading: the ranking and PU-GAN against the others\n\n"
            "Each reading of the paper's KDD protocol (benchmarks.splits.KDD_READINGS) that "
            f"these results hold, ranked by mean {metric.upper()} over the seeds it finished "
            f"(`seeds`), with its 95% Student-t interval.{absent} The "
            f"second table compares each PU-GAN entry with the other detectors of the reading "
            f"on the same seeds. {RIVALS_RULE} Generated by `pugan-bench report`; do not "
            "edit.\n\n" + markdown_table(ranking) + "\n"
            + (markdown_table(verdicts) if len(verdicts) else "No PU-GAN entry.\n"))
