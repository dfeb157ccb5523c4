"""What a sweep's cells cost, from its committed rows: the figures docs/speed.md quotes.

Usage::

    python experiments/cell_costs.py [--sweep results/paper]
        [--more "pugan (tuned)" --than "pugan (paper settings)"] [--apart -2pct]

Reads ``cell_seconds`` of the sweep's ``results.csv`` (the harness's measured time per cell,
on the machine that ran it) and prints, per reading (dataset), the mean cell seconds of each
of the two detectors and on how many cells (a seed, and a ratio and a fraction where the
sweep varies them) the first cost more than the second, among cells that ran to the end;
then the total cell seconds (failed cells too) of the readings whose name ends in
``--apart`` against the others'. It fits nothing and chooses nothing, so it reads report
seeds' rows as they are.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def costs(frame: pd.DataFrame, more: str, than: str, apart: str) -> list[str]:
    """The printed lines (module docstring) for the rows of one sweep."""
    missing = {more, than} - set(frame["detector"])
    if missing:
        raise SystemExit(f"no rows of {sorted(missing)} in the sweep; its detectors are "
                         f"{sorted(frame['detector'].unique())}")
    ok = frame[frame["status"] == "ok"] if "status" in frame else frame
    # one cell per key: a sweep over ratios or fractions holds several cells per seed
    key = ["dataset", *(c for c in ("anomaly_ratio", "labelled_fraction") if c in frame), "seed"]
    ok = ok.assign(**{c: ok[c].astype(str) for c in key[1:-1]})  # a NaN key is a key too
    pair = ok[ok["detector"].isin([more, than])].pivot_table(
        index=key, columns="detector", values="cell_seconds", aggfunc="first")
    if not {more, than} <= set(pair.columns):
        raise SystemExit(f"no finished cell of {more!r} or of {than!r}: nothing to pair")
    pair = pair.dropna()
    lines = []
    for dataset, rows in pair.groupby(level="dataset"):
        n_more = int((rows[more] > rows[than]).sum())
        lines.append(f"{dataset}: {more} {rows[more].mean():.1f} s, {than} "
                     f"{rows[than].mean():.1f} s per cell on average; {more} costs more on "
                     f"{n_more} of {len(rows)} {'seeds' if len(key) == 2 else 'cells'}")
    # every cell's time, a failed one's too: the sweep spent it
    is_apart = frame["dataset"].astype(str).str.endswith(apart)
    if is_apart.any():
        lines.append(f"readings ending in {apart!r}: "
                     f"{frame['cell_seconds'][is_apart].sum():,.0f} cell seconds; the others: "
                     f"{frame['cell_seconds'][~is_apart].sum():,.0f}")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sweep", type=Path, default=Path("results/paper"))
    ap.add_argument("--more", default="pugan (tuned)")
    ap.add_argument("--than", default="pugan (paper settings)")
    ap.add_argument("--apart", default="-2pct")
    args = ap.parse_args(argv)
    path = args.sweep / "results.csv"
    if not path.is_file():
        ap.error(f"{path} does not exist: name a sweep folder holding results.csv")
    print("\n".join(costs(pd.read_csv(path), args.more, args.than, args.apart)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
