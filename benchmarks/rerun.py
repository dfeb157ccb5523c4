"""Recompute chosen cells of a sweep on this machine, into a copy of its folder.

``pugan-bench rerun SOURCE DEST --detector LABEL [--dataset LABEL ...] [--rows-from FOLDER ...]``

PU-GAN's scores depend on the processor that trained it: where bfloat16 products are native it
trains in bfloat16, elsewhere in float32, and a GAN's training carries a rounding difference
into different weights. Whether a verdict survives that is a question for its cells, not for
the baselines (whose scores are the same on either processor). So the chosen cells (rows whose
``detector`` is one of the labels and, when datasets are given, whose ``dataset`` is one of
them) are computed again here, and every other cell keeps its row:

* the config the sweep was run from (the ``source`` its resolved ``config.yaml`` names, with
  the seeds and time limit it ran with) must give every row its cell key: a row of other code,
  other libraries or other settings would be recomputed, not kept, so it is refused;
* each other row of ``SOURCE/results.csv`` becomes the cell's file in ``DEST/cells/`` (its
  record without per-record scores);
* that config is run into ``DEST``, which finds those cells cached and computes the chosen
  ones (a carried row that failed is kept as it was, not retried);
* ``DEST/moves.csv`` compares the chosen rows with their counterparts in ``SOURCE``
  (:func:`score_moves`).

``--rows-from FOLDER`` (repeatable) carries cells computed elsewhere into the copy instead of
computing them again: each ``ok`` row of FOLDER's results.csv that is a cell of the config as
it is now takes the place of SOURCE's row of the same cell (a later folder's row over an
earlier one's), as it is; rows of other cells (other settings, other code) are left out and
counted. A cell's key does not cover the arithmetic, so a copy with PU-GAN's cells from an
earlier copy on the same processor is brought up to date with the settings of SOURCE by
carrying those cells and computing only the ones whose settings moved. With ``--rows-from``,
``--detector`` may be left out: nothing is computed, and ``moves.csv`` compares the carried
rows' detectors.

``pugan-bench moves BEFORE AFTER --detector LABEL [--dataset LABEL ...] [--append]`` writes
the same table for any two folders of one sweep: after a rerun done in steps (each step's
copy the next one's source), it compares the last copy with the sweep it began from, one
choice of cells at a time when ``--append`` adds them to the table.

``DEST`` reports like any sweep folder (``pugan-bench report DEST --reports-dir ...``). A copy
of the paper sweep beside copies of ``imbalance`` and ``unknown_types`` (the same parent
folder) gets a scorecard that reads those copies. The rows' ``arithmetic`` column says what
each recomputed PU-GAN cell trained in. An interrupted rerun resumes with ``pugan-bench run
CONFIG --out DEST --seeds SEEDS [--time-limit S] --no-retry-failed``, the source's seeds and
the rerun's time limit filled in by the interrupted command's message.
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
from pathlib import Path

import pandas as pd

from benchmarks.errors import ResumableInterrupt

__all__ = ["ResumableInterrupt", "copy_without", "moves_command", "resume_command",
           "run_command", "score_moves", "source_config"]

#: the scores compared between the source's rows and the rows computed again
COMPARED = ("auprc", "f1", "auprc_heldout")
#: the columns that say what a cell computed, beside its condition and seed
SETTINGS = ("detector_name", "detector_params", "preset", "dataset_params", "split_params")
#: one condition of a sweep: its paired differences are over the seeds within it
CONDITION = ["dataset", "detector", "anomaly_ratio", "labelled_fraction"]
MOVES_COLUMNS = [*CONDITION, "score", "cells", "source_mean", "rerun_mean", "difference",
                 "ci_low", "ci_high", "largest_move", "identical"]


def moves_command_line(before: Path, after: Path, detectors: list[str],
                       datasets: list[str]) -> str:
    """The ``pugan-bench moves`` command that compares ``detectors`` (and ``datasets``) of two
    folders, as rerun does when it is not stopped."""
    words = ["pugan-bench", "moves", str(before), str(after)]
    for flag, labels in (("--detector", detectors), ("--dataset", datasets)):
        for label in labels:
            words += [flag, label]
    return shlex.join(words)


def resume_command(config, dest: Path, source: Path | None = None,
                   compared: list[str] | None = None, datasets: list[str] | None = None) -> str:
    """The run that finishes an interrupted rerun into ``dest``: the source's config with its
    seeds and the rerun's time limit, which the config file alone would not give (a source
    run with ``--seeds`` holds fewer seeds than its config, and the rest would run too), then
    the ``moves`` command that writes the comparison the rerun would have written."""
    seeds = ",".join(str(s) for s in config.seeds)
    limit = f" --time-limit {config.time_limit:g}" if config.time_limit else ""
    from benchmarks.committed import run_command_line

    text = (f"`{run_command_line(config.source, dest)} --seeds {seeds}{limit} "
            "--no-retry-failed` (rerun refuses a DEST that exists)")
    if source is not None and compared:
        text += f", then `{moves_command_line(source, dest, compared, datasets or [])}`"
    return text


def source_config(source: Path):
    """The config ``source`` was run from, as it ran: the file its resolved config.yaml names
    (as given then, or relative to the project), with that run's seeds and time limit."""
    from benchmarks.config import load_config
    from benchmarks.results import read_resolved_config, resolve_recorded

    resolved = source / "config.yaml"
    doc = read_resolved_config(source)
    named = doc.get("source")
    if not named:
        raise ValueError(f"{resolved} names no source config (`source:`): is it a resolved "
                         "sweep config written by `pugan-bench run`?")
    path = resolve_recorded(named)
    if not path.is_file():
        raise FileNotFoundError(f"the config {resolved} names, {named!r}, is not at "
                                f"{path.resolve()} (a relative name is looked for in the "
                                "repository, then in the current folder)")
    config = load_config(path)
    return dataclasses.replace(config, seeds=tuple(doc.get("seeds") or config.seeds),
                               time_limit=doc.get("time_limit", config.time_limit))


def _chosen(frame: pd.DataFrame, detectors: list[str], datasets: list[str]) -> pd.Series:
    chosen = frame["detector"].isin(detectors)
    if datasets:
        chosen &= frame["dataset"].isin(datasets)
    return chosen


def _read_rows(path: Path) -> pd.DataFrame:
    """A results.csv as text (:func:`benchmarks.results.read_results_text`), or a ValueError
    in one line naming the file: a rerun copies its rows, so a damaged one must stop it."""
    from benchmarks.results import read_results_text

    try:
        return read_results_text(path)
    except ValueError as exc:
        raise ValueError(f"{path} cannot be read ({exc}); its rows cannot be copied") from None


def carried_rows(folders, cells: dict[str, str]) -> pd.DataFrame:
    """The ``ok`` rows of ``folders``' results.csv (read as text) that are cells of the config
    (keys of ``cells``), one per cell, a later folder's over an earlier one's."""
    import logging

    frames = []
    for folder in folders:
        path = Path(folder) / "results.csv"
        if not path.is_file():
            raise FileNotFoundError(f"{folder} has no results.csv: not a sweep folder")
        rows = _read_rows(path)
        ok = rows[rows["status"] == "ok"] if "status" in rows else rows.iloc[0:0]
        current = ok[ok["cell_id"].isin(cells)] if "cell_id" in ok else ok.iloc[0:0]
        logging.getLogger(__name__).info(
            "%s: %d ok row(s) are cells of the config as it is now and are carried; %d row(s) "
            "are left out (not ok, or other settings or code)", path, len(current),
            len(rows) - len(current))
        frames.append(current)
    if not frames:
        return pd.DataFrame(columns=["cell_id"])
    return pd.concat(frames, ignore_index=True).drop_duplicates("cell_id", keep="last")


def copy_without(source: Path, dest: Path, detectors: list[str], datasets: list[str],
                 cells: dict[str, str], rows_from=()) -> tuple[int, list[str]]:
    """Store every row of ``source``'s results.csv whose cell is not chosen as a cell file
    of ``dest``, with the rows of ``rows_from`` (:func:`carried_rows`) in place of their
    cells' rows; returns how many rows are chosen and the labels of the carried rows.

    Everything is checked before anything is written: ``dest`` must be new and outside
    ``source``; the labels must choose at least one row; every row must carry one of the
    keys of ``cells`` (the config's cells now, each key with a description) and be readable,
    and every cell of the config must have a row, since a cell without one would be computed
    too though nobody chose it. Two labels naming one cell share a key: such a cell is
    computed again for both.
    """
    from benchmarks.cache import CellCache, check_writable
    from benchmarks.results import records_by_cell

    if dest.exists():
        raise ValueError(f"{dest} exists; remove it or choose another folder")
    if dest.resolve().is_relative_to(source.resolve()):
        raise ValueError(f"{dest} is inside {source}: choose a folder outside the sweep")
    frame = _read_rows(source / "results.csv")
    carried = carried_rows(rows_from, cells)
    if rows_from and carried.empty:
        raise ValueError(f"no ok row of {[str(f) for f in rows_from]} is a cell of the config "
                         "as it is now: nothing to carry")
    frame = pd.concat([frame[~frame["cell_id"].isin(carried["cell_id"])], carried],
                      ignore_index=True).fillna("")  # a column one side lacks reads as empty
    named = _chosen(frame, detectors, datasets)
    # a chosen cell that a carried row covers is carried, not computed again
    chosen = named & ~frame["cell_id"].isin(carried["cell_id"])
    if detectors and not named.any():
        raise ValueError(f"no row of {source / 'results.csv'} has detector {detectors}"
                         + (f" and dataset {datasets}" if datasets else "")
                         + f"; its detectors: {sorted(set(frame['detector']))}, its "
                         f"datasets: {sorted(set(frame['dataset']))}")
    foreign = frame[~frame["cell_id"].isin(cells)]
    if len(foreign):
        row = foreign.iloc[0]
        raise ValueError(
            f"{len(foreign)} row(s) of {source / 'results.csv'} are not cells of its config as "
            f"it is now (e.g. {row['dataset']} / {row['detector']} / seed {row['seed']}, "
            f"code {row['code_version']}): computed by other code, other libraries or other "
            "settings, they would be computed again rather than kept; rerun the sweep first")
    unrun = sorted(set(cells) - set(frame["cell_id"]))
    if unrun:
        raise ValueError(
            f"{len(unrun)} cell(s) of the config have no row in {source / 'results.csv'} "
            f"(e.g. {cells[unrun[0]]}): rerun would compute them too; finish the sweep first "
            f"(`pugan-bench run CONFIG --out {source}`)")
    records = records_by_cell(frame)
    damaged = sorted(set(frame["cell_id"]) - set(records))
    if damaged:
        raise ValueError(f"{len(damaged)} row(s) of {source / 'results.csv'} cannot be read "
                         f"back as records (e.g. cell {damaged[0]}); rerun the sweep first")
    again = set(frame.loc[chosen, "cell_id"])
    cache = CellCache(check_writable(dest))
    for key in sorted(set(frame["cell_id"]) - again):
        cache.put(key, records[key])
    return int(chosen.sum()), sorted(set(carried["detector"])) if len(carried) else []


def score_moves(source: Path, dest: Path, detectors: list[str],
                datasets: list[str]) -> pd.DataFrame:
    """Per condition (dataset, detector, ratio, fraction) of the chosen rows, for each
    compared score the sweep has: its mean in ``source`` and in ``dest``, the mean paired
    difference (dest - source) with its 95% Student-t interval over the seeds, the largest
    difference in size and how many seeds gave the same score; seeds ok in both only."""
    from benchmarks.report import load_results
    from benchmarks.stats import mean_ci

    keys = [*CONDITION, "seed"]
    before, after = load_results(source), load_results(dest)
    both = before.merge(after, on=keys, suffixes=("_before", "_after"))
    both = both[_chosen(both, detectors, datasets) & (both["status_before"] == "ok")
                & (both["status_after"] == "ok")]
    _check_same_settings(both, source, dest)
    rows = []
    for condition, g in both.groupby(CONDITION, sort=True):
        for score in COMPARED:
            if f"{score}_before" not in g or f"{score}_after" not in g:
                continue
            pair = g[[f"{score}_before", f"{score}_after"]].dropna()
            if pair.empty:
                continue
            diff = pair[f"{score}_after"] - pair[f"{score}_before"]
            mean, _, low, high = mean_ci(diff, bounded=False)
            rows.append({**dict(zip(CONDITION, condition, strict=True)), "score": score,
                         "cells": len(pair), "source_mean": pair[f"{score}_before"].mean(),
                         "rerun_mean": pair[f"{score}_after"].mean(), "difference": mean,
                         "ci_low": low, "ci_high": high, "largest_move": diff.abs().max(),
                         "identical": int((diff == 0).sum())})
    return pd.DataFrame(rows, columns=MOVES_COLUMNS)


def _check_same_settings(both: pd.DataFrame, source: Path, dest: Path) -> None:
    """Refuse pairs whose two cells ran other settings (a detector tuned again, another
    split): their difference would be read as the arithmetic's or the code's when it is
    the settings'."""
    for column in SETTINGS:
        a, b = f"{column}_before", f"{column}_after"
        if a not in both or b not in both:
            continue
        differ = both[both[a].astype(str) != both[b].astype(str)]
        if not differ.empty:
            row = differ.iloc[0]
            raise ValueError(
                f"{len(differ)} chosen cell(s) ran other settings in {source} and {dest} "
                f"(e.g. {row['dataset']} / {row['detector']} / seed {row['seed']}: {column} "
                f"{row[a]} against {row[b]}); leave them out with --detector/--dataset")


def run_command(args) -> int:
    """``pugan-bench rerun``: check and copy, run the chosen cells, write and print
    ``moves.csv``; exit 1 when a chosen cell failed or timed out."""
    from benchmarks.config import with_time_limit
    from benchmarks.sweep import resolve_n_jobs, run_sweep

    source, dest = Path(args.source), Path(args.dest)
    config = with_time_limit(source_config(source), args.time_limit)
    resolve_n_jobs(config, args.n_jobs, None)  # before anything is written to dest
    detectors, rows_from = args.detector or [], args.rows_from or []
    if not detectors and not rows_from:
        raise ValueError("choose cells to compute again (--detector) or cells to carry "
                         "(--rows-from)")
    if args.dataset and not detectors:  # it narrows the chosen detectors, and only them
        raise ValueError("--dataset narrows the cells --detector chooses: give --detector too")
    cells = {cell.key: f"{cell.dataset} / {cell.detector} / seed {cell.seed}"
             for cell in config.cells()}
    n, carried = copy_without(source, dest, detectors, args.dataset, cells, rows_from)
    print(f"{n} row(s) of {source} to compute again in {dest}", flush=True)
    compared = detectors or carried
    resume = resume_command(config, dest, source, compared, args.dataset)
    # the source's times of the chosen cells order them longest first
    try:
        frame = run_sweep(config, dest, n_jobs=args.n_jobs, retry_failed=False,
                          progress=False, timings_from=source / "results.csv", resume=resume)
    except ResumableInterrupt:
        raise  # stopped mid-sweep: it names the cells' folder and this resume command
    except KeyboardInterrupt:
        raise ResumableInterrupt(resume) from None
    try:
        _write_moves(score_moves(source, dest, compared, args.dataset), dest / "moves.csv")
    except KeyboardInterrupt:  # every cell ran: only the comparison is left to do
        raise ResumableInterrupt(
            f"`{moves_command_line(source, dest, compared, args.dataset or [])}`") from None
    bad = _chosen(frame, detectors, args.dataset) & frame["status"].isin(
        ["failed", "timeout"])
    if bad.any():
        print(f"pugan-bench rerun: error: {int(bad.sum())} chosen cell(s) failed or timed out "
              f"(see {dest / 'results.csv'})", file=sys.stderr)
        return 1
    return 0


def moves_command(args) -> int:
    """``pugan-bench moves``: :func:`score_moves` of two existing folders, written to
    ``--out`` (default ``AFTER/moves.csv``); with ``--append``, the file's rows of other
    conditions are kept. Exit 2 when a folder has no results.csv, no chosen cell is ok in
    both, or the file to append to is not a moves table."""
    before, after = Path(args.before), Path(args.after)
    for folder in (before, after):
        if not (folder / "results.csv").is_file():
            raise FileNotFoundError(f"{folder} has no results.csv: not a sweep folder")
    out = Path(args.out) if args.out else after / "moves.csv"
    if not out.parent.is_dir():
        raise FileNotFoundError(f"{out.parent} does not exist: the folder of --out must")
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder: give the moves table's file name")
    kept = _moves_to_keep(out) if args.append else None
    moves = score_moves(before, after, args.detector, args.dataset)
    if moves.empty:
        raise ValueError(f"no cell of detector {args.detector}"
                         + (f" and dataset {args.dataset}" if args.dataset else "")
                         + f" is ok in both {before} and {after}")
    if kept is not None:
        keys = [*CONDITION, "score"]
        fresh = pd.MultiIndex.from_frame(moves[keys].astype(str))
        old = kept[~pd.MultiIndex.from_frame(kept[keys].astype(str)).isin(fresh)]
        moves = pd.concat([old, moves], ignore_index=True).sort_values(CONDITION, kind="stable")
    _write_moves(moves, out)
    return 0


def _moves_to_keep(path: Path) -> pd.DataFrame | None:
    """The rows of an existing moves table (None when there is no file yet), checked for
    its columns so that ``--append`` never mixes another table into it."""
    if not path.is_file():
        return None
    kept = pd.read_csv(path)
    if list(kept.columns) != MOVES_COLUMNS:
        raise ValueError(f"{path} is not a moves table (its columns: {list(kept.columns)})")
    return kept


def _write_moves(moves: pd.DataFrame, path: Path) -> None:
    moves.to_csv(path, index=False)
    print(moves.round(4).to_string(index=False))
