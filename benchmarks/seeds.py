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

import argparse
from collections import Counter
from collections.abc import Iterable

__all__ = ["DEV_SEEDS", "REPORT_SEEDS", "SeedError", "SeedListError", "add_seed_arguments",
           "check_dev_seeds", "parse_seeds", "seeds_from_args"]

#: seeds of every reported table (Table 2, the robustness and imbalance tables)
REPORT_SEEDS: tuple[int, ...] = tuple(range(10))
#: seeds for tuning, defaults and experiments; disjoint from REPORT_SEEDS
DEV_SEEDS: tuple[int, ...] = tuple(range(1000, 1010))


#: the most seeds one list may hold: more is almost certainly a typo (``1000-99999``)
MAX_SEEDS = 10_000
#: the largest seed. results.parquet stores seeds as 64-bit integers (a larger one fails there,
#: after its cells ran), and elsewhere a seed is a numpy seed as it is (the ablation fits with
#: ``random_state=seed``), which numpy takes up to 2**32 - 1: the stricter bound holds for both
MAX_SEED = 2**32 - 1


class SeedError(ValueError):
    """A report seed was asked for where only development seeds belong."""


class SeedListError(ValueError, argparse.ArgumentTypeError):
    """A seed list that does not say what it seems to (a repeated, negative or backwards
    seed); an ``ArgumentTypeError`` too, so that ``--seeds`` prints this message rather than
    argparse's bare "invalid value"."""


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
    """``"1000,1001"`` or a range ``"1000-1004"`` (inclusive) -> a tuple of ints.

    A negative seed, a range written high to low, a seed given twice, a piece that is no
    integer, a seed above ``MAX_SEED`` and more than ``MAX_SEEDS`` seeds are refused with a
    :class:`SeedListError` (a ValueError) naming them, the bounds a config's seeds are held
    to: each would otherwise run something other than what was asked (a reversed range used
    to read as no seed at all, a repeated seed would count twice in every mean, a seed numpy
    cannot take fails in every cell).
    """
    out: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        if part:
            out.extend(_seed_part(part))
            if len(out) > MAX_SEEDS:
                raise SeedListError(f"{text!r} holds more than {MAX_SEEDS} seeds: a typo?")
    if not out:
        raise SeedListError(f"no seed given in {text!r}")
    too_large = [s for s in out if s > MAX_SEED]
    if too_large:
        raise SeedListError(f"seed {too_large[0]} in {text!r} is above {MAX_SEED} (2**32 - 1, "
                            "the largest numpy seed)")
    repeated = sorted(s for s, n in Counter(out).items() if n > 1)
    if repeated:
        raise SeedListError(f"seed(s) {repeated} are given more than once in {text!r}")
    return tuple(out)


def _seed_part(part: str) -> list[int]:
    """One comma-separated piece of a seed list: a seed or an inclusive ``LO-HI`` range."""
    if part.startswith("-"):
        raise SeedListError(f"seed {part!r} is negative: seeds are 0 or more")
    if "-" not in part:
        return [_seed_int(part, part)]
    lo_text, hi_text = part.split("-", 1)
    if hi_text.strip().startswith("-"):
        raise SeedListError(f"seed range {part!r} ends at a negative seed: seeds are 0 or more")
    lo, hi = _seed_int(lo_text, part), _seed_int(hi_text, part)
    if hi < lo:
        raise SeedListError(f"seed range {part!r} runs backwards: write it low to high "
                         f"({hi}-{lo})")
    if hi - lo >= MAX_SEEDS:
        raise SeedListError(f"seed range {part!r} holds {hi - lo + 1} seeds, more than "
                            f"{MAX_SEEDS}: a typo?")
    return list(range(lo, hi + 1))


def _seed_int(text: str, part: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SeedListError(f"seed {part!r} is not an integer (seeds look like 1000, "
                            "1000-1004 or 1000,1002)") from None


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


def dict_literal(text: str) -> dict:
    """``--params`` of the experiment scripts: a Python dict literal (``"{'n_epochs': 4}"``);
    anything else is an ``ArgumentTypeError`` naming it, so argparse prints one line rather
    than a SyntaxError traceback, or a TypeError after the data has loaded."""
    import ast

    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise argparse.ArgumentTypeError(f"not a Python literal: {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"want a dict such as {{'n_epochs': 4}}; got {text!r}")
    return value


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
