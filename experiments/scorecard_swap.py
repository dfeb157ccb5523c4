"""The paper scorecard with some cells swapped for others: which claims and readings move.

Usage::

    python experiments/scorecard_swap.py BASE OTHER

BASE is a paper sweep folder (its results.csv; the imbalance and unknown-types sweeps beside
it are read as the report reads them), OTHER a folder whose results.csv holds cells of the same
detector labels, datasets and seeds computed another way (other settings, another arithmetic).
Each of OTHER's rows replaces BASE's row of the same detector, dataset, ratio, fraction and
seed; a row of OTHER without such a row in BASE is refused, so nothing is added unseen. Prints
every reading whose verdict differs between the two scorecards, both texts side by side, then
each claim's verdict in both. The comparison in docs/speed.md of the settings tuned on the AVX2
processor comes from this command.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from benchmarks.report import load_results, table2
from benchmarks.scorecard import sweep_scorecard

KEYS = ["detector", "dataset", "anomaly_ratio", "labelled_fraction", "seed"]


def swap(base: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """``base`` with each row of ``other`` in place of its row of the same KEYS."""
    index = base.set_index(KEYS).index
    incoming = other.set_index(KEYS).index
    missing = incoming.difference(index)
    if len(missing):
        raise ValueError(f"{len(missing)} row(s) of the other folder have no row in the base "
                         f"to replace, e.g. {list(missing[0])}")
    kept = base[~index.isin(incoming)]
    return pd.concat([kept, other[base.columns.intersection(other.columns)]],
                     ignore_index=True)


MARKS = ("(holds)", "(does not hold)", "(not measured)")


def _readings(card: pd.DataFrame) -> dict[tuple[str, str], tuple[str, str]]:
    """(claim, reading name) -> (mark, the reading's text), from the card's readings column
    ("name: evidence (mark) | ...")."""
    out = {}
    for row in card.itertuples(index=False):
        for text in row.readings.split(" | "):
            name = text.split(": ", 1)[0]
            mark = next((m for m in MARKS if text.endswith(m)), "")
            out[(row.claim, name)] = (mark, text)
    return out


def compare(folder: Path, other: Path) -> str:
    base = load_results(folder)
    swapped = swap(base, load_results(other))
    before = sweep_scorecard(folder, base, table2(base))
    after = sweep_scorecard(folder, swapped, table2(swapped))
    lines = [f"Readings that differ ({folder} against it with the cells of {other}):", ""]
    a, b = _readings(before), _readings(after)
    for key in a:
        if a[key][0] != b.get(key, ("", ""))[0]:
            lines += [f"- {key[0]} / {key[1]}", f"  - base: {a[key][1]}",
                      f"  - swapped: {b.get(key, ('', 'absent'))[1]}"]
    if len(lines) == 2:
        lines.append("- none")
    lines += ["", "| claim | verdict, base | verdict, swapped |", "| --- | --- | --- |"]
    for x, y in zip(before.itertuples(index=False), after.itertuples(index=False), strict=True):
        lines.append(f"| {x.claim} | {x.verdict} | {y.verdict} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base", type=Path)
    ap.add_argument("other", type=Path)
    args = ap.parse_args(argv)
    print(compare(args.base, args.other))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
