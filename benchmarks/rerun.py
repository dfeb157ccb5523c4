"""Recompute chosen cells of a sweep on this machine, into a copy of its folder.

``pugan-bench rerun SOURCE DEST --detector LABEL [--dataset LABEL ...]``

PU-GAN's scores depend on the processor that trained it: where bfloat16 products are native it
trains in bfloat16, elsewhere in float32, and a GAN's training carries a rounding difference
into different weights. Whether a verdict survives that is a question for its cells, not for
the baselines (whose scores are the same on either processor). So the chosen cells (rows whose
``detector`` is one of the labels and, when datasets are given, whose ``dataset`` is one of
them) are computed again here, and every other cell keeps its row:

* each other row of ``SOURCE/results.csv`` becomes the cell's file in ``DEST/cells/`` (its
  record without per-record scores);
* the config the sweep was run from (the ``source`` its resolved ``config.yaml`` names) is run
  into ``DEST``, which finds those cells cached and computes the chosen ones;
* ``DEST/moves.csv`` compares the chosen rows with their counterparts in ``SOURCE``
  (:func:`score_moves`).

``DEST`` reports like any sweep folder (``pugan-bench report DEST --reports-dir ...``). A copy
of the paper sweep beside copies of ``imbalance`` and ``unknown_types`` (the same parent
folder) gets a scorecard that reads those copies. The rows' ``arithmetic`` column says what
each recomputed PU-GAN cell trained in.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

__all__ = ["copy_without", "run_command", "score_moves"]

#: the scores compared between the source's rows and the rows computed again
COMPARED = ("auprc", "f1", "auprc_heldout")
_KEYS = ["dataset", "detector", "anomaly_ratio", "labelled_fraction", "seed"]


def _chosen(frame: pd.DataFrame, detectors: list[str], datasets: list[str]) -> pd.Series:
    chosen = frame["detector"].isin(detectors)
    if datasets:
        chosen &= frame["dataset"].isin(datasets)
    return chosen


def copy_without(source: Path, dest: Path, detectors: list[str], datasets: list[str]) -> int:
    """Store every row of ``source``'s results.csv but the chosen ones as a cell file of
    ``dest``; returns how many rows were chosen. Refuses a ``dest`` that exists (its cells
    would mix with these) and labels that name no row (a typo would recompute nothing)."""
    from benchmarks.cache import CellCache
    from benchmarks.results import previous_records

    if dest.exists():
        raise ValueError(f"{dest} exists; remove it or choose another folder")
    frame = pd.read_csv(source / "results.csv", dtype=str, keep_default_na=False)
    for column, labels in (("detector", detectors), ("dataset", datasets)):
        unknown = sorted(set(labels) - set(frame[column]))
        if unknown:
            raise ValueError(f"no rows of {column}(s) {unknown} in {source / 'results.csv'}; "
                             f"it has {sorted(set(frame[column]))}")
    chosen = _chosen(frame, detectors, datasets)
    records = previous_records(source / "results.csv")
    cache = CellCache(dest)
    for key in frame.loc[~chosen, "cell_id"]:
        cache.put(key, records[key])
    return int(chosen.sum())


def score_moves(source: Path, dest: Path, detectors: list[str],
                datasets: list[str]) -> pd.DataFrame:
    """Per dataset and detector of the chosen rows, for each compared score: its mean in
    ``source`` and in ``dest``, the mean paired difference (dest - source) with its 95%
    Student-t interval over the cells, the largest difference in size and how many cells
    are identical; cells ok in both only."""
    from benchmarks.stats import mean_ci

    before, after = (pd.read_csv(f / "results.csv") for f in (source, dest))
    both = before.merge(after, on=_KEYS, suffixes=("_before", "_after"))
    both = both[_chosen(both, detectors, datasets) & (both["status_before"] == "ok")
                & (both["status_after"] == "ok")]
    rows = []
    for (dataset, detector), g in both.groupby(["dataset", "detector"], sort=True):
        for score in COMPARED:
            diff = g[f"{score}_after"] - g[f"{score}_before"]
            if diff.isna().all():
                continue
            mean, _, low, high = mean_ci(diff, bounded=False)
            rows.append({"dataset": dataset, "detector": detector, "score": score,
                         "cells": int(diff.notna().sum()),
                         "source_mean": g[f"{score}_before"].mean(),
                         "rerun_mean": g[f"{score}_after"].mean(),
                         "difference": mean, "ci_low": low, "ci_high": high,
                         "largest_move": diff.abs().max(), "identical": int((diff == 0).sum())})
    return pd.DataFrame(rows)


def run_command(args) -> int:
    """``pugan-bench rerun``: copy, run the chosen cells, write and print ``moves.csv``."""
    import yaml

    from benchmarks.config import load_config
    from benchmarks.sweep import run_sweep

    source, dest = Path(args.source), Path(args.dest)
    resolved = source / "config.yaml"
    if not resolved.is_file():
        raise FileNotFoundError(f"{resolved} not found: is {source} a sweep folder?")
    config_path = Path(yaml.safe_load(resolved.read_text(encoding="utf-8"))["source"])
    if not config_path.is_file():  # named relative to the project, where make runs
        config_path = Path(__file__).resolve().parents[1] / config_path
    config = load_config(config_path)
    n = copy_without(source, dest, args.detector, args.dataset)
    print(f"{n} cell(s) of {source} to compute again in {dest}", flush=True)
    frame = run_sweep(config, dest, n_jobs=args.n_jobs, progress=False)
    moves = score_moves(source, dest, args.detector, args.dataset)
    moves.to_csv(dest / "moves.csv", index=False)
    print(moves.round(4).to_string(index=False))
    bad = frame["status"].isin(["failed", "timeout"])
    if bad.any():
        print(f"pugan-bench rerun: error: {int(bad.sum())} cell(s) failed or timed out "
              f"(see {dest / 'results.csv'})", file=sys.stderr)
        return 1
    return 0
