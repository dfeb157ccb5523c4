"""Equal tuning by a command: every detector's grid scored on development seeds, one choice each.

``pugan-bench tune CONFIG --out DIR --write FILE`` runs the sweep CONFIG (whose detector entries
hold grids: list-valued params) on development seeds only, then, for every dataset and every
detector entry, keeps the grid point with the best mean of a criterion (AUPRC by default)
over the seeds. Each detector gets the same treatment, and the sweep config says how many
points each grid has, so equal budgets are visible in one file. FILE records the choice with its
provenance (grid, criterion, seeds, every point's scores, the code versions the grid's cells
ran) and is what a report config reads through ``tuning:`` and ``tuned: true`` entries
(:mod:`benchmarks.config`).

A point is eligible only if every one of its cells finished ``ok``; ties go to the earlier point
of the grid, so the choice is deterministic. A dataset and detector left with no eligible point
stop the command with an error naming them, and no file is written: a tuning file that silently
lacks a choice would only fail later, in the report config that reads it. A choice is keyed by
dataset label and detector, so each dataset entry of a tuning config must have one anomaly
ratio and one labelled fraction.
Test labels are used here only as the development splits' labels: the report seeds never enter.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import pandas as pd

from benchmarks.config import SweepConfig
from benchmarks.errors import ConfigError
from benchmarks.yamlfile import read_yaml_file

log = logging.getLogger(__name__)

__all__ = ["CRITERIA", "check_choice_seeds", "check_write_target", "choose", "competes",
           "dataset_definition", "grid_code_versions", "read_tuning", "read_tunings", "tune",
           "write_tuning"]

#: metrics a tuning may maximise (columns of a results frame)
CRITERIA = ("auprc", "auroc", "f1")


def read_tuning(path: str | Path) -> dict:
    """Read a tuning file; raise :class:`ConfigError` naming the file when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"tuning file not found: {path}; write it with `pugan-bench tune`")
    raw = read_yaml_file(path, "save the tuning file as UTF-8")
    if not isinstance(raw, dict) or not isinstance(raw.get("choices"), dict):
        raise ConfigError(f"{path}: not a tuning file (no 'choices' mapping)")
    for dataset, by_det in raw["choices"].items():
        if not isinstance(by_det, dict) or not all(
                isinstance(c, dict) and isinstance(c.get("params"), dict)
                for c in by_det.values()):
            raise ConfigError(f"{path}: choices[{dataset!r}] must map detector keys to "
                              "{params: {...}, ...}")
    for field in ("datasets", "detectors"):
        if raw.get(field) is not None and not isinstance(raw[field], dict):
            raise ConfigError(f"{path}: {field} must map each dataset label or detector key "
                              f"to what it named; got {type(raw[field]).__name__}")
    seeds = raw.get("seeds")
    if seeds is not None and not (isinstance(seeds, list) and all(
            isinstance(s, int) and not isinstance(s, bool) for s in seeds)):
        # a config checks its own seeds against these: they must be the seeds, as written
        raise ConfigError(f"{path}: seeds must be a list of integers (the seeds that chose "
                          f"the settings); got {seeds!r}")
    return {**raw, "path": str(path)}


def check_choice_seeds(choice: dict, what: str) -> None:
    """Refuse a choice (of :func:`read_tunings`) that records no seeds, whose provenance is
    then unknown, or records a report seed: a setting a reader sees is chosen on development
    seeds. ``what`` names the entry and dataset in the message."""
    from benchmarks.seeds import REPORT_SEEDS

    if not choice.get("seeds"):
        raise ConfigError(f"config: {what}: {choice['file']} records no seeds, so whether its "
                          "choice was made on report seeds is unknown; write it with "
                          "`pugan-bench tune`")
    on_report = sorted(set(choice["seeds"]) & set(REPORT_SEEDS))
    if on_report:
        raise ConfigError(f"config: {what} was tuned on report seed(s) {on_report} "
                          f"({choice['file']}); a setting a reader sees is chosen on "
                          "development seeds (benchmarks.seeds.DEV_SEEDS)")


def read_tunings(paths) -> dict:
    """One or several tuning files read as one: their choices merged.

    Each choice keeps where it came from (``file``, ``criterion``, ``seeds``), so a report can
    say which file and which development seeds chose it. A dataset tuned in two files is an
    error: which choice applies would depend on the order of the list.
    """
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    if not paths:
        raise ConfigError("tuning: expected a tuning file or a non-empty list of them")
    choices: dict = {}
    tuned_in: dict = {}  # dataset -> the file that tuned it
    for path in paths:
        one = read_tuning(path)
        provenance = {"file": one["path"], "criterion": one.get("criterion"),
                      "seeds": one.get("seeds")}
        versions = one.get("code_versions") or {}
        made_on = one.get("datasets") or {}   # absent from files written before it was kept
        detectors = one.get("detectors") or {}
        for dataset, by_det in one["choices"].items():
            if dataset in tuned_in:
                raise ConfigError(f"tuning: dataset {dataset!r} is tuned in two files "
                                  f"({tuned_in[dataset]} and {one['path']})")
            tuned_in[dataset] = one["path"]
            choices[dataset] = {key: {**choice, **provenance,
                                      "code_versions": versions.get(key),
                                      "dataset_definition": made_on.get(dataset),
                                      "detector_name": detectors.get(key)}
                                for key, choice in by_det.items()}
    return {"choices": choices, "path": ", ".join(str(p) for p in paths)}


def _grids(config: SweepConfig) -> dict[str, list]:
    """Each detector entry's grid: its label (``group``) mapped to its points, in the
    config's order."""
    grids: dict[str, list] = {}
    for det in config.detectors:
        grids.setdefault(det.group, []).append(det)
    return grids


def choose(frame: pd.DataFrame, config: SweepConfig, criterion: str = "auprc") -> dict:
    """The best grid point per (dataset, detector entry) of a finished tuning sweep."""
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}; got {criterion!r}")
    _check_one_split_setting(config)
    n_seeds = len(config.seeds)
    choices: dict = {}
    for d in config.datasets:
        for group, points in _grids(config).items():
            grid, eligible, left_out = [], [], []
            for det in points:
                rows = frame[(frame["dataset"] == d.label) & (frame["detector"] == det.label)]
                ok = rows[rows["status"] == "ok"]
                vals = _seed_ordered(ok, criterion)
                mean = _exact_mean(vals)
                entry = {"params": dict(det.params), "mean": _round(mean),
                         "std": _round(float(vals.std(ddof=1)) if len(vals) > 1 else math.nan),
                         "n_ok": int(len(ok)), "n_cells": int(len(rows)),
                         "n_skipped": int((rows["status"] == "skipped").sum())}
                grid.append(entry)
                if competes(entry, n_seeds):
                    eligible.append((entry, mean))  # unrounded: rounding would move ties
                else:
                    left_out.append(entry)
            best = _first_of_the_best(eligible)
            if best is None and grid and all(g["n_cells"] and g["n_skipped"] == g["n_cells"]
                                             for g in grid):
                # the detector cannot run on this dataset at any point (too many rows): keep
                # the first point, so the report's cells say "skipped" with the reason
                choices.setdefault(d.label, {})[group] = {
                    "params": dict(grid[0]["params"]), criterion: None,
                    "note": "every grid point was skipped on this dataset", "grid": grid}
                continue
            if best is None:
                continue  # nothing finished: no choice; tune refuses to write such a file
            for g in left_out:
                why = (f"{g['n_ok']} of {n_seeds} seeds finished ok" if g["n_ok"] != n_seeds
                       else f"its mean {criterion} is undefined (a seed gave no score)")
                log.warning("%s / %s: grid point %s left out of the choice: %s", d.label,
                            group, g["params"], why)
            choices.setdefault(d.label, {})[group] = {
                "params": dict(best["params"]), criterion: best["mean"], "grid": grid}
    return choices


def competes(point: dict, n_seeds: int) -> bool:
    """Whether a grid point (an entry of a choice's ``grid``) competed for the choice: every
    seed finished ok and its mean is a number (a score left undefined gives none)."""
    mean = point.get("mean")
    return point.get("n_ok", n_seeds) == n_seeds and mean is not None and math.isfinite(mean)


def _seed_ordered(ok: pd.DataFrame, criterion: str) -> pd.Series:
    """A point's criterion values in seed order, so that its mean and spread do not depend
    on the order the rows were written in (a rerun or a merge reorders them)."""
    if "seed" in ok:
        ok = ok.sort_values("seed", kind="stable")
    return ok[criterion].astype(float)


def _exact_mean(vals: pd.Series) -> float:
    """The correctly rounded mean (``math.fsum``): the same seeds' scores give the same mean
    in any order, which a running float sum does not."""
    return math.fsum(vals) / len(vals) if len(vals) else math.nan


def _first_of_the_best(eligible: list[tuple[dict, float]]) -> dict | None:
    """The earliest grid point whose mean equals the highest up to float noise: points equal
    up to rounding are a tie, which the earlier point wins, whatever the order of the
    comparisons (a running "beats the best so far" with a tolerance is not transitive)."""
    if not eligible:
        return None
    top = max(mean for _, mean in eligible)
    return next(entry for entry, mean in eligible
                if mean == top or math.isclose(mean, top, rel_tol=1e-12, abs_tol=1e-15))


def _check_one_split_setting(config: SweepConfig) -> None:
    """Refuse a dataset entry crossed with several anomaly ratios or labelled fractions.

    A choice is keyed by dataset and detector only, so it cannot say which ratio or fraction
    it was tuned on; and a point counts as finished when it has one ok cell per seed, so with
    several settings no point would ever qualify and the dataset would end with no choice and
    no word why (its mean would mix the settings besides). One setting per entry: tune each
    setting under its own dataset label.
    """
    for d in config.datasets:
        several = [f"{name} {list(values)}" for name, values in
                   (("anomaly_ratios", d.anomaly_ratios),
                    ("labelled_fractions", d.labelled_fractions)) if len(values) > 1]
        if several:
            raise ConfigError(
                f"tuning: dataset {d.label!r} has several {' and '.join(several)}; a tuning "
                "choice holds one setting per dataset, so give each setting its own dataset "
                "entry and label")


def _round(v: float):
    return None if not math.isfinite(v) else round(v, 6)


def grid_code_versions(frame: pd.DataFrame, config: SweepConfig) -> dict:
    """Per detector entry, the code versions its grid's cells ran with (the rows'
    ``code_version``: package version and the detector's code fingerprint), so that a report
    can tell a choice made on other code from one made on the code it runs."""
    out = {}
    for group, points in _grids(config).items():
        labels = {det.label for det in points}
        rows = frame[frame["detector"].isin(labels) & (frame["status"] == "ok")]
        if "code_version" in rows:
            out[group] = sorted({str(v) for v in rows["code_version"].dropna() if str(v)})
    return out


def dataset_definition(entry) -> dict:
    """What a dataset entry's cells are made from, as their keys see it: the data (a user's
    file by its content, not its folder: :func:`benchmarks.cells.data_identity`), the split,
    and the anomaly ratios and labelled fractions. A tuning file records it beside each
    choice, in plain YAML values."""
    import json

    from benchmarks.cells import canonical_json, data_identity

    name, params = data_identity(entry.dataset, canonical_json(entry.dataset_params))
    return json.loads(json.dumps({
        "dataset": name, "dataset_params": json.loads(params),
        "split": json.loads(canonical_json(entry.split)),
        "anomaly_ratios": list(entry.anomaly_ratios),
        "labelled_fractions": list(entry.labelled_fractions)}, default=str))


def write_tuning(path: str | Path, choices: dict, *, config: SweepConfig, criterion: str,
                 code_versions: dict | None = None) -> Path:
    """Write the tuning file (YAML) with its provenance, atomically: it is written after
    hours of grid cells, and a half file cut at a line end would still read as a tuning file
    with fewer choices or a shorter grid. ``code_versions`` (:func:`grid_code_versions`) are
    the code the grid's cells ran."""
    import yaml

    from benchmarks.cache import atomic_write_text
    from benchmarks.cells import code_version

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "criterion": criterion,
        "seeds": list(config.seeds),
        "config": config.source or config.name,
        "grid_points": {g: len(points) for g, points in _grids(config).items()},
        "code_version": code_version(),
        "code_versions": code_versions or {},
        # what each choice was made on, so that a sweep applies it to the same data and
        # detector only (a label alone could name another dataset)
        "datasets": {d.label: dataset_definition(d) for d in config.datasets},
        "detectors": {g: points[0].name for g, points in _grids(config).items()},
        "choices": choices,
    }
    head = (f"# Written by `pugan-bench tune {doc['config']}`: the best mean {criterion} over "
            "development seeds per dataset and detector; do not edit by hand.\n")
    atomic_write_text(path, head + yaml.safe_dump(doc, sort_keys=False, width=100))
    return path


def check_write_target(path: str | Path) -> Path:
    """Refuse a tuning file path that could not be written, before any cell runs.

    The file is written only after the whole grid has run, which can take hours; a path that
    is a folder, or lies under a file or an unwritable folder, would otherwise be found out
    only then. Missing folders are fine: they are created on writing.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"--write {path}: is a folder; give the tuning file's path "
                         f"(e.g. {path / 'tuning.yaml'})")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"--write {path}: {parent} is not a folder, so the tuning file "
                         "cannot be written under it")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists()
                                                   and not os.access(path, os.W_OK)):
        raise ValueError(f"--write {path}: not writable ({path if path.exists() else parent} "
                         "denies writing)")
    return path


def _unchosen(choices: dict, frame: pd.DataFrame, config: SweepConfig, out: Path) -> str | None:
    """The message for (dataset, detector) pairs without a choice, or None when all have one.

    Each pair names its first cell error, so the common case (a grid no point of which can
    run) is clear without opening results.csv.
    """
    lines = []
    for d in config.datasets:
        for group, points in _grids(config).items():
            if group in choices.get(d.label, {}):
                continue
            labels = {det.label for det in points}
            rows = frame[(frame["dataset"] == d.label) & frame["detector"].isin(labels)]
            bad = rows[rows["status"] != "ok"]
            errors = bad["error"].dropna().astype(str) if "error" in bad.columns else []
            first = next((e.strip().splitlines()[-1] for e in errors if e.strip()), "")
            counts = ", ".join(f"{n} {s}" for s, n in rows["status"].value_counts().items())
            lines.append(f"  dataset {d.label!r}, detector {group!r}: "
                         f"{counts or 'no cell result'}" + (f"; first error: {first[:200]}"
                                                             if first else ""))
    if not lines:
        return None
    return (f"tuning: {len(lines)} dataset/detector pair(s) got no choice (no grid point "
            f"finished ok on every seed); the cells' errors are in the error column of "
            f"{out / 'results.csv'}; no tuning file written:\n" + "\n".join(lines))


def tune(config: SweepConfig, out: str | Path, write: str | Path, *, criterion: str = "auprc",
         allow_report_seeds: bool = False, **run_kw) -> Path:
    """Run the grid sweep on development seeds, choose, and write the tuning file.

    Raises a ValueError, and writes nothing, when some dataset and detector got no choice.
    """
    from benchmarks.seeds import check_dev_seeds
    from benchmarks.sweep import run_sweep

    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}; got {criterion!r}")
    check_dev_seeds(config.seeds, allow_report=allow_report_seeds)
    _check_one_split_setting(config)
    grids = _grids(config)
    for g, entries in grids.items():
        names = {d.name for d in entries}
        if len(names) > 1:
            raise ConfigError(f"tuning: entry label {g!r} is used by detectors {sorted(names)}; "
                              "give each entry its own label")
    points = {g: len(entries) for g, entries in grids.items()}
    if len(set(points.values())) > 1:
        # a detector given more points is more likely to find a lucky one on the same seeds
        raise ConfigError(f"tuning: every detector gets the same budget, but the grids have "
                          f"{points} points; give each the same number")
    check_write_target(write)
    frame = run_sweep(config, out, **run_kw)
    choices = choose(frame, config, criterion)
    problem = _unchosen(choices, frame, config, Path(out))
    if problem:
        raise ValueError(problem)
    return write_tuning(write, choices, config=config, criterion=criterion,
                        code_versions=grid_code_versions(frame, config))
