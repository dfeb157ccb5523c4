"""Ratios against IForest from a saved pytest-benchmark run (``make bench`` prints this).

    python -m benchmarks.perf.summary [--storage .benchmarks] [--file RUN.json] [--markdown OUT]
    python -m benchmarks.perf.summary [--storage .benchmarks] --newest N

Reads the newest saved run (or ``--file``) and prints, per group, each benchmark's mean time,
its throughput where the benchmark recorded one (``rows_per_s``, ``records_per_s``,
``seconds_per_cell``) and its time relative to the IForest benchmark of the same group
(measured in the same run, on the same input): ``x_iforest = mean / mean(iforest)``.
``--newest N`` prints only the paths of the N newest runs, oldest first (``make
bench-compare`` hands the two newest to ``pytest-benchmark compare``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["latest_run", "main", "newest_runs", "summarise"]


def latest_run(storage: str | Path) -> Path:
    """The newest saved run under a pytest-benchmark storage folder, by the time each run
    records: the counter in a file name restarts in every machine folder (a new Python or
    machine), so it orders runs of one folder only."""
    return newest_runs(storage, 1)[-1]


def newest_runs(storage: str | Path, count: int) -> list[Path]:
    """The ``count`` newest saved runs under ``storage``, oldest first, ordered as
    :func:`latest_run` orders them (``make bench-compare`` compares the two newest)."""
    runs = sorted(Path(storage).glob("*/*.json"), key=_run_time)
    if len(runs) < max(count, 1):
        raise FileNotFoundError(f"{len(runs)} saved benchmark run(s) under {storage}, "
                                f"{count} needed; run `make bench` first")
    return runs[-count:]


def _run_time(path: Path) -> tuple[str, float]:
    """When a saved run was made: its ``datetime`` (ISO text, which sorts as time), else ""
    for an unreadable file, with the file's modification time breaking ties."""
    try:
        stamp = str(json.loads(path.read_text()).get("datetime") or "")
    except (OSError, ValueError, AttributeError):
        stamp = ""
    return stamp, path.stat().st_mtime


def _short(name: str) -> str:
    return name.removeprefix("test_")


def summarise(run: dict) -> list[dict]:
    """One row per benchmark: group, name, mean seconds, throughput, ratio to IForest."""
    rows = []
    by_group: dict[str, list[dict]] = {}
    for b in run.get("benchmarks", []):
        by_group.setdefault(b.get("group") or "", []).append(b)
    for group in sorted(by_group):
        items = by_group[group]
        yard = next((b for b in items if "iforest" in b["name"]), None)
        base = yard["stats"]["mean"] if yard else None
        for b in sorted(items, key=lambda b: b["stats"]["mean"]):
            info = b.get("extra_info", {})
            rate = next(((k, info[k]) for k in ("records_per_s", "rows_per_s",
                                                 "seconds_per_cell") if k in info), (None, None))
            rows.append({
                "group": group, "name": _short(b["name"]), "mean_s": b["stats"]["mean"],
                "rounds": b["stats"]["rounds"], "rate_name": rate[0], "rate": rate[1],
                "x_iforest": (b["stats"]["mean"] / base) if base else None,
            })
    return rows


def _table(rows: list[dict]) -> str:
    out = ["| group | benchmark | mean s | rounds | throughput | x IForest (time) |",
           "| --- | --- | ---: | ---: | --- | ---: |"]
    for r in rows:
        rate = ""
        if r["rate_name"] == "seconds_per_cell":
            rate = f"{r['rate'] * 1000:.0f} ms per cell"
        elif r["rate_name"]:
            rate = f"{r['rate']:,.0f} {r['rate_name'].replace('_per_s', '')}/s"
        ratio = f"{r['x_iforest']:.1f}" if r["x_iforest"] is not None else ""
        out.append(f"| {r['group']} | {r['name']} | {r['mean_s']:.3f} | {r['rounds']} | {rate} "
                   f"| {ratio} |")
    return "\n".join(out)


def _print_newest(storage: str, count: int, parser) -> int:
    """``--newest N``: one path a line, for a shell to hand on; exit 2 naming the shortfall
    when fewer runs are saved, so a compare never runs on the wrong pair."""
    if count < 1:
        parser.error(f"--newest must be 1 or more; got {count}")
    try:
        runs = newest_runs(storage, count)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(str(r) for r in runs))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.perf.summary", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--storage", default=".benchmarks", help="pytest-benchmark storage folder")
    p.add_argument("--file", default=None, help="a saved run (default: the newest)")
    p.add_argument("--markdown", default=None, help="also write the table to this file")
    p.add_argument("--newest", type=int, default=None, metavar="N",
                   help="print the paths of the N newest saved runs (oldest first) and stop")
    args = p.parse_args(argv)
    if args.newest is not None:
        return _print_newest(args.storage, args.newest, p)
    try:
        path = Path(args.file) if args.file else latest_run(args.storage)
        if not path.is_file():
            raise FileNotFoundError(f"no saved run at {path}")
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    run = json.loads(path.read_text())
    table = _table(summarise(run))
    machine = run.get("machine_info", {})
    head = (f"run {path} ({run.get('datetime', '?')}, {machine.get('cpu', {}).get('brand_raw', '?')}, "
            f"{machine.get('cpu', {}).get('count', '?')} cores)")
    print(head)
    print(table)
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(f"{head}\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
