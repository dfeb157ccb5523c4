"""Two tunings of the same grid side by side: every point's score in each, and both choices.

Usage::

    python experiments/compare_tunings.py A.yaml B.yaml [--detector pugan] [--ignore precision]
        [--results A_DIR B_DIR]

A and B are tuning files written by ``pugan-bench tune`` over the same grid, for example the
committed one and one trained in another arithmetic. Points are matched by their parameters,
less those named by ``--ignore`` (a parameter that only one tuning set, such as
``precision``). Prints a markdown table per dataset both files tune: each point's mean and
standard deviation of the criterion over the development seeds in A and in B, the chosen
point of each in bold, and whether the two choices agree. The tables in docs/speed.md come
from this command.

``--results A_DIR B_DIR`` names the folders whose results.csv each tuning was chosen from
(``pugan-bench tune --out``). Where the two choices differ, it adds, for each tuning, B's
point minus A's point, paired by development seed, with the mean and its 95% Student-t
interval (unclipped): whether that tuning's seeds separate the two points at all, which the
means and standard deviations alone cannot say.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from benchmarks.stats import mean_ci
from benchmarks.tuning import read_tuning


def _key(params: dict, ignore: set[str]) -> tuple:
    return tuple(sorted((k, v) for k, v in params.items() if k not in ignore))


def _text(key: tuple) -> str:
    return ", ".join(f"{k} {v}" for k, v in key)


def _criterion(a: dict, b: dict) -> str:
    """The criterion both tunings were chosen on; refused when they differ, since the table
    heads one metric and would show B's other metric under A's name."""
    crit_a, crit_b = a.get("criterion", "auprc"), b.get("criterion", "auprc")
    if crit_a != crit_b:
        raise ValueError(f"the two tunings were chosen on different criteria (A on {crit_a}, "
                         f"B on {crit_b}): their means are not comparable")
    return crit_a


def _score(point: dict) -> str:
    """A grid point's "mean ± sd"; "n/a" for the spread of a one-seed tuning (no ``std``)."""
    if point["mean"] is None:
        return ""
    std = "n/a" if point.get("std") is None else f"{point['std']:.3f}"
    return f"{point['mean']:.3f} ± {std}"


def _seeds_line(a: dict, b: dict) -> str:
    """Which seeds each tuning used, flagged when they differ (the means then average over
    different splits)."""
    text = f"A on seeds {a.get('seeds')}, B on seeds {b.get('seeds')}"
    if a.get("seeds") != b.get("seeds"):
        text += " (the seeds differ: the means are over different splits)"
    return text


def point_scores(folder: Path, dataset: str, detector: str, point: tuple, criterion: str,
                 seeds) -> dict[int, float]:
    """The criterion of one grid point per seed of ``seeds``, read from a tuning's
    results.csv: the ok rows of the entry labelled ``detector`` (``detector`` itself for a
    one-point grid, ``detector[...]`` for its points) on ``dataset`` whose parameters,
    restricted to the point's names, are the point. A seed met twice is refused: two
    entries would be mixed."""
    import pandas as pd

    path = Path(folder) / "results.csv"
    if not path.is_file():
        raise ValueError(f"no results.csv in {folder}: give the folder `pugan-bench tune "
                         "--out` wrote")
    rows = pd.read_csv(path)
    label = rows["detector"].astype(str)
    rows = rows[(rows["dataset"] == dataset) & (rows["status"] == "ok")
                & ((label == detector) | label.str.startswith(f"{detector}["))
                & rows["seed"].isin(list(seeds))]
    names = {k for k, _ in point}
    scores = {}
    for params, seed, value in zip(rows["detector_params"], rows["seed"], rows[criterion],
                                   strict=True):
        given = json.loads(params) if isinstance(params, str) and params else {}
        if tuple(sorted((k, v) for k, v in given.items() if k in names)) != point:
            continue
        if int(seed) in scores:
            raise ValueError(f"{path}: two ok rows of {detector} on {dataset} at "
                             f"{_text(point)} for seed {seed}")
        scores[int(seed)] = float(value)
    if not scores:
        raise ValueError(f"{path}: no ok row of {detector} on {dataset} at {_text(point)}")
    return scores


def paired_line(label: str, tuning: dict, folder: Path, dataset: str, detector: str,
                first: tuple, second: tuple, criterion: str) -> str:
    """``second`` minus ``first`` over the seeds ``tuning`` was chosen on, paired by seed, with
    its 95% t interval (seeds where either score is missing or not finite are left out)."""
    seeds = tuning.get("seeds") or []
    one = point_scores(folder, dataset, detector, first, criterion, seeds)
    two = point_scores(folder, dataset, detector, second, criterion, seeds)
    diffs = [two[s] - one[s] for s in sorted(set(one) & set(two))
             if math.isfinite(two[s] - one[s])]
    if not diffs:
        raise ValueError(f"{folder}: no seed has a score at both {_text(first)} and "
                         f"{_text(second)} on {dataset}")
    mean, _, low, high = mean_ci(diffs, bounded=False)
    interval = ("(one seed: no interval)" if len(diffs) < 2
                else f"[{low:+.3f}, {high:+.3f}] (95% t)")
    return (f"  in {label}: B's point minus A's, paired by seed over {len(diffs)} seed(s): "
            f"{mean:+.3f} {interval}")


def compare(a: dict, b: dict, detector: str, ignore: set[str],
            results: tuple[Path, Path] | None = None) -> str:
    """The markdown tables of ``detector``'s grid in tunings ``a`` and ``b``; with
    ``results`` (the folders each was chosen from), the paired difference between the two
    choices in each where they differ."""
    crit = _criterion(a, b)
    shared = [d for d in a["choices"] if d in b["choices"]
              and detector in a["choices"][d] and detector in b["choices"][d]]
    if not shared:
        raise ValueError(f"the two tunings share no dataset that tunes {detector!r}")
    lines = [f"| reading | point | mean {crit} ± sd, A | mean {crit} ± sd, B |",
             "| --- | --- | ---: | ---: |"]
    verdicts = []
    for dataset in shared:
        ca, cb = a["choices"][dataset][detector], b["choices"][dataset][detector]
        grid_a = {_key(g["params"], ignore): g for g in ca["grid"]}
        grid_b = {_key(g["params"], ignore): g for g in cb["grid"]}
        if set(grid_a) != set(grid_b):
            names_a = {k for key in grid_a for k, _ in key}
            names_b = {k for key in grid_b for k, _ in key}
            if names_a != names_b:
                raise ValueError(f"{dataset}: parameters {sorted(names_a ^ names_b)} are set "
                                 "in one tuning only; leave them out with --ignore")
            raise ValueError(f"{dataset}: the two tunings ran different grids (only in A: "
                             f"{[_text(k) for k in set(grid_a) - set(grid_b)]}, only in B: "
                             f"{[_text(k) for k in set(grid_b) - set(grid_a)]})")
        chosen_a, chosen_b = _key(ca["params"], ignore), _key(cb["params"], ignore)
        for key in grid_a:
            cells = []
            for grid, chosen in ((grid_a, chosen_a), (grid_b, chosen_b)):
                text = _score(grid[key])
                cells.append(f"**{text}**" if key == chosen else text)
            lines.append(f"| {dataset} | {_text(key)} | {cells[0]} | {cells[1]} |")
        verdicts.append(f"{dataset}: " + ("the same choice" if chosen_a == chosen_b else
                                          f"A chooses {_text(chosen_a)}, B {_text(chosen_b)}"))
        if results and chosen_a != chosen_b:
            verdicts += [paired_line(label, tuning, folder, dataset, detector, chosen_a,
                                     chosen_b, crit)
                         for label, tuning, folder in zip("AB", (a, b), results, strict=True)]
    seeds = _seeds_line(a, b)
    return "\n".join([*lines, "", f"Chosen point in bold; {seeds}.", *verdicts]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="a tuning file (`pugan-bench tune --write`)")
    parser.add_argument("b", help="another tuning file of the same grid")
    parser.add_argument("--detector", default="pugan", help="the detector entry to compare")
    parser.add_argument("--ignore", action="append", default=[],
                        help="a parameter to leave out when matching points (repeatable)")
    parser.add_argument("--results", nargs=2, type=Path, metavar=("A_DIR", "B_DIR"),
                        help="the folders each tuning was chosen from (tune --out): adds the "
                             "paired difference between differing choices")
    args = parser.parse_args(argv)
    try:
        print(compare(read_tuning(args.a), read_tuning(args.b), args.detector,
                      set(args.ignore), args.results), end="")
    except ValueError as exc:
        print(f"compare_tunings: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
