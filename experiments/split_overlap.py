"""How many of a report split's test records a development split's labels have already shown.

Usage::

    python experiments/split_overlap.py [--presets kddcup99-high,kddcup99-low,...]
        [--dev-seeds 1000-1002] [--report-seeds 0-9]

Development and report seeds draw their splits independently, but a real dataset is a finite
pool of records: the splits of both sets draw from the same rows. Tuning reads the test labels
of the development splits (``pugan-bench tune`` scores each grid point on them), so a report
test record that was a test record of some development split has had its label seen by the
tuning that chose the settings it is then scored with. This prints, per preset, the share of
the report splits' test records (normals and anomalies apart) that were test records of any
development split, and the share that were training records there. Records are the loaded
dataset's row numbers (before de-duplication), so identical records at different rows count
as different. moons is drawn afresh from each seed and shares no record. Chooses nothing: it
reads both seed sets to audit them.

Each split is built as the sweeps build it: from the preset's cell in the tuning configs
(development seeds) or the report config (report seeds), so from the split seed each cell
derives from its seed and settings (``Cell.split_seed``), not from the seed itself.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
from pathlib import Path

import numpy as np

from benchmarks.config import load_config
from benchmarks.seeds import parse_seeds
from benchmarks.splits import make_pu_split

KDD_READINGS = ("kddcup99-high", "kddcup99-low", "kddcup99-high-2pct", "kddcup99-low-2pct")
CONFIGS = Path(__file__).resolve().parents[1] / "benchmarks" / "configs"
#: the configs whose cells draw each seed set's splits: `make tune` and the report sweep
SWEEP_CONFIGS = {"dev": ("tune-paper.yaml", "tune-paper-2pct.yaml"), "report": ("paper.yaml",)}


@functools.cache
def _config(name: str):
    return load_config(CONFIGS / name)


def sweep_split(preset: str, seed: int, role: str):
    """The split a ``role`` ("dev" or "report") sweep's cell of ``preset`` at ``seed`` fits
    and scores on: built from that cell's own split arguments, whose seed is the one the
    cell derives, as :mod:`benchmarks.sweep` builds it."""
    for name in SWEEP_CONFIGS[role]:
        config = dataclasses.replace(_config(name), seeds=(seed,))
        for cell in config.cells():
            if cell.dataset == preset:
                return make_pu_split(**cell.split_kwargs())
    raise ValueError(f"no {role} config ({', '.join(SWEEP_CONFIGS[role])}) runs {preset!r}")


def overlap(preset: str, dev_seeds, report_seeds) -> dict:
    """Shares of the report splits' test records seen by the development splits."""
    dev_test, dev_train = set(), set()
    for seed in dev_seeds:
        split = sweep_split(preset, seed, "dev")
        dev_test.update(split.test_index.tolist())
        dev_train.update(split.train_index.tolist())
    counts = {"normal": [0, 0, 0], "anomaly": [0, 0, 0]}   # records, in dev test, in dev train
    for seed in report_seeds:
        split = sweep_split(preset, seed, "report")
        for index, label in zip(split.test_index.tolist(), split.y_test.tolist(), strict=True):
            c = counts["anomaly" if label == 1 else "normal"]
            c[0] += 1
            c[1] += index in dev_test
            c[2] += index in dev_train
    return {kind: (n, seen / n if n else np.nan, trained / n if n else np.nan)
            for kind, (n, seen, trained) in counts.items()}


def markdown(rows: dict, dev_seeds, report_seeds) -> str:
    lines = [f"Report seeds {', '.join(map(str, report_seeds))} against development seeds "
             f"{', '.join(map(str, dev_seeds))} (row numbers of the loaded dataset).", "",
             "| preset | test normals | in a dev test set | in a dev training set | "
             "test anomalies | in a dev test set | in a dev training set |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for preset, r in rows.items():
        cells = []
        for kind in ("normal", "anomaly"):
            n, seen, trained = r[kind]
            cells += [f"{n:,}", f"{seen:.1%}", f"{trained:.1%}"]
        lines.append(f"| {preset} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--presets", default=",".join(KDD_READINGS))
    ap.add_argument("--dev-seeds", default="1000-1002",
                    help="the development seeds the tuning scored (default: make tune's)")
    ap.add_argument("--report-seeds", default="0-9")
    args = ap.parse_args(argv)
    presets = [p for p in args.presets.split(",") if p]
    audited = list(KDD_READINGS)  # the readings the tuning and report configs run
    unknown = [p for p in presets if p not in audited]
    if unknown:
        ap.error(f"preset(s) {unknown} are no reading the sweeps tune and report; presets: "
                 f"{', '.join(audited)}")
    try:
        dev, report = parse_seeds(args.dev_seeds), parse_seeds(args.report_seeds)
    except ValueError as exc:  # SeedListError names the problem
        ap.error(str(exc))
    if set(dev) & set(report):
        ap.error(f"seeds {sorted(set(dev) & set(report))} are in both sets")
    try:
        rows = {p: overlap(p, dev, report) for p in presets}
    except ValueError as exc:   # a preset no sweep config runs
        ap.error(str(exc))
    print(markdown(rows, dev, report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
