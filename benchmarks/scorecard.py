"""The claims scorecard: each claim of the paper, its verdict, and the evidence behind it.

Every claim is judged under an ordered list of *readings*: the paper's own first (its PU-GAN
settings, its anomaly ratio, the metric it reports, each detector's own threshold), then the
choices the paper leaves open (tuned settings, the 2% reading of KDD, AUPRC instead of F1).
The paper chose its reported run by F1 on the test labels; that "oracle" threshold is a
later reading on purpose, since a threshold chosen on test labels is no result a user could
reproduce. Only F1 has an oracle reading: the oracle's threshold maximises F1, and the
precision and recall at it are not recorded. The verdict is

- **reproduced** when the claim holds under the paper's reading;
- **reproduced only under** the named readings when it holds under some of the others only,
  with how many others were tried (any one holding is enough, so the count says how many
  chances the claim had);
- **not reproduced** when it holds under none;
- **not measured** when the results it needs are missing (the command to run is named);
  **not measured under the paper's reading** when only the paper's own reading lacks them
  (with the readings it holds under, if any).

Some rows of a claim's evidence are not readings (:attr:`Reading.aside` says why): one
attack family or one dataset is a part of a claim made about all of them, and the grid's
Bonferroni view widens every interval, which can only make "never behind" easier to hold.
They are shown beside the readings and never decide the verdict.

Each row cites its number with the interval and the command that regenerates it. The rules
(what "holds" means for each kind of claim) are in the docstrings below and in the report's
header, so a reader can disagree with a rule without re-deriving a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmarks.stats import (
    ALPHA,
    MIN_WILCOXON_PAIRS,
    finished,
    versus_best,
    versus_best_where_ran,
)

__all__ = ["Reading", "card_readings", "claims_markdown", "read_optional", "scorecard",
           "sweep_scorecard"]

PAPER_COMMAND = "make reproduce-paper"
IMBALANCE_COMMAND = "make sweep-imbalance"
UNKNOWN_COMMAND = "make unknown-types"

#: the paper's PU-GAN is the entry at its settings; ours is the tuned one
PAPER_PUGAN, TUNED_PUGAN, PAPER_OCSVM = "pugan (paper settings)", "pugan (tuned)", \
    "ocsvm-normals (tuned)"
_TWO_PERCENT = {"kddcup99-high": "kddcup99-high-2pct", "kddcup99-low": "kddcup99-low-2pct"}
#: why one family or one dataset of a claim made about all of them never decides it
ONE_PART = "one part of the claim"


@dataclass(frozen=True)
class Reading:
    """One way of judging a claim: its name, whether the claim holds, and the evidence.
    ``aside``, when set, says why this row is evidence only and never decides the verdict
    (a part of the claim, or a check that could only make it easier to hold)."""

    name: str
    holds: bool | None   # None: not measurable under this reading (no results)
    evidence: str
    aside: str = ""


def _fmt(mean, low, high) -> str:
    from benchmarks.report import format_ci

    return format_ci(mean, low, high, missing="n/a")


def _difference(v) -> str:
    """A paired difference with its interval, and the interval's level where a family of
    rivals widened it beyond 95%."""
    level = v["ci_level"]
    note = "" if pd.isna(level) or abs(level - 0.95) < 1e-9 else f" ({level:.1%} interval)"
    return _fmt(v["diff"], v["diff_low"], v["diff_high"]) + note


def _test_note(v) -> str:
    """Which test decided a comparison, with its Holm-corrected p-value: where the Wilcoxon
    test cannot reach the corrected level whatever the data, the interval decides, and a bare
    p beside "behind" would contradict it."""
    p, test = v["p_holm"], v["test"]
    if pd.isna(p) or test == "none":
        return ""
    if test == "t-interval":
        return f", by the interval (Wilcoxon, Holm p = {p:.2g}, cannot reach its level)"
    return f", Holm p = {p:.2g}"


def _all_readings(readings: list[Reading]) -> str:
    mark = {True: "holds", False: "does not hold", None: "not measured"}
    return " | ".join(f"{r.name}: {r.evidence} ({mark[r.holds]}"
                      + (f"; {r.aside}, not a reading" if r.aside else "") + ")"
                      for r in readings)


def _claim(title: str, readings: list[Reading], command: str) -> dict:
    verdict, evidence = _verdict(readings)
    return {"claim": title, "verdict": verdict, "evidence": evidence, "command": command,
            "readings": _all_readings(readings), "_judged": tuple(readings)}


def _verdict(readings: list[Reading]) -> tuple[str, str]:
    """(verdict, evidence) from the readings, the paper's first; rows with an ``aside`` are
    evidence only and take no part."""
    readings = [r for r in readings if not r.aside]
    measured = [r for r in readings if r.holds is not None]
    if not measured:
        return "not measured", readings[0].evidence if readings else ""
    first = readings[0]
    if first.holds:
        return "reproduced", first.evidence
    holding = [r for r in measured if r.holds]
    names = "; ".join(r.name for r in holding)
    beside = (holding or measured)[0]
    evidence = f"{first.name}: {first.evidence} | {beside.name}: {beside.evidence}"
    if first.holds is None:
        # the paper's own reading was never decided: "only under" would say it failed, and
        # the other readings failing says nothing of it either
        return ("not measured under the paper's reading"
                + (f"; holds under: {names}" if holding else ""), evidence)
    if holding:
        tried = len(measured) - 1
        return (f"reproduced only under: {names} ({len(holding)} of {tried} other "
                f"reading{'s' if tried != 1 else ''})", evidence)
    return "not reproduced", f"{first.name}: {first.evidence}"


# --- Table 2's numbers -------------------------------------------------------------------------

def _number_reading(t2: pd.DataFrame, dataset: str, method: str, column: str, paper: float,
                    name: str) -> Reading:
    """The paper's number holds when it lies inside our 95% interval of the same metric."""
    row = t2[(t2["dataset"] == dataset) & (t2["method"] == method)]
    if row.empty or math.isnan(row[column].iloc[0]):
        return Reading(name, None, f"no {method} results on {dataset}")
    r = row.iloc[0]
    low, high = r[f"{column}_ci_low"], r[f"{column}_ci_high"]
    holds = bool(low <= paper <= high) if not math.isnan(low) else None
    side = "" if holds or holds is None else (" (ours lower)" if high < paper
                                              else " (ours higher)")
    return Reading(name, holds, f"{_fmt(r[column], low, high)}{side}")


def table2_claims(t2: pd.DataFrame) -> list[dict]:
    """One claim per number of the paper's Table 2 (precision, recall, F1)."""
    from benchmarks.paper import PAPER_TABLE2

    rows = []
    for (preset, method), values in PAPER_TABLE2.items():
        ours = {"PU-GAN": [(PAPER_PUGAN, "paper settings"), (TUNED_PUGAN, "tuned settings")],
                "OCSVM": [(PAPER_OCSVM, "tuned settings")]}[method]
        for metric, paper in zip(("precision", "recall", "f1"), values, strict=True):
            readings = []
            for entry, how in ours:
                readings.append(_number_reading(t2, preset, entry, metric, paper,
                                                f"{how}, own threshold"))
            if preset in _TWO_PERCENT:
                for entry, how in ours:
                    readings.append(_number_reading(t2, _TWO_PERCENT[preset], entry, metric,
                                                    paper, f"2% reading, {how}"))
            if metric == "f1":
                for entry, how in ours:
                    readings.append(_number_reading(t2, preset, entry, "best_f1_oracle", paper,
                                                    f"oracle threshold, {how}"))
            shown = "F1" if metric == "f1" else metric
            claim = _claim(f"Table 2: {method} {shown} {paper:.3f} on {preset}", readings,
                           PAPER_COMMAND)
            rows.append({**claim, "_row": (method, preset)})
    return rows


def rows_held_together(card: pd.DataFrame) -> tuple[int, int, list[str]]:
    """Of the paper's Table 2 rows (a method on a preset), how many have their precision,
    recall and F1 all holding under one and the same reading, of how many rows, and those
    rows with the reading (the first such): each number is its own claim, so the three of
    a row can each hold under a different reading, which no single run of ours shows."""
    rows = card.attrs.get("table2_rows")
    if rows is None:
        raise ValueError("this card carries no Table 2 rows: make it with scorecard()")
    judged = card.attrs["readings"]
    together = []
    for (method, preset), claims in rows.items():
        held = [{r.name for r in judged[c] if r.holds and not r.aside} for c in claims]
        common = [r.name for r in judged[claims[0]] if all(r.name in h for h in held)]
        if common:
            together.append(f"{method} on {preset} ({common[0]})")
    return len(together), len(rows), together


# --- comparisons -------------------------------------------------------------------------------

def _holds(position: str, want) -> bool | None:
    """Whether a position against another detector is one the claim wants; None (not
    measured) when it is undecided: too few paired seeds, or a rival whose difference is the
    same on every seed (a zero-width interval)."""
    return None if position == "undecided" else position in want


def _all_hold(holds) -> bool | None:
    """Every one holds (each True, False or None): False when one fails, None (not measured)
    when none fails but one is unmeasured."""
    holds = list(holds)
    if any(h is False for h in holds):
        return False
    return None if any(h is None for h in holds) else True


def _pair_reading(frame: pd.DataFrame, dataset: str, focus: str, other: str, metric: str,
                  name: str, want=("ahead",)) -> Reading:
    """``focus`` against ``other`` paired over seeds; holds when the position is in ``want``."""
    block = finished(frame[frame["dataset"] == dataset], metric)
    if not {focus, other} <= set(block["detector"]):
        return Reading(name, None, f"no {focus} / {other} results on {dataset}")
    v = versus_best(block, focus, [other], metric)
    return Reading(name, _holds(v["position"], want),
                   f"{metric.upper()} {v['mean']:.3f} vs {v['best_other_mean']:.3f}, difference "
                   f"{_difference(v)} over {v['n_pairs']} "
                   f"seeds{_test_note(v)}: {v['position']}")


def beats_claim(frame: pd.DataFrame, dataset: str, title: str) -> dict:
    """"PU-GAN beats OCSVM": PU-GAN significantly ahead of ``ocsvm-normals`` (paired)."""
    datasets = [(dataset, "")] + ([(_TWO_PERCENT[dataset], "2% reading, ")]
                                   if dataset in _TWO_PERCENT else [])
    readings = []
    for ds, prefix in datasets:
        for metric, mname in (("f1", "F1 at own threshold"), ("auprc", "AUPRC")):
            for entry, how in ((PAPER_PUGAN, "paper settings"), (TUNED_PUGAN, "tuned")):
                readings.append(_pair_reading(frame, ds, entry, PAPER_OCSVM, metric,
                                              f"{prefix}{how}, {mname}"))
    return _claim(title, readings, PAPER_COMMAND)


def _level_or_ahead(frame: pd.DataFrame, dataset: str, focus: str) -> tuple[bool | None, str]:
    from benchmarks.report import pugan_rows

    rows = frame[frame["dataset"] == dataset]
    v = versus_best_where_ran(rows, focus, set(rows.loc[pugan_rows(rows), "detector"]), "auprc")
    if not v["best_other"]:  # focus or every rival finished nothing here
        return None, f"no results on {dataset}"
    left = f"; left out: {v['left_out']}" if v["left_out"] else ""
    return (_holds(v["position"], ("ahead", "level")),
            f"{dataset}: AUPRC {v['mean']:.3f} vs {v['best_other']} {v['best_other_mean']:.3f},"
            f" difference {_difference(v)} over {v['n_pairs']} seeds{_test_note(v)}{left}"
            f" ({v['position']})")


def labelling_claim(frame: pd.DataFrame) -> dict:
    """"Works at high and low labelling": at both labelling levels PU-GAN is behind no other
    detector on AUPRC (paired over seeds, :func:`benchmarks.stats.versus_best`)."""
    readings = []
    for ratio, prefix in (("", ""), ("-2pct", "2% reading, ")):
        for entry, how in ((PAPER_PUGAN, "paper settings"), (TUNED_PUGAN, "tuned")):
            parts = [_level_or_ahead(frame, f"kddcup99-{level}{ratio}", entry)
                     for level in ("high", "low")]
            readings.append(Reading(f"{prefix}{how}", _all_hold(h for h, _ in parts),
                                    "; ".join(t for _, t in parts)))
    return _claim("PU-GAN works at high and low labelling (KDD): level with or ahead of the "
                  "other detectors at both", readings, PAPER_COMMAND)


# --- sweeps ------------------------------------------------------------------------------------

def imbalance_claim(frame: pd.DataFrame | None) -> dict:
    """"Performs well under different class priors and labelled fractions": never behind any
    other detector in any anomaly ratio x labelled fraction cell of the imbalance grid."""
    title = ("PU-GAN performs well under different class priors and labelled fractions: "
             "never behind any other detector on the ratio x fraction grid")
    if frame is None:
        return _claim(title, [Reading("every dataset", None, "no imbalance results")],
                      IMBALANCE_COMMAND)
    from benchmarks.imbalance import grid_verdicts

    try:
        verdicts = grid_verdicts(frame)
    except ValueError as exc:  # no PU-GAN entry, or none beside another detector
        return _claim(title, [Reading("every dataset", None, str(exc))], IMBALANCE_COMMAND)
    focus = verdicts["focus"].iloc[0]
    parts = _grid_readings(verdicts, " only", aside=ONE_PART)
    every = Reading("every dataset", _all_hold(r.holds for r in parts),
                    "; ".join(r.evidence for r in parts))
    corrected = _grid_readings(grid_verdicts(frame, focus, corrected=True), "")
    bonferroni = Reading("every dataset, Bonferroni over each dataset's grid cells",
                         _all_hold(r.holds for r in corrected),
                         "; ".join(r.evidence for r in corrected),
                         aside="wider intervals, which can only make it easier to hold")
    return _claim(title + f" ({focus}, AUPRC)", [every, *parts, bonferroni],
                  IMBALANCE_COMMAND)


def _grid_readings(verdicts: pd.DataFrame, suffix: str, aside: str = "") -> list[Reading]:
    """Per dataset of the grid: never behind (holds), behind somewhere (fails), or, with no
    cell behind, some left undecided by too few paired seeds, a rival with the same
    difference on every seed, or nothing finished to compare (not measured)."""
    readings = []
    for dataset, g in verdicts.groupby("dataset", sort=True):
        c = g["position"].value_counts()
        undecided = c.get("undecided", 0)
        text = (f"{dataset}: ahead {c.get('ahead', 0)}, level {c.get('level', 0)}, "
                f"behind {c.get('behind', 0)}" + (f", undecided {undecided}" if undecided
                                                   else "") + f" of {len(g)}")
        holds = _all_hold(_holds(p, ("ahead", "level")) for p in g["position"])
        readings.append(Reading(f"{dataset}{suffix}", holds, text, aside))
    return readings


def unknown_claim(frame: pd.DataFrame | None) -> dict:
    """"Handles unknown anomaly types": for every held-out attack family, PU-GAN's AUPRC on
    that family is behind no other detector's (paired over seeds,
    :func:`benchmarks.stats.versus_best`)."""
    title = ("PU-GAN handles unknown anomaly types: on each attack family held out of "
             "training, level with or ahead of the other detectors")
    if frame is None:
        return _claim(title, [Reading("every family", None, "no unknown-type results")],
                      UNKNOWN_COMMAND)
    from benchmarks.report_unknown import unknown_versus_best

    versus = unknown_versus_best(frame)
    if versus.empty:
        return _claim(title, [Reading("every family", None, "no PU-GAN cells")],
                      UNKNOWN_COMMAND)
    entries = sorted(set(versus["focus"]))
    if len(entries) > 1:  # one claim judges one entry, as the imbalance claim does
        return _claim(title, [Reading("every family", None, "the results hold PU-GAN "
                                      f"entries {entries}: one claim judges one")],
                      UNKNOWN_COMMAND)
    readings = []
    for r in versus.itertuples(index=False):
        evidence = (f"{r.heldout_family}: no finished cell of {r.focus} and another detector "
                    f"to compare ({r.position})" if r.n_pairs == 0 else
                    f"{r.heldout_family}: {r.mean:.3f} vs {r.best_other} "
                    f"{r.best_other_mean:.3f}, difference "
                    f"{_difference(r._asdict())} over {r.n_pairs} seeds"
                    f"{_test_note(r._asdict())}"
                    f"{f'; left out: {r.left_out}' if r.left_out else ''} ({r.position})")
        readings.append(Reading(f"{r.heldout_family} held out only",
                                _holds(r.position, ("ahead", "level")), evidence, ONE_PART))
    every = Reading("every family", _all_hold(r.holds for r in readings),
                    "; ".join(r.evidence for r in readings))
    return _claim(title + f" ({versus['focus'].iloc[0]}, held-out AUPRC)", [every, *readings],
                  UNKNOWN_COMMAND)


def scorecard(paper: pd.DataFrame, t2: pd.DataFrame, imbalance: pd.DataFrame | None = None,
              unknown: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every claim with its verdict, evidence and command (see the module docstring)."""
    rows = [beats_claim(paper, "moons-paper", "PU-GAN beats OCSVM on moons"),
            beats_claim(paper, "kddcup99-low", "PU-GAN beats OCSVM on KDD at low labelling"),
            labelling_claim(paper), imbalance_claim(imbalance), unknown_claim(unknown),
            *table2_claims(t2)]
    card = pd.DataFrame(rows, columns=["claim", "verdict", "evidence", "command", "readings"])
    card.attrs["readings"] = {row["claim"]: row["_judged"] for row in rows}
    table2_rows: dict = {}
    for row in rows:
        if "_row" in row:
            table2_rows.setdefault(row["_row"], []).append(row["claim"])
    card.attrs["table2_rows"] = table2_rows
    return card


def card_readings(card: pd.DataFrame) -> pd.DataFrame:
    """Every reading of every claim of a card made by :func:`scorecard`, one row each: claim,
    reading, holds (True, False or None for not measured), evidence and aside (why a row
    never decides the verdict, or ""). The card's
    ``readings`` column is this rendered as text, for people; code that compares readings
    reads this, so no evidence text can be mistaken for a separator."""
    judged = card.attrs.get("readings")
    if judged is None:
        raise ValueError("this card carries no readings: make it with scorecard() or "
                         "sweep_scorecard(), not by reading scorecard.csv")
    return pd.DataFrame([(claim, r.name, r.holds, r.evidence, r.aside)
                         for claim in card["claim"] for r in judged[claim]],
                        columns=["claim", "reading", "holds", "evidence", "aside"])


def claims_markdown(card: pd.DataFrame) -> str:
    """The scorecard as a markdown table with the rules above it."""
    from benchmarks.report import markdown_table

    return ("Each claim of the paper under its own reading first; \"reproduced only under\" "
            "names the other readings under which it holds (tuned settings, KDD's 2% reading, "
            "AUPRC, or the test-label oracle threshold the paper used) and how many others "
            "were tried. A number holds when it lies inside our 95% interval over seeds; "
            f"\"beats\" needs PU-GAN significantly ahead (paired Wilcoxon over seeds, α = "
            f"{ALPHA:g}); \"works\", \"handles\" and \"performs well\" need it behind no "
            "other detector that finished at least half of its seeds (Holm over those "
            "rivals). Where the Wilcoxon test cannot reach its corrected level whatever the "
            f"data (fewer than {MIN_WILCOXON_PAIRS} non-zero paired differences at {ALPHA:g}, "
            "more under the correction) the t-interval of the difference at the corrected "
            "level decides; the evidence says which. With fewer than 2 paired seeds, or the "
            "same difference on every seed, a comparison is undecided and its reading not "
            "measured. One attack family or one dataset of a claim about all of them, and "
            "the grid's Bonferroni view, are shown but never decide a verdict. Rules in "
            "benchmarks/scorecard.py.\n\n"
            + markdown_table(card.drop(columns="readings")) + "\n## Every reading of every "
            "claim\n\n" + "\n".join(f"- **{c}**: " + r.replace(" | ", "; ")
                                     for c, r in zip(card["claim"], card["readings"],
                                                     strict=True)) + "\n")


def read_optional(folder: Path) -> pd.DataFrame | None:
    """A sweep's results frame, or None when the sweep has not been run."""
    from benchmarks.report import load_results

    return load_results(folder) if (folder / "results.csv").is_file() else None


def sweep_scorecard(folder: Path, frame: pd.DataFrame, t2: pd.DataFrame) -> pd.DataFrame:
    """The scorecard of the paper sweep in ``folder``, with the ``imbalance`` and
    ``unknown_types`` sweeps beside it where they have been run."""
    folder = Path(folder)
    return scorecard(frame, t2, imbalance=read_optional(folder.parent / "imbalance"),
                     unknown=read_optional(folder.parent / "unknown_types"))
