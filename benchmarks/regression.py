"""Guard the numbers: stored reference scores and the regression check CI runs.

``results/reference/reference.csv`` holds, for every cell of a CI-sized sweep
(``benchmarks/configs/reference.yaml``), the F1 at the detector's own threshold, the ORACLE best
F1 and the AUPRC, with a tolerance per (dataset, detector, ratio, fraction, metric) set from the
spread of that metric over the seeds::

    tol = min(cap, max(floor, k * std over seeds))      # defaults: cap 0.02, floor 0.005, k 2

so a tolerance is never looser than 0.02 (a drop of more than 0.02 always fails) and never
tighter than 0.005 (float noise between machines never fails). With one seed there is no
spread and the tolerance is the cap.

Commands (``pugan-bench regression``, also ``python -m benchmarks.regression``;
``make update-reference``, ``make check-regression``)::

    pugan-bench regression update [--config C] [--reference R] [--scratch DIR] [--n-jobs N]
                                  [--from-results DIR]
    pugan-bench regression check  [--config C] [--reference R] [--out DIR] [--n-jobs N]
                                  [--results DIR]

``update`` runs the config into a scratch folder (``--force``: nothing reused) and writes the
reference CSV and a JSON sidecar (project version, git commit, library versions, config hash,
tolerance rule); it refuses when a cell is not ``ok``. ``check`` reruns the config into a fresh
folder, with ``force`` so no cell is reused from any cache, and exits 1 naming every cell
(dataset, detector, seed, metric, reference, new, tolerance) whose score fell below its reference
by more than its tolerance, and every reference cell that is missing or not ``ok``. Scores that
rose by more than the tolerance are listed as improvements (a reason to update the reference),
never a failure.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.datasets.core import sha256_of

__all__ = [
    "CELL_COLUMNS",
    "DEFAULT_CONFIG",
    "DEFAULT_REFERENCE",
    "METRICS",
    "Finding",
    "build_reference",
    "check_command",
    "check_results",
    "main",
    "tolerance",
    "update_command",
]

log = logging.getLogger("benchmarks.regression")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "benchmarks" / "configs" / "reference.yaml"
DEFAULT_REFERENCE = ROOT / "results" / "reference" / "reference.csv"

#: a reference cell: the display labels of results.csv
CELL_COLUMNS = ("dataset", "detector", "anomaly_ratio", "labelled_fraction", "seed")
#: the guarded metrics (results.csv columns)
METRICS = ("f1", "best_f1", "auprc")
TOL_CAP, TOL_FLOOR, TOL_K = 0.02, 0.005, 2.0


def tolerance(values, *, cap: float = TOL_CAP, floor: float = TOL_FLOOR,
              k: float = TOL_K) -> float:
    """``min(cap, max(floor, k * std))`` of a metric over seeds (sample std, ddof=1).

    Fewer than two finite values give no spread: the tolerance is then ``cap``.
    """
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size < 2:
        return float(cap)
    return float(min(cap, max(floor, k * float(np.std(arr, ddof=1)))))


def build_reference(results: pd.DataFrame, *, version: str, cap: float = TOL_CAP,
                    floor: float = TOL_FLOOR, k: float = TOL_K) -> pd.DataFrame:
    """The reference table of a results frame: one row per cell, metrics and tolerances.

    Raises a ValueError naming the cells that are not ``ok``: a reference is made of
    successful cells only.
    """
    missing = [c for c in (*CELL_COLUMNS, "status", *METRICS) if c not in results.columns]
    if missing:
        raise ValueError(f"results lack column(s) {missing}")
    if len(results) == 0:
        raise ValueError("the results hold no cell; a reference of nothing would guard nothing")
    bad = results[results["status"] != "ok"]
    if len(bad):
        lines = [f"  {_cell_text(r)}: {r['status']} {r.get('error', '') or ''}".rstrip()
                 for _, r in bad.iterrows()]
        raise ValueError(f"{len(bad)} cell(s) are not ok; a reference needs every cell ok:\n"
                         + "\n".join(lines))
    if results.duplicated(list(CELL_COLUMNS)).any():
        raise ValueError("results hold duplicate cells (same dataset, detector, ratio, "
                         "fraction, seed)")
    _check_finite(results, "results")
    ref = results[list(CELL_COLUMNS) + list(METRICS)].copy()
    group = ["dataset", "detector", "anomaly_ratio", "labelled_fraction"]
    for m in METRICS:
        ref[f"tol_{m}"] = ref.groupby(group)[m].transform(
            lambda s: tolerance(s, cap=cap, floor=floor, k=k))
    ref.insert(0, "version", version)
    if "cell_id" in results.columns:
        ref["cell_id"] = results["cell_id"].to_numpy()
    return ref.sort_values(list(CELL_COLUMNS)).reset_index(drop=True)


def _check_finite(frame: pd.DataFrame, what: str) -> None:
    """Every metric of every cell is a finite number, or a ValueError naming the cells."""
    values = frame[list(METRICS)].apply(pd.to_numeric, errors="coerce")
    bad = frame[~np.isfinite(values.to_numpy(dtype=np.float64)).all(axis=1)]
    if len(bad):
        lines = [f"  {_cell_text(r)}" for _, r in bad.head(20).iterrows()]
        raise ValueError(f"{what}: {len(bad)} cell(s) have a missing or non-finite metric "
                         f"({', '.join(METRICS)}):\n" + "\n".join(lines))


def _check_cell_values(frame: pd.DataFrame) -> None:
    """Every row names its cell with finite numbers (a whole seed), and every metric is a
    number or empty (an empty metric of an ok cell is a regression, found by the check), or
    a ValueError in one line naming the first bad value and its row."""
    for col in ("anomaly_ratio", "labelled_fraction", "seed", *METRICS):
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
        if col in METRICS:
            bad = np.isnan(values) & frame[col].notna().to_numpy()
        else:
            bad = ~np.isfinite(values)
            if col == "seed":
                bad |= np.isfinite(values) & (values != np.round(values))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            row = frame.iloc[i]
            value = row[col].item() if isinstance(row[col], np.generic) else row[col]
            held = "no value" if pd.isna(value) else f"the value {value!r}"
            raise ValueError(f"column {col!r} has {held} in row {i + 1} (dataset "
                             f"{row['dataset']}, detector {row['detector']}): "
                             + ("not a number" if col in METRICS else
                                "a cell needs a whole seed" if col == "seed" else
                                "a cell needs a finite number"))


def check_reference(reference: pd.DataFrame) -> None:
    """A reference guards something: at least one cell, every metric and tolerance finite."""
    missing = [c for c in (*CELL_COLUMNS, *METRICS, *(f"tol_{m}" for m in METRICS))
               if c not in reference.columns]
    if missing:
        raise ValueError(f"reference lacks column(s) {missing}")
    if len(reference) == 0:
        raise ValueError("reference holds no cell: it would pass any run; rebuild it with "
                         "`make update-reference`")
    _check_cell_values(reference)
    _check_finite(reference, "reference")
    tol_cols = [f"tol_{m}" for m in METRICS]
    tols = reference[tol_cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(tols)
    if bad.any():
        columns = [c for c, b in zip(tol_cols, bad.any(axis=0), strict=True) if b]
        lines = [f"  {_cell_text(r)}" for _, r in reference[bad.any(axis=1)].head(20).iterrows()]
        raise ValueError(f"reference: {int(bad.any(axis=1).sum())} cell(s) have a missing or "
                         f"non-finite tolerance in {columns}:\n" + "\n".join(lines))


@dataclass(frozen=True)
class Finding:
    """One outcome of the check: ``regression``, ``missing``, ``not-ok`` (failures) or
    ``improved``, ``new-cell`` (information)."""

    kind: str
    dataset: str
    detector: str
    anomaly_ratio: float
    labelled_fraction: float
    seed: int
    metric: str = ""
    reference: float = math.nan
    new: float = math.nan
    tolerance: float = math.nan
    detail: str = ""

    @property
    def failure(self) -> bool:
        return self.kind in ("regression", "missing", "not-ok")

    def text(self) -> str:
        cell = (f"dataset={self.dataset} detector={self.detector} ratio={self.anomaly_ratio:g} "
                f"fraction={self.labelled_fraction:g} seed={self.seed}")
        if self.kind in ("regression", "improved"):
            return (f"{self.kind.upper()}: {cell} metric={self.metric} "
                    f"reference={self.reference:.4f} new={self.new:.4f} "
                    f"tolerance={self.tolerance:.4f} (change {self.new - self.reference:+.4f})")
        return f"{self.kind.upper()}: {cell}" + (f": {self.detail}" if self.detail else "")


def _cell_text(row) -> str:
    return (f"dataset={row['dataset']} detector={row['detector']} "
            f"ratio={float(row['anomaly_ratio']):g} fraction={float(row['labelled_fraction']):g} "
            f"seed={int(row['seed'])}")


def _key(row) -> tuple:
    return (str(row["dataset"]), str(row["detector"]), round(float(row["anomaly_ratio"]), 9),
            round(float(row["labelled_fraction"]), 9), int(row["seed"]))


def check_results(reference: pd.DataFrame, results: pd.DataFrame) -> list[Finding]:
    """Compare a results frame with a reference table; failures first, then information.

    A reference cell fails when it is absent from ``results`` (``missing``), when its status is
    not ``ok`` (``not-ok``, with the error), or when a metric is below its reference by more than
    the cell's tolerance or is not a finite number (``regression``).
    """
    new_by_key = {}
    for _, row in results.iterrows():
        new_by_key[_key(row)] = row
    ref_keys = set()
    findings: list[Finding] = []
    for _, ref in reference.iterrows():
        key = _key(ref)
        ref_keys.add(key)
        ident = dict(zip(CELL_COLUMNS, key, strict=True))
        new = new_by_key.get(key)
        if new is None:
            findings.append(Finding("missing", **ident, detail="not in the new results"))
            continue
        status = str(new.get("status", ""))
        if status != "ok":
            err = new.get("error", "")
            err = "" if (err is None or (isinstance(err, float) and math.isnan(err))) else err
            findings.append(Finding("not-ok", **ident,
                                    detail=f"status {status}" + (f": {err}" if err else "")))
            continue
        for m in METRICS:
            r, n, tol = float(ref[m]), float(new[m]), float(ref[f"tol_{m}"])
            if not math.isfinite(r):
                continue
            if not math.isfinite(n) or n < r - tol - 1e-12:
                findings.append(Finding("regression", **ident, metric=m, reference=r, new=n,
                                        tolerance=tol))
            elif n > r + tol + 1e-12:
                findings.append(Finding("improved", **ident, metric=m, reference=r, new=n,
                                        tolerance=tol))
    for key, row in new_by_key.items():
        if key not in ref_keys:
            findings.append(Finding("new-cell", **dict(zip(CELL_COLUMNS, key, strict=True)),
                                    detail=f"status {row.get('status')}; not guarded (no "
                                           "reference); run `make update-reference` to add it"))
    order = {"missing": 0, "not-ok": 1, "regression": 2, "improved": 3, "new-cell": 4}
    return sorted(findings, key=lambda f: (order[f.kind], f.dataset, f.detector, f.seed,
                                           f.metric))


# --- running ----------------------------------------------------------------------------------

def _run(config_path: Path, out: Path, n_jobs: int | None, progress: bool) -> pd.DataFrame:
    from benchmarks.config import load_config
    from benchmarks.sweep import run_sweep

    config = load_config(config_path)
    log.info("running %s into %s (force: no cell reused)", config_path, out)
    # every cell is computed again on every call, so a stopped check has nothing to resume
    return run_sweep(config, out, n_jobs=n_jobs, force=True, progress=progress,
                     resume="the same command, which computes every cell again")


def _read_table(path: Path, what: str) -> pd.DataFrame:
    """A CSV as a frame, or a ValueError naming the file and what is wrong with it.

    pandas' own messages ("No columns to parse from file") name neither the file nor which of
    the command's inputs it was.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    hint = "; rebuild it with `make update-reference`" if what == "reference" else ""
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{what} {path} is empty (no header, no rows){hint}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{what} {path} is not a readable CSV ({exc}){hint}") from None


def _read_results(folder: Path) -> pd.DataFrame:
    """``folder/results.csv`` as a frame with the columns and values the comparison reads,
    or a ValueError in one line naming the file and what it lacks or the row cut short. Why:
    the comparison would otherwise fail on the first row without them, a traceback that
    exits 1, which CI reads as a regression found, or count a cut row as a failed cell."""
    from benchmarks.results import damaged_row

    path = folder / "results.csv"
    results = _read_table(path, "results")
    fault = damaged_row(path)
    if fault:
        raise ValueError(f"results {path} is damaged: {fault}")
    missing = [c for c in (*CELL_COLUMNS, "status", *METRICS) if c not in results.columns]
    if missing:
        raise ValueError(f"results {path} lack column(s) {missing}: not a results.csv "
                         "written by `pugan-bench run`")
    try:
        _check_cell_values(results)
    except ValueError as exc:
        raise ValueError(f"results {path}: {exc}") from None
    return results


def _read_sidecar(path: Path) -> dict:
    """The reference's JSON sidecar, or a ValueError naming the file and the damaged line."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno} "
                         f"({exc.msg}); rebuild it with `make update-reference`") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text; rebuild it with "
                         "`make update-reference`") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: expected a JSON object, found {type(meta).__name__}")
    return meta


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
    except Exception:  # not a git checkout, or git absent
        return "unknown"


def _fresh_dir(out: str | None, prefix: str) -> Path:
    if out:
        return Path(out)
    return Path(tempfile.mkdtemp(prefix=prefix))


def _update_command_line(args) -> str:
    """The command that made this reference, for its sidecar: ``make update-reference`` for
    the committed one, else the ``regression update`` call with its own files (named as
    config.yaml names files: relative to the repository inside it, else absolute)."""
    import shlex

    from benchmarks.results import recorded_path

    given = {"--config": args.config, "--reference": args.reference}
    if args.from_results:
        given["--from-results"] = args.from_results
    if all(Path(v).resolve() == d.resolve() for v, d in
           ((args.config, DEFAULT_CONFIG), (args.reference, DEFAULT_REFERENCE))) \
            and not args.from_results:
        return "make update-reference"
    return "pugan-bench regression update " + " ".join(
        f"{flag} {shlex.quote(recorded_path(value))}" for flag, value in given.items())


def update_command(args) -> int:
    """``pugan-bench regression update``: rerun the reference cells and store the reference.

    Both files are written atomically, and only once both are computed: a reference cut
    short at a row end still reads as a valid reference that guards fewer cells, and the
    check calls the cells it lost new, not missing; a new reference beside the old sidecar
    would be described by another run's versions and config."""
    from benchmarks.cache import atomic_write_text
    from benchmarks.cell_runner import library_versions
    from benchmarks.cells import code_version
    from benchmarks.sweep import last_training_processor

    if Path(args.reference).suffix.lower() == ".json":  # before any cell runs
        raise ValueError(f"--reference {args.reference}: the reference is a CSV whose sidecar "
                         "is the same name with .json; a .json reference would be written "
                         "over by its own sidecar")
    config = Path(args.config)
    if not config.is_file():  # its hash goes into the sidecar: known before anything is run
        raise FileNotFoundError(f"config {config} not found (--config); the reference's "
                                "sidecar records the hash of the config it was made from")
    t0 = time.monotonic()
    if args.from_results:
        folder = Path(args.from_results)
        results = _read_results(folder)
    else:
        folder = _fresh_dir(args.scratch, "pugan-update-reference-")
        results = _run(config, folder, args.n_jobs, not args.no_progress)
    versions = set(results.get("version_pugan_bench", pd.Series(dtype=str)).dropna().astype(str))
    version = versions.pop() if len(versions) == 1 else code_version()
    try:
        ref = build_reference(results, version=version)
    except ValueError as exc:
        print(f"update-reference: refused: {exc}\n(results in {folder})", file=sys.stderr)
        return 1
    target = Path(args.reference)
    metric_cols = [*METRICS, *(f"tol_{m}" for m in METRICS)]
    ref[metric_cols] = ref[metric_cols].round(6)  # ratios and fractions keep full precision
    lib = {k: v for k, v in results.iloc[0].items() if str(k).startswith("version_")} \
        if len(results) else {}
    meta = {
        "version": version,
        "git_commit": _git_commit(),
        "config": str(config.relative_to(ROOT)) if config.is_relative_to(ROOT) else str(config),
        "config_sha256": sha256_of(config),
        "cells": len(ref),
        "tolerance_rule": f"min({TOL_CAP}, max({TOL_FLOOR}, {TOL_K:g} * std over seeds, "
                          "ddof=1)); cap when fewer than 2 seeds",
        "metrics": list(METRICS),
        "library_versions": {k: str(v) for k, v in (lib or library_versions()).items()},
        "run_seconds": None if args.from_results else round(time.monotonic() - t0, 1),
        "cell_seconds_total": round(float(results["cell_seconds"].sum()), 1)
        if "cell_seconds" in results.columns else None,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": _update_command_line(args),
        # PU-GAN's cells move with the arithmetic it trains in: a check elsewhere names it
        "processor": last_training_processor(folder),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, ref.to_csv(index=False))
    atomic_write_text(target.with_suffix(".json"), json.dumps(meta, indent=2) + "\n")
    print(f"update-reference: {len(ref)} cells written to {target} (version {version}); "
          f"run results in {folder}")
    return 0


def check_command(args) -> int:
    """``pugan-bench regression check``: rerun (or read) the cells and compare; exit status."""
    reference_path = Path(args.reference)
    if not reference_path.is_file():
        print(f"check-regression: no reference at {reference_path}; create it with "
              "`make update-reference`", file=sys.stderr)
        return 2
    reference = _read_table(reference_path, "reference")
    try:
        check_reference(reference)
    except ValueError as exc:
        print(f"check-regression: error: {reference_path}: {exc}", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    meta_path = reference_path.with_suffix(".json")
    # read even when comparing given results: a damaged sidecar is said at once, not on the
    # next full check
    meta = _read_sidecar(meta_path) if meta_path.is_file() else {}
    if (not args.results and meta.get("config_sha256")
            and meta["config_sha256"] != sha256_of(Path(args.config))):
        log.warning("%s changed since the reference was made (config hash differs); cells "
                    "it no longer holds will be reported missing", args.config)
    if args.results:
        folder = Path(args.results)
        results = _read_results(folder)
    else:
        folder = _fresh_dir(args.out, "pugan-check-regression-")
        results = _run(Path(args.config), folder, args.n_jobs, not args.no_progress)
    findings = check_results(reference, results)
    failures = [f for f in findings if f.failure]
    lines = [f.text() for f in findings]
    report = "\n".join(lines)
    details = "above"
    if not args.results:  # a folder of its own run; a given one (maybe committed) is only read
        (folder / "regression.txt").write_text(report + ("\n" if report else ""))
        details = f"in {folder / 'regression.txt'}"
    for line in lines:
        print(line, file=sys.stderr if line.startswith(("REGRESSION", "MISSING", "NOT-OK"))
              else sys.stdout)
    n_metrics = len(reference) * len(METRICS)
    elapsed = time.monotonic() - t0
    if failures:
        arithmetic = _arithmetic_hint(meta.get("processor"), folder)
        if arithmetic:
            print(arithmetic, file=sys.stderr)
        print(f"check-regression: FAILED: {len(failures)} problem(s) in {len(reference)} "
              f"reference cells ({n_metrics} scores); {elapsed:.0f} s; details {details}",
              file=sys.stderr)
        return 1
    improved = sum(f.kind == "improved" for f in findings)
    print(f"check-regression: ok: {len(reference)} reference cells, {n_metrics} scores within "
          f"tolerance ({improved} improved beyond it); {elapsed:.0f} s; results in {folder}")
    return 0


def _arithmetic_hint(reference_processor: str | None, folder: Path) -> str | None:
    """A line for a failed check whose cells trained PU-GAN in another arithmetic than the
    reference's (its sidecar's ``processor`` against the run's ``runs.jsonl``): a PU-GAN
    score can then move past its tolerance with the machine, not the code."""
    from benchmarks.sweep import arithmetic_change, last_training_processor

    change = arithmetic_change(reference_processor, last_training_processor(folder))
    if change is None:
        return None
    earlier, current, cap = change
    how = (f"ONEDNN_MAX_CPU_ISA={cap} makes this machine train as the reference's did" if cap
           else "compare on a processor like the reference's before blaming the code")
    return (f"NOTE: the reference's PU-GAN cells trained in {earlier} ({reference_processor}), "
            f"these in {current}, which rounds differently: a PU-GAN score past its tolerance "
            f"may be the machine's; {how}")


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.regression ARGS``: the same as ``pugan-bench regression ARGS``."""
    from benchmarks.cli import main as cli_main

    return cli_main(["regression", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
