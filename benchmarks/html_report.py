"""One self-contained HTML page of every committed result: ``reports/index.html``.

The page is built from the CSV files the reports wrote under ``results/`` and the figures in
``reports/figures/`` (embedded as base64 PNG), so it opens offline, with no server, and shows
nothing the report code did not generate. A section whose sweep has not been run says so and
names the command that runs it, rather than showing an empty table.
"""

from __future__ import annotations

import base64
import html
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

__all__ = ["CELLS_BEHIND", "SECTIONS", "STAMPED_TABLES", "Section", "currency_note",
           "sweep_note", "sweep_section", "write_html_report"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Section:
    """One part of the page: tables (CSV paths under results/) and figures (PNG stems under
    reports/figures/), with the command that regenerates them."""

    id: str
    title: str
    command: str
    text: str
    tables: tuple[tuple[str, str, tuple[str, ...]], ...] = ()   # (caption, csv, columns or ())
    figures: tuple[str, ...] = ()                               # PNG names, glob allowed


#: every metric beside its 95% interval, and every way a cell can end, so that neither a
#: comparison with the paper's F1 nor a mean over fewer seeds is shown bare
_T2_COLUMNS = ("dataset", "method",
               *(f"{m}{s}" for m in ("precision", "recall", "f1", "auroc", "auprc",
                                      "best_f1_oracle") for s in ("", "_ci_low", "_ci_high")),
               "n_ok", "n_failed", "n_timeout", "n_skipped", "n_stale", "paper_f1_oracle")

SECTIONS = (
    Section("scorecard", "The paper's claims, one by one", "make reproduce-paper",
            "Each claim under the paper's own reading first, then the readings it leaves "
            "open; the verdict cites its number, interval and command.",
            tables=(("Claims", "paper/scorecard.csv", ("claim", "verdict", "evidence",
                                                        "command")),)),
    Section("table1", "Table 1: dataset composition", "make reproduce-paper",
            "Our composition of each paper preset beside the paper's (paper_ columns).",
            tables=(("Table 1", "paper/table1.csv", ()),)),
    Section("table2", "Table 2: detection results", "make reproduce-paper",
            "Mean over the report seeds with 95% intervals for AUPRC; best_f1_oracle "
            "chooses the threshold with test labels (an ORACLE, as the paper did).",
            tables=(("Table 2", "paper/table2.csv", _T2_COLUMNS),),
            figures=("paper_table2.png", "paper_roc_curves.png", "paper_pr_curves.png")),
    Section("readings", "KDD Cup 99 under every reading", "make reproduce-paper",
            "The ranking by AUPRC under each reading of KDD the paper leaves open, and each "
            "PU-GAN entry against the other detectors.",
            tables=(("PU-GAN against the other detectors", "paper/readings_versus_best.csv",
                     ("dataset", "focus", "mean", "best_other", "best_other_mean", "diff",
                      "diff_low", "diff_high", "ci_level", "n_pairs", "p_holm", "alpha",
                      "test", "position", "left_out")),
                    ("Ranking", "paper/readings.csv", ("dataset", "rank", "detector", "n_seeds",
                                                       "auprc",
                                                       "auprc_ci_low", "auprc_ci_high",
                                                       "distinct_test_anomalies",
                                                       "twin_in_train")))),
    Section("imbalance", "Class priors and labelled fractions", "make sweep-imbalance",
            "PU-GAN against the other detectors in each anomaly ratio x labelled "
            "fraction cell, and every detector's curves with 95% intervals and the chance "
            "line.",
            tables=(("AUPRC by anomaly ratio (mean over labelled fractions, 95% interval "
                     "over seeds)", "imbalance/auprc_by_anomaly_ratio.csv", ()),
                    ("AUPRC by labelled fraction (mean over anomaly ratios)",
                     "imbalance/auprc_by_labelled_fraction.csv", ()),
                    ("Verdict per cell", "imbalance/grid_verdicts.csv",
                     ("dataset", "anomaly_ratio", "labelled_fraction", "best_other", "mean",
                      "best_other_mean", "diff", "diff_low", "diff_high", "ci_level", "n_pairs",
                      "p_holm", "alpha", "test", "position", "left_out"))),
            figures=("imbalance_verdict_heatmap.png", "imbalance_*_auprc_vs_*.png")),
    Section("unknown", "Unknown anomaly types", "make unknown-types",
            "One KDD attack family held out of training in turn; AUPRC and recall on the "
            "held-out family against the seen ones.",
            tables=(("PU-GAN against the other detectors", "unknown_types/unknown_versus_best.csv",
                     ("heldout_family", "focus", "mean", "best_other", "best_other_mean",
                      "diff", "diff_low", "diff_high", "ci_level", "n_pairs", "p_holm",
                      "alpha", "test", "position", "left_out")),
                    ("Per detector", "unknown_types/unknown_types.csv", ())),
            figures=("unknown_types.png", "unknown_types_roc_curves.png",
                     "unknown_types_pr_curves.png")),
    Section("leaderboard", "Leaderboard across datasets", "make benchmark",
            "Mean rank per detector over (dataset, ratio, fraction) blocks, the Friedman "
            "test and the Nemenyi critical-difference diagram: over every bundled dataset "
            "(make benchmark) and over the paper sweep's presets, whose KDD readings share "
            "one file and so are not independent datasets.",
            tables=(("Leaderboard, every bundled dataset", "benchmark/leaderboard.csv", ()),
                    ("PU-GAN win / tie / loss", "benchmark/win_tie_loss.csv", ()),
                    ("Leaderboard, the paper's presets", "paper/leaderboard.csv", ())),
            figures=("benchmark_cd_auprc.png", "paper_cd_auprc.png")),
    Section("ablation", "PU-GAN ablation", "make ablation",
            "PU-GAN with and without each stage (training set, inversion, score), each row "
            "stamped with the code version that produced it.",
            tables=(("Ablation", "ablation/ablation.csv", ()),)),
    Section("speed", "Detector cost", "make scale-curves",
            "Fit and scoring time per detector against the training size, one thread, after "
            "an untimed warm-up fit, as measured on the machine that ran the command. The "
            "CSV's AUPRC column is a sanity check, not a result: see docs/guarding.md for "
            "which records it scored.",
            tables=(("Detector cost", "scale/scale.csv",
                     ("detector", "n_train", "n_fit_rows", "status", "reason", "fit_seconds",
                      "score_seconds", "score_records_per_s", "n_score", "threads",
                      "code_version")),),
            figures=("scale_curves.png",)),
)


def _table_html(frame: pd.DataFrame, columns: tuple[str, ...]) -> str:
    """A table of the page; a raw oracle column (the ablation's rows keep the metric's own
    name, ``best_f1``) is shown under its oracle name, as in every other table."""
    if columns:
        frame = frame[[c for c in columns if c in frame.columns]]
    from benchmarks.report import ORACLE_NAMES

    shown = frame.rename(columns=ORACLE_NAMES)
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else f"{v:.3g}")
    return shown.to_html(index=False, escape=True, border=0, na_rep="")


#: tables of rows measured outside a sweep's cache, each row stamped with its code version
STAMPED_TABLES = ("ablation/ablation.csv", "scale/scale.csv")
#: the sweeps whose cells a table is computed from, where that is not the folder it sits in
CELLS_BEHIND = {"paper/scorecard.csv": ("paper", "imbalance", "unknown_types"),
                "paper/table1.csv": ()}   # the splits' composition: no cells behind it


def currency_note(frame: pd.DataFrame, command: str, *, stamped: bool = True) -> str:
    """Whether a table's rows come from the code as it is now: a line computed from their code
    versions (:func:`benchmarks.report.mark_stale`). A table that should carry them
    (``stamped``) but does not gets a line saying its currency is unknown; others get none."""
    if not {"code_version", "detector_name", "detector_params"} <= set(frame.columns):
        if not stamped:
            return ""
        return (f"<p class=missing>These rows carry no code version, so whether the current "
                f"code would write them is unknown: rerun <code>{html.escape(command)}</code>."
                "</p>")
    from benchmarks.report import mark_stale

    stale = int(mark_stale(frame)["stale"].sum())
    if not stale:
        return f"<p>All {len(frame)} rows come from the current code.</p>"
    return (f"<p class=missing>{stale} of {len(frame)} rows were produced by code that has "
            f"changed since: rerun <code>{html.escape(command)}</code>.</p>")


def _command_of(folder: str, default: str) -> str:
    """The command that reruns the sweep in results/``folder``: that of the first section
    showing one of its tables."""
    for section in SECTIONS:
        if any(csv.split("/")[0] == folder for _, csv, _ in section.tables):
            return section.command
    return default


def sweep_note(sweep: pd.DataFrame, command: str, name: str = "") -> str:
    """For a table computed from a sweep's cells (Table 2, the comparisons, the leaderboard),
    which carries no code versions of its own: how many cells and seeds are behind it, and
    whether they all come from the code as it is now. ``name`` names the sweep where a table
    is computed from several. A frame already marked (its ``stale`` column) is not marked
    again: that builds every detector of the sweep."""
    from benchmarks.report import mark_stale, seeds_text

    stale = int((sweep if "stale" in sweep else mark_stale(sweep))["stale"].sum())
    where = (f"Computed from {len(sweep)} cells on seeds {seeds_text(sweep['seed'])}"
             if len(sweep) else "Computed from no cells")
    if name:
        where = f"{where} of results/{name}"
    if not stale:
        return f"<p>{where}, all from the current code.</p>"
    return (f"<p class=missing>{where}; {stale} of them were produced by code that has changed "
            f"since: rerun <code>{html.escape(command)}</code>.</p>")


def _image_html(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(path.name)}</figcaption></figure>")


def _section_html(section: Section, results: Path, figures: Path, sweeps: dict) -> str:
    """``sweeps``: the cells of each sweep folder read so far, marked stale or current
    (several tables are computed from one sweep; each is read and marked once)."""
    from benchmarks.report import load_results, mark_stale

    parts = [f'<section id="{section.id}"><h2>{html.escape(section.title)}</h2>',
             f"<p>{html.escape(section.text)} Regenerate: "
             f"<code>{html.escape(section.command)}</code>.</p>"]
    found = 0
    for caption, csv, columns in section.tables:
        path = results / csv
        if not path.is_file():
            continue
        frame = pd.read_csv(path)
        if frame.empty:
            continue
        behind = [results / name for name in CELLS_BEHIND.get(csv, (path.parent.name,))]
        behind = [folder for folder in behind if (folder / "results.csv").is_file()]
        if csv in STAMPED_TABLES or "code_version" in frame or not behind:
            note = currency_note(frame, section.command, stamped=csv in STAMPED_TABLES)
        else:
            for folder in behind:
                if folder not in sweeps:
                    sweeps[folder] = mark_stale(load_results(folder))
            note = "".join(sweep_note(sweeps[f], _command_of(f.name, section.command),
                                      f.name if csv in CELLS_BEHIND else "") for f in behind)
        parts.append(f"<h3>{html.escape(caption)}</h3>" + note
                     + _table_html(frame, columns))
        found += 1
    for pattern in section.figures:
        for path in sorted(figures.glob(pattern)):
            parts.append(_image_html(path))
            found += 1
    if not found:
        parts.append(f"<p class=missing>Not run yet: <code>{section.command}</code> writes "
                     "this section's results.</p>")
    parts.append("</section>")
    return "\n".join(parts)


_STYLE = """body{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em;color:#222}
table{border-collapse:collapse;font-size:12px;margin:.5em 0}td,th{padding:2px 6px;
border-bottom:1px solid #ddd;text-align:left}img{max-width:100%}nav a{margin-right:1em}
.missing{color:#a00}"""


def sweep_section(name: str, results: Path) -> Section:
    """The section of a sweep folder the fixed sections do not know (a user's own sweep):
    its Table 2, paired comparisons and leaderboard, and the figures the report drew for it."""
    # the id carries a prefix, so a sweep called "table2" does not repeat a fixed section's id
    from benchmarks.committed import sweep_command
    from benchmarks.figures import safe_name

    return Section(f"sweep-{safe_name(name)}", f"Sweep {name}", sweep_command(results / name),
                   "Table 2 of this sweep (mean and 95% interval over its seeds; "
                   "best_f1_oracle chooses the threshold with test labels, an ORACLE), PU-GAN "
                   "against every other detector, and the rank statistics where it has them.",
                   tables=(("Table 2", f"{name}/table2.csv", ()),
                           ("Paired comparisons", f"{name}/comparisons.csv", ()),
                           ("Leaderboard", f"{name}/leaderboard.csv", ())),
                   figures=(f"{safe_name(name)}_*.png",))  # the report's own prefix


def _for_own_sweep(section: Section, own: Section, folder: str) -> Section:
    """A fixed section beside a user's sweep named like a committed one (a rerun's copy of
    ``paper``): without the tables the sweep's own section shows already, and with the sweep's
    own command where a table comes from its folder, since the committed command
    (``make reproduce-paper``) would rewrite the repository's sweep, not the copy."""
    shown = {csv for _, csv, _ in own.tables}
    tables = tuple(t for t in section.tables if t[1] not in shown)
    ours = any(csv.split("/")[0] == folder for _, csv, _ in tables)
    return replace(section, tables=tables, command=own.command if ours else section.command)


def write_html_report(results: str | Path = "results", reports: str | Path = "reports",
                      out: str | Path | None = None, own_sweep: str | None = None) -> Path:
    """Write the page (default ``reports/index.html``) from ``results/`` and
    ``reports/figures/``; return its path.

    ``own_sweep``: a user's own sweep folder under ``results`` (not one of the repository's
    committed sweeps, whatever its name) that the page is written for: it gets a section of
    its own, first, and the fixed sections with nothing to show are left out rather than each
    saying that its sweep was not run."""
    results, reports = Path(results), Path(reports)
    out = Path(out) if out is not None else reports / "index.html"
    sections = list(SECTIONS)
    if own_sweep is not None:
        own = sweep_section(own_sweep, results)
        fixed = [_for_own_sweep(s, own, own_sweep) for s in SECTIONS]
        sections = [own] + [s for s in fixed
                            if any((results / csv).is_file() for _, csv, _ in s.tables)]
    origin = ("the committed results" if own_sweep is None else
              f"the sweep folders in <code>{html.escape(str(results))}</code>, yours "
              f"(<code>{html.escape(own_sweep)}</code>) first")
    nav = " ".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in sections)
    sweeps: dict = {}
    body = "\n".join(_section_html(s, results, reports / "figures", sweeps) for s in sections)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
                   "<title>pugan-bench report</title>"
                   f"<style>{_STYLE}</style></head><body><h1>pugan-bench: the report</h1>"
                   "<p>Every table and figure below is generated by <code>pugan-bench "
                   f"report</code> from {origin}; nothing is typed.</p>"
                   f"<nav>{nav}</nav>\n{body}\n</body></html>\n")
    log.info("wrote %s", out)
    return out
