"""The two seed sets: development seeds for choosing, report seeds for reporting.

A setting chosen by looking at the numbers it is then reported with is fitted to those numbers.
So every choice (a default, a tuning grid's winner, an experiment that decides a design) is made
on :data:`DEV_SEEDS`, and the tables a reader sees are computed on :data:`REPORT_SEEDS` only.
The two sets are disjoint, and since a split (and, for generated data such as moons, the data
themselves) is drawn from its seed, a development split shares no random draw with a report one.
On a real dataset both still draw from the same records: ``experiments/split_overlap.py``
measures how many of a report split's test records a development split held
(docs/verdict.md).

Experiment scripts and ``pugan-bench tune`` call :func:`check_dev_seeds`, which refuses a report
seed unless the caller says explicitly that it means to look at the report seeds.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["DEV_SEEDS", "REPORT_SEEDS", "SeedError", "add_seed_arguments", "check_dev_seeds",
           "parse_seeds", "seeds_from_args"]

#: seeds of every reported table (Table 2, the robustness and imbalance tables)
REPORT_SEEDS: tuple[int, ...] = tuple(range(10))
#: seeds for tuning, defaults and experiments; disjoint from REPORT_SEEDS
DEV_SEEDS: tuple[int, ...] = tuple(range(1000, 1010))


class SeedError(ValueError):
    """A report seed was asked for where only development seeds belong."""


def check_dev_seeds(seeds: Iterable[int], *, allow_report: bool = False) -> tuple[int, ...]:
    """Return ``seeds`` as a tuple; raise :class:`SeedError` if any is a report seed.

    ``allow_report=True`` is the explicit opt-in for a look at the report seeds (for example
    to reproduce a reported number); it never belongs in a choice of settings.
    """
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise SeedError("no seed given")
    clash = sorted(set(seeds) & set(REPORT_SEEDS))
    if clash and not allow_report:
        raise SeedError(
            f"seed(s) {clash} are report seeds (REPORT_SEEDS = {REPORT_SEEDS[0]}.."
            f"{REPORT_SEEDS[-1]}): choices are made on development seeds "
            f"(DEV_SEEDS = {DEV_SEEDS[0]}..{DEV_SEEDS[-1]}); pass --allow-report-seeds to look "
            "at report seeds on purpose")
    return seeds


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"1000,1001"`` or a range ``"1000-1004"`` (inclusive) -> a tuple of ints."""
    out: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part[1:]:
            lo, hi = part.split("-", 1)
            out.extend(range(int(lo), int(hi) + 1))
        else:
            out.append(int(part))
    return tuple(out)


def add_seed_arguments(parser, *, default: int = 3) -> None:
    """``--seeds`` (default: the first ``default`` development seeds) and
    ``--allow-report-seeds`` on an experiment script's argument parser."""
    first = ",".join(str(s) for s in DEV_SEEDS[:default])
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds(first),
                        help=f"seeds, e.g. 1000-1002 or 1000,1004 (default {first}: development "
                             "seeds)")
    parser.add_argument("--allow-report-seeds", action="store_true",
                        help="accept report seeds (to reproduce a reported number, never to "
                             "choose a setting)")


def seeds_from_args(args, parser=None) -> tuple[int, ...]:
    """The parsed ``--seeds``, refused if they include report seeds without the opt-in.

    With the script's ``parser``, the refusal is the parser's own error (usage, one line
    naming the seeds, exit 2) rather than a traceback."""
    try:
        return check_dev_seeds(args.seeds, allow_report=args.allow_report_seeds)
    except SeedError as exc:
        if parser is None:
            raise
        parser.error(str(exc))
