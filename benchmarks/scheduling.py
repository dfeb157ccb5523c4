"""The order in which a sweep starts its pending cells: longest expected first.

Why: workers take cells in the order given, so a long cell started last keeps one worker busy
while the others sit idle; starting the long cells first (longest processing time first) lets
the short ones fill the gaps at the end and shortens the sweep's wall time.

A cell's expected seconds come from cells that already ran (:func:`observed_seconds`: the
folder's cached cells and its last results.csv, and for a rerun the results.csv of the sweep
it copies, whose rows of the chosen cells are the only timings those cells have): the
mean ``cell_seconds`` of the same detector label on the same dataset (any seed, any ratio),
else of the same registry detector on that dataset, else of the same label or registry
detector on any dataset. A cell with no such record has an unknown cost: those start before
every known one, the cells of deep (neural) detectors first, since the registry's ``deep`` flag
is the only cost hint it has; a cheap cell started early costs little, a long one started last
costs its whole length.

Known costs are compared in factor-of-two bands: within a band the config's order is kept,
which keeps the cells of one split adjacent so a worker reuses the split it has cached.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

__all__ = ["expected_seconds_lookup", "longest_first", "observed_seconds"]

#: statuses whose ``cell_seconds`` measure a cell's cost (a time-out ran to its limit; a failed
#: cell often stops at once, a skipped one never starts)
TIMED_STATUSES = ("ok", "timeout")


def longest_first(cells: Iterable, expected: Callable[[object], float | None],
                  presumed_slow: Callable[[object], bool] = lambda cell: False) -> list:
    """``cells`` in the order to start them: unknown cost first, then longest expected first.

    Parameters
    ----------
    cells : the pending cells, in the config's order (ties keep it).
    expected : a cell's expected seconds, or None when unknown.
    presumed_slow : for a cell of unknown cost, whether to start it before the other unknown
        ones (a deep detector).

    Deterministic: the same cells and costs give the same order.
    """
    cells = list(cells)

    def rank(item):
        index, cell = item
        seconds = expected(cell)
        if seconds is None or not math.isfinite(seconds):
            return (0, 0 if presumed_slow(cell) else 1, 0, index)
        band = math.floor(math.log2(seconds)) if seconds > 0 else -math.inf
        return (1, 0, -band, index)

    return [cell for _, cell in sorted(enumerate(cells), key=rank)]


def observed_seconds(cells: list, records: Mapping[str, dict | None],
                     *results_csvs: str | Path | None) -> list[dict]:
    """Timed records that can inform the expected cost of ``cells``.

    Each entry holds ``detector`` (label), ``detector_name``, ``dataset`` (label) and
    ``seconds``. Sources, in this order: ``records``, the cached record of each cell by key (a
    resumed sweep), then the rows of each of ``results_csvs`` (the folder's last run, whose
    cells may be under older keys after a code change; the sweep a rerun copies); a cell
    counts once, from the first source that has it. ``None`` entries are skipped.
    """
    out, counted = [], set()
    for cell in cells:
        rec = records.get(cell.key)
        if rec is not None and rec.get("status") in TIMED_STATUSES:
            seconds = rec.get("cell_seconds")
            if isinstance(seconds, int | float) and math.isfinite(seconds):
                out.append({"detector": cell.detector, "detector_name": cell.detector_name,
                            "dataset": cell.dataset, "seconds": float(seconds)})
                counted.add(cell.key)
    for results_csv in results_csvs:
        if results_csv is None:
            continue
        # two labels sharing one cell each keep their row: dedupe across sources only
        rows = [rec for rec in _results_csv_seconds(Path(results_csv))
                if rec["cell_id"] not in counted]
        counted.update(rec.pop("cell_id") for rec in rows)
        out += rows
    return out


def _results_csv_seconds(path: Path) -> list[dict]:
    import csv

    if not path.is_file():
        return []
    out = []
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row.get("status") not in TIMED_STATUSES:
                    continue
                try:
                    seconds = float(row.get("cell_seconds") or "nan")
                except ValueError:
                    continue
                if math.isfinite(seconds):
                    out.append({"cell_id": row.get("cell_id", ""),
                                "detector": row.get("detector", ""),
                                "detector_name": row.get("detector_name", ""),
                                "dataset": row.get("dataset", ""), "seconds": seconds})
    except (OSError, UnicodeDecodeError, csv.Error):
        return []  # an unreadable results.csv only loses the hint
    return out


def expected_seconds_lookup(observed: Iterable[dict]) -> Callable[[object], float | None]:
    """A cell -> expected seconds function over ``observed`` timings (None when unknown).

    The first level with a record decides: (detector label, dataset), (registry name,
    dataset), detector label, registry name; the mean over that level's records.
    """
    levels = (("detector", "dataset"), ("detector_name", "dataset"), ("detector",),
              ("detector_name",))
    sums: list[dict] = [defaultdict(lambda: [0.0, 0]) for _ in levels]
    for rec in observed:
        for table, fields in zip(sums, levels, strict=True):
            acc = table[tuple(rec[f] for f in fields)]
            acc[0] += rec["seconds"]
            acc[1] += 1
    means = [{k: total / n for k, (total, n) in table.items()} for table in sums]

    def expected(cell) -> float | None:
        for table, fields in zip(means, levels, strict=True):
            key = tuple(getattr(cell, f) for f in fields)
            if key in table:
                return table[key]
        return None

    return expected
