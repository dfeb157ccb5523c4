"""The paper scorecard with some cells swapped for others: which claims and readings move.

Usage::

    python experiments/scorecard_swap.py BASE OTHER
    python experiments/scorecard_swap.py BASE OTHER --whole

BASE is a paper sweep folder (its results.csv; the imbalance and unknown-types sweeps beside
it are read as the report reads them), OTHER a folder whose results.csv holds cells of the same
detector labels, datasets and seeds computed another way (other settings, another arithmetic).
Each of OTHER's rows replaces BASE's row of the same detector, dataset, ratio, fraction and
seed; a row of OTHER without such a row in BASE is refused, so nothing is added unseen. Prints
every reading whose verdict differs between the two scorecards, both texts side by side, then
each claim's verdict in both. The comparison in docs/speed.md of the settings tuned on the AVX2
processor comes from this command.

With ``--whole``, OTHER is a whole paper sweep of its own (a copy made by ``pugan-bench
rerun``, with copies of the imbalance and unknown-types sweeps beside it): the two scorecards
are compared as each folder's report makes it, with no row swapped. docs/speed.md's
comparison of the float32 copies with the committed sweeps comes from this form.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from benchmarks.report import load_results, table2
from benchmarks.scorecard import card_readings, sweep_scorecard

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


MARKS = {True: "holds", False: "does not hold", None: "not measured"}


def _readings(card: pd.DataFrame) -> dict[tuple[str, str], tuple[bool | None, str]]:
    """(claim, reading name) -> (whether it holds, its text as the card shows it)."""
    return {(r.claim, r.reading): (r.holds, f"{r.reading}: {r.evidence} ({MARKS[r.holds]})")
            for r in card_readings(card).itertuples(index=False)}


def differing_readings(before: pd.DataFrame, after: pd.DataFrame) -> list[str]:
    """Markdown lines naming each reading of ``before`` whose verdict differs in ``after``
    (or is absent there), with both texts."""
    a, b = _readings(before), _readings(after)
    lines = []
    for key in a:
        if key not in b or a[key][0] != b[key][0]:
            lines += [f"- {key[0]} / {key[1]}", f"  - base: {a[key][1]}",
                      f"  - swapped: {b.get(key, (None, 'absent'))[1]}"]
    return lines


def compare(folder: Path, other: Path, whole: bool = False) -> str:
    base = load_results(folder)
    before = sweep_scorecard(folder, base, table2(base))
    if whole:
        theirs = load_results(other)
        after, what = sweep_scorecard(other, theirs, table2(theirs)), f"{other}'s scorecard"
    else:
        swapped = swap(base, load_results(other))
        after, what = (sweep_scorecard(folder, swapped, table2(swapped)),
                       f"it with the cells of {other}")
    lines = [f"Readings that differ ({folder} against {what}):", "",
             *(differing_readings(before, after) or ["- none"])]
    lines += ["", "| claim | verdict, base | verdict, other |", "| --- | --- | --- |"]
    for x, y in zip(before.itertuples(index=False), after.itertuples(index=False), strict=True):
        lines.append(f"| {x.claim} | {x.verdict} | {y.verdict} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base", type=Path)
    ap.add_argument("other", type=Path)
    ap.add_argument("--whole", action="store_true",
                    help="OTHER is a whole paper sweep with its own sibling sweeps: compare "
                         "the two scorecards as they are")
    args = ap.parse_args(argv)
    print(compare(args.base, args.other, args.whole))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
