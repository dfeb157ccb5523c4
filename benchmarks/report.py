"""Tables and figures from a sweep's ``results.csv`` (no detector is fitted).

``report(DIR)`` writes:

- ``DIR/table2.csv``: one row per (dataset, method, anomaly ratio, labelled fraction): for
  precision, recall and F1 at the detector's own threshold, AUROC, AUPRC and ``best_f1_oracle``
  (the best F1 over all thresholds, chosen with the test labels: an upper bound, not a result),
  the mean, the standard deviation (ddof=1) and a 95% confidence interval over seeds
  (:mod:`benchmarks.stats`); mean fit seconds, PU-GAN's reliable normals, cell counts by
  status, rows from stale code, and the paper's numbers where it has them;
- ``DIR/comparisons.csv``: every PU-GAN entry against every other detector, per dataset,
  ratio, fraction and metric, by a paired Wilcoxon test over seeds with Holm's correction (a
  Bonferroni interval where too few seeds leave the test unable to decide);
- ``DIR/table1.csv`` (when the results include a paper preset): the paper's Table 1 beside
  ours, from :func:`benchmarks.splits.table1`;
- markdown copies in ``reports/``: ``table1.md``, ``table2.md``, ``comparisons.md`` for the
  folder named ``paper``, ``<name>_table2.md`` ... for any other folder ``<name>``;
- with ``readme=``, the README's results block, so that no result in it is typed by hand;
- figures in ``reports/figures/`` (PNG and SVG, :mod:`benchmarks.figures`), prefixed with
  the folder name: Table 2 as a dot plot with intervals and the paper's F1; for each dataset
  with two or more values on an axis, F1 and AUPRC against the anomaly ratio and against the
  labelled fraction, one line per detector with its 95% interval over seeds and, for AUPRC,
  the chance line;
- the sections the sweep's content calls for: the KDD readings' robustness table, the
  imbalance grid's verdicts and heatmap, the held-out-family tables, and (for a sweep with a
  paper preset) the claims scorecard (:mod:`benchmarks.scorecard`).

A row is *stale* when its ``code_version`` is not what the current code would record for that
cell (:func:`mark_stale`): its detector's sources, the split or metric code, or a library
changed since it ran. Stale rows are flagged in every table; the test suite refuses them in the
committed ``results/paper``.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.figures import plot_sweep, plot_table2, safe_name
from benchmarks.paper import PAPER_TABLE1, PAPER_TABLE2
from benchmarks.results import recorded_path
from benchmarks.stats import (
    ALPHA,
    CI_KIND,
    RIVALS_RULE,
    WILCOXON_FALLBACK,
    attempted,
    mean_ci,
    paired_comparisons,
)

__all__ = ["load_results", "markdown_table", "report", "stale_cost", "table2"]

log = logging.getLogger(__name__)

#: registry names compared with the paper's methods. The paper fitted its OCSVM at low labelling
#: but could not at high labelling with the same training rows, which fits an OCSVM on the
#: known positives (51,358 of them at high labelling, past what exact OCSVM fits): so the
#: paper's OCSVM is ``ocsvm-normals``.
PAPER_METHOD = {"pugan": "PU-GAN", "ocsvm-normals": "OCSVM"}

GROUP = ["dataset", "detector", "anomaly_ratio", "labelled_fraction"]
#: sweeps over more datasets than this get no per-dataset metric curves: four figures a
#: dataset would bury the repository's figures folder, and their ranking says it in one
MAX_CURVE_DATASETS = 8


#: numeric columns a results file must hold as numbers (a text value is a damaged file)
METRIC_COLUMNS = ("precision", "recall", "f1", "best_f1", "auroc", "auprc", "seed",
                  "anomaly_ratio", "labelled_fraction")


def load_results(folder: str | Path) -> pd.DataFrame:
    """Read ``folder/results.csv`` (a folder or the CSV path itself).

    A file that the tables would misread is a ValueError naming it: a missing column, a
    value that is not a number, a row cut short and a cell with two rows."""
    path = Path(folder)
    if path.is_dir() or path.suffix != ".csv":
        path = path / "results.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no results file at {path}; run `pugan-bench run CONFIG --out "
                                f"{path.parent}` first")
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{path} is not a pugan-bench results file ({type(exc).__name__}: "
                         f"{exc}); `pugan-bench run` rebuilds it from the cells") from None
    missing = sorted(set(GROUP + ["seed", "status", "f1", "auprc"]) - set(frame.columns))
    if missing:
        raise ValueError(f"{path} is not a pugan-bench results file: missing column(s) {missing}")
    if frame.empty:
        raise ValueError(f"{path} holds no cells: nothing to report")
    _check_whole_rows(path)
    for col in METRIC_COLUMNS:
        if col not in frame or pd.api.types.is_numeric_dtype(frame[col]):
            continue
        numbers = pd.to_numeric(frame[col], errors="coerce")
        bad = frame.index[numbers.isna() & frame[col].notna()]
        if len(bad):
            row = frame.loc[bad[0]]
            cell = " / ".join(str(row[c]) for c in ("dataset", "detector", "seed"))
            raise ValueError(f"{path}: column {col!r} holds {row[col]!r}, which is not a "
                             f"number (cell {cell})")
        frame[col] = numbers  # numbers pandas read as text (too long for an integer)
    if "error" not in frame:  # a table written without it records no error: every note is empty
        frame["error"] = ""
    for col in ("error", "preset", "detector_name"):
        if col in frame:
            frame[col] = frame[col].fillna("").astype(str)
    _check_one_row_per_cell(frame, path)
    return frame


def _check_whole_rows(path: Path) -> None:
    """A ValueError naming ``path`` and the line of a row cut short, or one without its cell
    or status (:func:`benchmarks.results.damaged_row`): pandas reads such a row with blanks
    for what it lacks, and the tables would count it as a cell."""
    from benchmarks.results import damaged_row

    fault = damaged_row(path)
    if fault:
        raise ValueError(f"{path} is damaged: {fault}; `pugan-bench run` rebuilds it from the "
                         "cells")


def _check_one_row_per_cell(frame: pd.DataFrame, path: Path) -> None:
    """A ValueError naming ``path`` and one repeated cell when two rows share their dataset,
    detector, ratio, fraction and seed: each would count as a seed of its own, and the
    interval over seeds would narrow on no new evidence. Two labels of one computed cell
    (a tuned choice equal to another entry) share a ``cell_id`` but not a detector label, so
    the label, not the ``cell_id``, says which rows are one cell of the table."""
    keys = [*GROUP, "seed"]
    repeated = frame[frame.duplicated(keys)]
    if len(repeated):
        row = repeated.iloc[0]
        cell = " / ".join(f"{c} {row[c]}" for c in keys)
        raise ValueError(f"{path} holds {len(repeated)} row(s) that repeat a cell of another "
                         f"row (e.g. {cell}); each cell must have one row, or it counts as "
                         "more seeds than ran: rebuild the file with `pugan-bench run`")


def _status_counts(g: pd.DataFrame, undefined=()) -> dict:
    """Cells per status, and the note: the cells' errors first (the cut at 300 characters
    must keep them), then the metrics ``undefined`` in ok cells."""
    counts = g["status"].value_counts()
    out = {f"n_{s}": int(counts.get(s, 0)) for s in ("ok", "failed", "timeout", "skipped")}
    notes = sorted({e for e in g.loc[g["status"] != "ok", "error"] if e})
    if undefined:
        notes.append("undefined (NaN) in ok cells, so the mean is over the others: "
                     + ", ".join(undefined))
    out["note"] = "; ".join(notes)[:300]
    return out


#: metrics summarised with an interval in Table 2 (best_f1 is the oracle, named as such)
TABLE2_METRICS = ("precision", "recall", "f1", "auroc", "auprc", "best_f1")
#: the name every table gives a metric that picks its threshold with the test labels
ORACLE_NAMES = {"best_f1": "best_f1_oracle"}
#: the paper's own numbers come from its best run by F1 on the test labels: an oracle too
PAPER_COLUMN = "paper P / R / F1 (ORACLE)"


def table2(frame: pd.DataFrame) -> pd.DataFrame:
    """Aggregate a results frame over seeds (see the module docstring for the columns)."""
    missing = [m for m in TABLE2_METRICS if m not in frame]
    if missing:  # a results file from elsewhere: name what it lacks, not a KeyError
        raise ValueError(f"the results lack the column(s) {missing} that Table 2 shows")
    rows = []
    for keys, g in frame.groupby(GROUP, sort=True, dropna=False):
        ok = g[g["status"] == "ok"]
        row = dict(zip(GROUP, keys, strict=True))
        row["method"] = row.pop("detector")
        undefined = []
        for m in TABLE2_METRICS:
            name = ORACLE_NAMES.get(m, m)
            values = ok[m].astype(float) if len(ok) else pd.Series([], dtype=float)
            mean, sd, low, high = mean_ci(values)
            row.update({name: mean, f"{name}_std": sd, f"{name}_ci_low": low,
                        f"{name}_ci_high": high})
            n_undefined = int((~np.isfinite(values.to_numpy())).sum())
            if n_undefined:
                undefined.append(f"{name} in {n_undefined} of {len(ok)}")
        row["fit_seconds"] = (ok["fit_seconds"].astype(float).mean()
                              if len(ok) and "fit_seconds" in ok else np.nan)
        row["n_reliable"] = (ok["n_reliable"].astype(float).mean()
                             if len(ok) and "n_reliable" in ok else np.nan)
        row.update(_status_counts(g, undefined))
        row["n_stale"] = int(g["stale"].sum()) if "stale" in g else 0
        preset = g["preset"].iloc[0] if "preset" in g else ""
        name = g["detector_name"].iloc[0] if "detector_name" in g else row["method"]
        paper_method = PAPER_METHOD.get(name, "")
        paper = PAPER_TABLE2.get((preset, paper_method))
        row["paper_method"] = paper_method if paper else ""
        for m, v in zip(("precision", "recall", "f1"), paper or (np.nan,) * 3, strict=True):
            row[f"paper_{m}_oracle"] = v
        rows.append(row)
    stats_cols = [f"{ORACLE_NAMES.get(m, m)}{suffix}" for m in TABLE2_METRICS
                  for suffix in ("", "_std", "_ci_low", "_ci_high")]
    cols = ["dataset", "method", "anomaly_ratio", "labelled_fraction", *stats_cols,
            "fit_seconds", "n_reliable", "n_ok", "n_failed", "n_timeout", "n_skipped", "n_stale",
            "paper_method", "paper_precision_oracle", "paper_recall_oracle",
            "paper_f1_oracle", "note"]
    return pd.DataFrame(rows, columns=cols)


def import_sweep_plugins(folder: str | Path) -> None:
    """Import the plugins the sweep in ``folder`` ran with (its ``config.yaml``), so that their
    detectors can be built to check their rows' code versions, as the sweep built them."""
    from benchmarks.plugins import import_plugins
    from benchmarks.results import read_resolved_config

    path = Path(folder) / "config.yaml"
    if not path.is_file():
        return
    try:  # a ConfigError (a plugin that moved or fails to import) is a ValueError
        import_plugins(read_resolved_config(folder).get("plugins") or [])
    except ValueError as exc:
        # moved, missing or damaged: the report still renders, plugin rows count stale
        log.warning("%s: %s; the rows of its plugins' detectors are counted stale", path, exc)


def mark_stale(frame: pd.DataFrame) -> pd.DataFrame:
    """Add a ``stale`` column: True where a row's code version is not what the committed code
    would write for that cell today (its detector's sources, the split and metric code, or the
    libraries changed since). Builds each detector once to fingerprint it; no fitting."""
    from benchmarks.fingerprint import row_code_version
    from benchmarks.registry import make_detector, plugin_registration

    frame = frame.copy()
    if "code_version" not in frame or "detector_name" not in frame:
        frame["stale"] = False
        return frame
    current = {}
    for name, params in frame[["detector_name", "detector_params"]].drop_duplicates().itertuples(
            index=False, name=None):
        try:
            det = make_detector(name, random_state=0, **json.loads(params or "{}"))
            current[(name, params)] = row_code_version(det, plugin_registration(name))
        except Exception as exc:  # a detector this checkout cannot build: not current
            log.warning("cannot build detector %r with %s to check its rows' code (%s: %s); "
                        "they are counted stale", name, params, type(exc).__name__, exc)
            current[(name, params)] = None
    frame["stale"] = [
        cv != current[(n, p)] for n, p, cv in
        zip(frame["detector_name"], frame["detector_params"], frame["code_version"], strict=True)]
    return frame


def stale_cost(folder: str | Path) -> dict:
    """The rows of a sweep folder that come from code changed since (:func:`mark_stale`) and
    the cell seconds they took when they were made: what computing them again costs, on a
    machine like the one that made them. Why: a change to a detector's sources makes every
    one of its committed rows stale, and this says how long that change takes to land."""
    frame = mark_stale(load_results(folder))
    stale = frame[frame["stale"]]
    seconds = stale["cell_seconds"] if "cell_seconds" in stale else pd.Series(dtype=float)
    return {"rows": len(frame), "stale": len(stale), "cell_seconds": float(seconds.sum()),
            "detectors": sorted(stale["detector"].astype(str).unique())}


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float | np.floating):
        return f"{v:.4g}" if abs(v) < 1e-3 and v != 0 else f"{v:.3f}"
    return str(v).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub markdown table (no extra dependency)."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    sep = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(_fmt(v) for v in row) + " |"
            for row in frame.itertuples(index=False, name=None)]
    return "\n".join([header, sep, *body]) + "\n"


def format_ci(mean, low, high, missing: str = "") -> str:
    """``mean [low, high]`` with three decimals; the mean alone without an interval."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return missing
    if math.isnan(low):
        return f"{mean:.3f}"
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]"


def _paper_prf(t2: pd.DataFrame) -> list[str]:
    return [f"{p:.3f} / {r:.3f} / {f:.3f}" if not math.isnan(p) else ""
            for p, r, f in zip(t2["paper_precision_oracle"], t2["paper_recall_oracle"],
                               t2["paper_f1_oracle"], strict=True)]


def _table2_markdown(t2: pd.DataFrame, name: str, closing: str = "") -> str:
    """Table 2 as markdown; ``closing`` (:func:`arithmetic_sentence`, then
    :func:`missing_cells_sentence`, each with its leading space) closes its preamble."""
    show = pd.DataFrame({
        "dataset": t2["dataset"],
        "method": [f"{m} (STALE: rerun)" if n else m
                   for m, n in zip(t2["method"], t2["n_stale"], strict=True)],
        # 3 significant digits: the KDD presets' ratio 0.00184 must not read as 0.002
        "anomaly ratio": [f"{v:.3g}" for v in t2["anomaly_ratio"]],
        "labelled fraction": [f"{v:.3g}" for v in t2["labelled_fraction"]],
    })
    for m, title in (("precision", "precision"), ("recall", "recall"), ("f1", "F1"),
                     ("auroc", "AUROC"), ("auprc", "AUPRC"),
                     ("best_f1_oracle", "best F1 (ORACLE)")):
        show[title] = [format_ci(a, lo, hi) for a, lo, hi in
                       zip(t2[m], t2[f"{m}_ci_low"], t2[f"{m}_ci_high"], strict=True)]
    show["reliable normals"] = [f"{v:.0f}" if not math.isnan(v) else ""
                                for v in t2["n_reliable"]]
    show["fit s"] = t2["fit_seconds"]
    show["cells ok/failed/timeout/skipped"] = [
        f"{a}/{b}/{c}/{d}" for a, b, c, d in
        zip(t2["n_ok"], t2["n_failed"], t2["n_timeout"], t2["n_skipped"], strict=True)]
    show[PAPER_COLUMN] = _paper_prf(t2)
    show["note"] = t2["note"]
    return (f"# Table 2 ({name}): anomaly detection results\n\n"
            f"Mean and {CI_KIND} (in brackets) of precision, recall and F1 of the anomaly "
            "class at each detector's own threshold (chosen without test labels), AUROC and "
            "AUPRC. \"best F1 (ORACLE)\" picks the threshold with the test labels, as the "
            "paper did: an upper bound, not a result. \"reliable normals\": unlabelled records "
            "PU-GAN's stage 1 admitted to the GAN's training set (mean over seeds). The paper's "
            "OCSVM is compared with `ocsvm-normals`: the paper fitted it at low labelling but "
            "not at high with the same training rows, so it was fitted on the known positives."
            + closing + " Generated by `pugan-bench report` from results.csv; do not edit."
            "\n\n" + markdown_table(show))


def missing_cells_sentence(frame: pd.DataFrame, folder: Path) -> str:
    """"" unless results.csv holds fewer cells than the sweep's last recorded run had (a run
    stopped part way, or a row lost since): then how many, since every table is over the
    cells that have a row and would otherwise pass a part of the sweep off as all of it."""
    from benchmarks.results import read_runs

    runs = read_runs(folder)
    if runs.empty or "cells" not in runs or pd.isna(runs["cells"].iloc[-1]):
        return ""
    expected = int(runs["cells"].iloc[-1])
    have = len(_one_row_per_cell(frame))
    if have >= expected:
        return ""
    stopped = runs["stopped"].iloc[-1] if "stopped" in runs else None
    how = f", which was stopped ({stopped})" if isinstance(stopped, str) and stopped else ""
    return (f"INCOMPLETE: results.csv holds {have} of the {expected} cells of the sweep's last "
            f"run{how}; every table is over the cells that have a row. Run the sweep's "
            "command again to compute the rest.")


def arithmetic_sentence(frame: pd.DataFrame) -> str:
    """What PU-GAN's ok rows trained in, per entry, as recorded in their ``arithmetic``: its
    scores depend on it (bfloat16 where the processor multiplies in it natively, else float32),
    so a table mixing the two says so. "" when no row records it (rows computed before the
    column was), which leaves the committed tables as they were."""
    if "arithmetic" not in frame:
        return ""
    rows = frame[pugan_rows(frame) & (frame["status"] == "ok")]
    recorded = rows["arithmetic"].fillna("").astype(str)
    if not (recorded != "").any():
        return ""
    parts = []
    for label, values in recorded.groupby(rows["detector"], sort=True):
        counts = values.replace("", "not recorded").value_counts().sort_index()
        parts.append(f"{label}: " + ", ".join(
            f"{kind} in {n} row{'' if n == 1 else 's'}" for kind, n in counts.items()))
    return (" PU-GAN's training arithmetic, as its rows record it (a row without it was "
            "computed before it was recorded): " + "; ".join(parts) + ".")


def pugan_rows(frame: pd.DataFrame) -> pd.Series:
    """True for the rows of a PU-GAN entry: by registry name where the frame has one (a label
    is free text), else by label."""
    names = frame["detector_name"] if "detector_name" in frame else frame["detector"]
    return names.astype(str).str.startswith("pugan")


def focus_detectors(frame: pd.DataFrame) -> list[str]:
    """The PU-GAN entries of a results frame (every label whose registry name is PU-GAN's)."""
    return sorted(set(frame.loc[pugan_rows(frame), "detector"]))


def _comparisons_markdown(comp: pd.DataFrame, name: str) -> str:
    show = comp.copy()
    for c in ("mean", "other_mean"):
        show[c] = show[c].map(lambda v: "" if math.isnan(v) else f"{v:.3f}")
    for c in ("diff_median", "diff_mean", "diff_low", "diff_high"):
        show[c] = show[c].map(lambda v: "" if math.isnan(v) else f"{v:+.3f}")
    show["ci_level"] = show["ci_level"].map(lambda v: "" if math.isnan(v) else f"{v:.4g}")
    for c in ("p_value", "p_holm"):
        show[c] = show[c].map(lambda v: "" if math.isnan(v) else f"{v:.3g}")
    show["anomaly_ratio"] = [f"{v:.3g}" for v in show["anomaly_ratio"]]
    show["labelled_fraction"] = [f"{v:.3g}" for v in show["labelled_fraction"]]
    return (f"# Paired comparisons ({name}): PU-GAN against every other detector\n\n"
            "Per dataset, anomaly ratio, labelled fraction and metric, the per-seed differences "
            "(PU-GAN minus the other detector, same split) tested with the Wilcoxon signed-rank "
            "test (two-sided); p-values Holm-corrected over the other detectors of the same "
            f"block and metric; win / loss when the corrected p-value is below {ALPHA:g}, "
            "else tie. "
            f"{WILCOXON_FALLBACK}: win when it lies above 0, loss when below. The oracle, which "
            "reads the training anomalies' labels (never the test labels), is left out. "
            "Generated by `pugan-bench report`; do not edit.\n\n"
            + markdown_table(show))


def _tuned_code_text(choice: dict, name: str, params: dict) -> str:
    """"" when the choice was made on the code that builds ``name`` today; else a sentence
    saying that the grid ran other code (or unrecorded code), so the choice may not hold."""
    from benchmarks.fingerprint import row_code_version
    from benchmarks.registry import make_detector, plugin_registration

    versions = choice.get("code_versions")
    if not versions or not isinstance(versions, list):
        return "; the code its grid ran is not recorded: run `pugan-bench tune` again"
    try:
        current = row_code_version(make_detector(name, random_state=0, **params),
                                   plugin_registration(name))
    except Exception as exc:  # a detector this checkout cannot build: cannot be compared
        first = (str(exc).strip().splitlines() or [""])[0]
        return f"; cannot check the code its grid ran ({type(exc).__name__}: {first})"
    if set(map(str, versions)) == {current}:   # every grid cell ran the code that runs now
        return ""
    return (f"; its grid ran code {', '.join(versions)}, and the detector's code is now "
            f"{current}: run `pugan-bench tune` again before trusting the choice")


def settings_table(folder: str | Path) -> pd.DataFrame:
    """Each detector's parameters per dataset in a sweep, and where they came from: fixed in
    the config, or chosen by ``pugan-bench tune`` (criterion, development seeds, grid size and
    the chosen point's score, from the tuning file the config named)."""
    from benchmarks.results import read_resolved_config, resolve_recorded

    doc = read_resolved_config(folder)
    listed = doc.get("tuning") or []
    listed = listed if isinstance(listed, list) else [listed]   # one file, or a list of them
    tuning = None
    if listed:
        from benchmarks.config import ConfigError
        from benchmarks.tuning import competes, read_tunings

        try:
            tuning = read_tunings([resolve_recorded(t) for t in listed])
        except ConfigError as exc:  # a report from results alone still lists the params
            log.warning("no tuning provenance: %s", exc)
    rows = []
    for det in doc["detectors"]:
        for d in doc["datasets"]:
            per = det.get("per_dataset") or {}
            params = per.get(d["label"], det["params"])
            shown = ", ".join(f"{k}={v}" for k, v in sorted(params.items())) or "(defaults)"
            source = "fixed in the config"
            if per:
                source = f"tuned ({', '.join(listed)})"
            if per and tuning is not None:
                by_det = tuning["choices"].get(d["label"], {})
                if det["tuned"] not in by_det:
                    # the sweep ran with a choice that the file no longer holds: the
                    # provenance of its params cannot be read from it any more
                    raise ValueError(
                        f"{folder}: tuning file(s) {tuning['path']} hold no choice of "
                        f"{det['tuned']!r} for dataset {d['label']!r}, which this sweep was "
                        "run with; the file has changed since: restore it or rerun the sweep")
                choice = by_det[det["tuned"]]
                choice = {**choice, "file": recorded_path(choice["file"])}
                crit = choice["criterion"]
                chosen = choice.get("params") or {}
                # params given beside a tuned entry lie over its choice (those that ran, not
                # test_params, which the choice itself lies over): not a stale choice. A
                # folder written before ``overrides`` was recorded has them merged into params
                fixed = det.get("overrides", det.get("params")) or {}
                over = {k: fixed[k] for k in chosen
                        if k in fixed and params.get(k) == fixed[k] != chosen[k]}
                if any(params.get(k) != v for k, v in chosen.items() if k not in over):
                    # tuned again since this sweep ran: the file's score is another point's
                    now = ", ".join(f"{k}={v}" for k, v in sorted(chosen.items()))
                    source = (f"tuned by an earlier {choice['file']}, which now chooses "
                              f"{now}: rerun the sweep to run the current choice")
                elif choice.get(crit) is None:
                    source = f"tuned: {choice.get('note', 'no score')} ({choice['file']})"
                else:
                    out = sum(1 for g in choice["grid"]
                              if not competes(g, len(choice["seeds"])))
                    left = (f" ({out} left out: not every seed finished ok with a score)"
                            if out else "")
                    source = (f"tuned: best mean {crit} {choice[crit]:.3f} of "
                              f"{len(choice['grid'])} grid points{left} on development seeds "
                              f"{', '.join(map(str, choice['seeds']))} ({choice['file']})"
                              + _tuned_code_text(choice, det["name"], params))
                if over:
                    source += "; " + ", ".join(f"{k}={v}" for k, v in sorted(over.items())) + (
                        " set in the config over the tuned choice "
                        + ", ".join(f"{k}={chosen[k]}" for k in sorted(over)))
            rows.append({"dataset": d["label"], "detector": det["label"], "params": shown,
                         "source": source})
    return pd.DataFrame(rows)


README_BEGIN = "<!-- BEGIN RESULTS: generated by `pugan-bench report results/paper --readme README.md`; do not edit -->"
README_END = "<!-- END RESULTS -->"


def _skipped_sentence(frame: pd.DataFrame) -> str:
    """Why the paper presets' skipped cells were skipped, in the cells' own words (a detector
    refusing that many rows, a split that cannot be filled), one reason per pair."""
    skipped = frame[(frame["status"] == "skipped") & frame["dataset"].isin(PAPER_TABLE1)]
    if skipped.empty:
        return ""
    reasons = skipped.groupby(["dataset", "detector"], sort=True)["error"].first()
    n = len(skipped)
    return (f" {n} cell{' was' if n == 1 else 's were'} skipped: "
            + "; ".join(f"{det} on {ds}, {err}" for (ds, det), err in reasons.items()) + ".")


def seeds_text(seeds) -> str:
    """Seeds as a reader reads them: a range where they run without a gap ("0-9"), else
    listed, so that a sweep missing a seed never reads as having run it."""
    seeds = sorted(int(v) for v in set(seeds))
    if seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])
    return ", ".join(map(str, seeds))


def _verdict_kind(verdict: str) -> str:
    """A verdict without the readings it names, to count verdicts of one kind together."""
    if verdict.startswith("reproduced only under"):
        return "reproduced only under another reading"
    if verdict.startswith("not measured under the paper's reading; holds under"):
        return "not measured under the paper's reading (holding under another)"
    return verdict


def _rows_together_sentence(card: pd.DataFrame) -> str:
    """How many of Table 2's rows hold whole under one reading: each number is judged on its
    own, so a row's three can each hold under another reading, which no one run shows."""
    from benchmarks.scorecard import rows_held_together

    if "table2_rows" not in card.attrs:  # a card read back from its CSV: no readings
        return ""
    n, total, rows = rows_held_together(card)
    return (f"Rows whose precision, recall and F1 all hold under one reading: {n} of {total}"
            + (f" ({'; '.join(rows)})" if rows else "") + ".")


def readme_block(t2: pd.DataFrame, frame: pd.DataFrame,
                 card: pd.DataFrame | None = None, folder: str | Path | None = None) -> str:
    """The README's results block: the claims scorecard, then Table 2's headline columns for
    the paper's presets (every reading, test and number in reports/), then what the sweeps
    cost (:func:`cost_lines`, from ``folder`` and the benchmark sweep beside it)."""

    finished = sorted(frame.loc[frame["status"] == "ok", "seed"].unique())
    unfinished = sorted(set(frame["seed"]) - set(finished))
    lines = [README_BEGIN, ""]
    if card is not None:
        numbers = card["claim"].str.startswith("Table 2:")
        claims = card[~numbers]
        counts = card.loc[numbers, "verdict"].map(_verdict_kind).value_counts()
        lines += ["The paper's claims and their verdicts (reports/scorecard.md gives the rules "
                  "and every reading):", "",
                  markdown_table(claims.drop(columns="readings")).rstrip(), "",
                  f"Table 2's {int(numbers.sum())} numbers (precision, recall, F1): "
                  + ", ".join(f"{n} {v}" for v, n in counts.items())
                  + "; each with its interval in reports/scorecard.md. "
                  + _rows_together_sentence(card), ""]
    paper = t2[t2["dataset"].isin(PAPER_TABLE1)]
    show = pd.DataFrame({"dataset": paper["dataset"], "method": paper["method"]})
    for m, title in (("f1", "F1 (own threshold)"), ("auprc", "AUPRC"),
                     ("best_f1_oracle", "best F1 (ORACLE)")):
        show[title] = [format_ci(a, lo, hi) for a, lo, hi in
                       zip(paper[m], paper[f"{m}_ci_low"], paper[f"{m}_ci_high"], strict=True)]
    show[PAPER_COLUMN] = _paper_prf(paper)
    show["cells ok/total"] = [f"{a}/{a + b + c + d}" for a, b, c, d in
                              zip(paper["n_ok"], paper["n_failed"], paper["n_timeout"],
                                  paper["n_skipped"], strict=True)]
    on_seeds = (f"{len(finished)} report seeds (seeds {seeds_text(finished)})" if finished
                 else "no finished report seed")
    if unfinished:
        on_seeds += f"; no cell finished on seed(s) {seeds_text(unfinished)}"
    lines += [f"Table 2 on {on_seeds}: mean and "
              f"{CI_KIND} in brackets.{_skipped_sentence(frame)}{arithmetic_sentence(frame)} "
              "Every column: "
              "reports/table2.md; the other readings of KDD: "
              "reports/readings.md; paired tests: reports/comparisons.md.", "",
              markdown_table(show).rstrip(), ""]
    lines += cost_lines(frame, folder)
    stale = int(frame["stale"].sum()) if "stale" in frame else 0
    if stale:
        lines += [f"**{stale} rows come from code that has changed since: rerun "
                  "`make reproduce-paper`.**", ""]
    lines.append(README_END)
    return "\n".join(lines)


def _whole_run(frame: pd.DataFrame, folder: Path | None) -> pd.Series | None:
    """The folder's last recorded run that computed every one of these cells (nothing cached,
    the same seeds, the code versions the rows carry now, not stopped part way), or None. A
    run with code since changed timed other code, so its wall time is not this sweep's."""
    from benchmarks.results import read_runs

    runs = read_runs(folder) if folder is not None else pd.DataFrame()
    if not len(runs) or not {"cached", "run", "cells", "seeds"} <= set(runs.columns):
        return None
    n_cells = len(_one_row_per_cell(frame))
    seeds = sorted(frame["seed"].unique())
    versions = (sorted(frame["code_version"].dropna().unique().tolist())
                if "code_version" in frame else None)
    recorded = runs.get("code_versions", pd.Series(None, index=runs.index, dtype=object))
    stopped = runs.get("stopped", pd.Series(None, index=runs.index, dtype=object))
    whole = runs[(runs["cached"] == 0) & (runs["run"] == runs["cells"]) & stopped.isna()
                 & (runs["cells"] == n_cells)
                 & runs["seeds"].map(lambda s: sorted(s) == seeds)
                 & recorded.map(lambda v: isinstance(v, list) and sorted(v) == versions)]
    return whole.iloc[-1] if len(whole) else None


def _core_use(run: pd.Series) -> float:
    """A recorded run's core utilisation: its cells' seconds over workers x wall seconds."""
    return run["cell_seconds"] / run["workers"] / run["wall_seconds"]


def _workers(n) -> str:
    return f"{n} worker" if n == 1 else f"{n} workers"


def _minutes(seconds: float) -> str:
    """Seconds as whole minutes, or to a tenth below ten minutes, so that a small sweep's
    cost line does not say 0 beside a table that lists its tenths."""
    minutes = seconds / 60
    return f"{minutes:,.0f}" if minutes >= 10 else f"{minutes:.1f}"


def _cost_sentence(frame: pd.DataFrame, folder: Path | None) -> str:
    """What one sweep cost: its cells' summed fit-and-score time and, when the folder records
    a run that computed every one of these cells (:func:`_whole_run`), that run's wall time
    and core use."""
    from benchmarks.committed import sweep_command

    command = sweep_command(folder) if folder is not None else "pugan-bench run CONFIG"
    cells = _one_row_per_cell(frame)
    n_cells = len(cells)
    seeds = sorted(frame["seed"].unique())
    total = float(cells["cell_seconds"].fillna(0).sum())
    text = (f"`{command}`: {n_cells:,} cells on {len(seeds)} seeds, whose fit-and-score times "
            f"sum to {_minutes(total)} core-minutes")
    last = _whole_run(frame, folder)
    if last is not None:
        use = _core_use(last)
        processor = last.get("processor")
        where = f"{processor}; " if isinstance(processor, str) and processor else ""
        return (text + f"; its last run from an empty folder took "
                f"{_minutes(last['wall_seconds'])} minutes with {_workers(last['workers'])} "
                f"on {last['cores']} cores ({where}core utilisation {use:.2f}).")
    return text + (" (as recorded by the runs that computed the cells, which may have shared "
                   "the machine with other work); no run from an empty folder with the code "
                   "behind these rows is recorded, so no wall time is given.")


def _one_row_per_cell(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per computed cell: two entries that name the same cell (a tuned choice equal
    to a fixed entry) ran it once, so its time counts once in a sum."""
    return frame.drop_duplicates("cell_id") if "cell_id" in frame else frame


def cost_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Fit-and-score seconds per cell by dataset (rows) and detector (columns), with each
    dataset's cells, total core-minutes and share of the sweep's time (each cell once, however
    many entries name it), the costliest dataset first. Cells that ran count, failed and
    timed-out ones too (they cost their time); skipped ones (refused before any fit) count
    nowhere."""
    timed = attempted(frame)
    timed = timed[timed["cell_seconds"].notna()]
    if timed.empty:
        return pd.DataFrame(columns=["dataset", "cells", "core-minutes", "share"])
    means = timed.pivot_table(index="dataset", columns="detector", values="cell_seconds",
                              aggfunc="mean", sort=False)
    totals = _one_row_per_cell(timed).groupby("dataset", sort=False)["cell_seconds"].agg(
        ["size", "sum"])
    table = means.reindex(columns=list(dict.fromkeys(timed["detector"])))
    table.insert(0, "cells", totals["size"])
    table.insert(1, "core-minutes", totals["sum"] / 60)
    table.insert(2, "share", totals["sum"] / totals["sum"].sum())
    return table.sort_values("core-minutes", ascending=False, kind="stable").reset_index()


def cost_markdown(frame: pd.DataFrame, folder: Path) -> str:
    """The sweep's cost report: its cost sentence, then :func:`cost_table` with the wall
    minutes each dataset's cells would take on the recorded run's workers at its core
    utilisation (an estimate from summed cell times, named so)."""
    table = cost_table(frame)
    last = _whole_run(frame, folder)
    note = ""
    if last is not None and len(table):
        use = _core_use(last)
        seconds = table["core-minutes"] * 60
        table.insert(3, "estimated wall minutes", seconds / (last["workers"] * use) / 60)
        note = (f" The estimated wall minutes are a dataset's cell seconds over the "
                f"{_workers(last['workers'])} at the core utilisation of the recorded run "
                f"({use:.2f}): what running only that dataset's cells would take, not a "
                "measured run.")
    shown = table.copy()
    for column in shown.columns[2:]:
        pattern = "{:.0%}" if column == "share" else "{:,.1f}"
        shown[column] = shown[column].map(lambda v, p=pattern: "" if pd.isna(v) else p.format(v))
    return (f"# Where the time of {folder.resolve().name} goes: seconds per cell by dataset and "
            "detector\n\n"
            "Generated by `pugan-bench report` from the sweep's results.csv (`cell_seconds`: "
            "fit and score of one cell, as recorded by the run that computed it) and "
            f"runs.jsonl; do not edit.\n\n{_cost_sentence(frame, folder)}{note}\n\n"
            + markdown_table(shown))


def cost_lines(frame: pd.DataFrame, folder: str | Path | None) -> list[str]:
    """The README's cost paragraph: this sweep's, and the benchmark sweep's when its folder
    (``results/benchmark`` beside this one) holds results."""
    if "cell_seconds" not in frame:
        return []
    folder = Path(folder) if folder is not None else None
    parts = [_cost_sentence(frame, folder)]
    bench = folder.parent / "benchmark" if folder is not None else None
    if bench is not None and bench != folder and (bench / "results.csv").is_file():
        parts.append(_cost_sentence(load_results(bench), bench))
    return ["Cost: " + " ".join(parts), ""]


def write_readme_block(readme: str | Path, block: str) -> Path:
    """Replace the text between the README's result markers with ``block``."""
    readme = Path(readme)
    text = readme.read_text()
    start, end = text.find(README_BEGIN), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"{readme} has no results block: add the lines {README_BEGIN!r} and "
                         f"{README_END!r} where the results go")
    readme.write_text(text[:start] + block + text[end + len(README_END):])
    return readme


def _verdict_sections(frame: pd.DataFrame, folder: Path, reports_dir: Path, md_prefix: str,
                      name: str, figures: bool) -> list[Path]:
    """The sections a sweep's content calls for: the KDD readings' robustness table, the
    imbalance grid's verdicts and heatmap, the held-out-family tables, the rank statistics."""
    from benchmarks.imbalance import grid_verdicts, plot_verdict_heatmap, verdict_sentence
    from benchmarks.readings import pugan_vs_best, readings_markdown, robustness_table

    written = []
    table = robustness_table(frame)
    if len(table):
        versus = pugan_vs_best(frame)
        table.to_csv(folder / "readings.csv", index=False)
        versus.to_csv(folder / "readings_versus_best.csv", index=False)
        (reports_dir / f"{md_prefix}readings.md").write_text(readings_markdown(table, versus))
        written += [folder / "readings.csv", folder / "readings_versus_best.csv",
                    reports_dir / f"{md_prefix}readings.md"]
    ok = frame[frame["status"] == "ok"]
    axes = ok.groupby("dataset")[["anomaly_ratio", "labelled_fraction"]].nunique()
    grid_datasets = axes.index[(axes > 1).all(axis=1)]
    # every cell that ran, not only the finished ones: one where PU-GAN finished nothing is
    # an undecided square of the grid, as the scorecard counts it
    grid = attempted(frame[frame["dataset"].isin(grid_datasets)])
    focus = focus_detectors(grid)
    verdicts = None
    if len(focus) == 1:
        try:
            verdicts = grid_verdicts(grid, focus[0])
        except ValueError as exc:  # PU-GAN never ran beside another detector
            log.info("no grid verdicts: %s", exc)
    if verdicts is not None:
        verdicts.to_csv(folder / "grid_verdicts.csv", index=False)
        show = verdicts[["dataset", "anomaly_ratio", "labelled_fraction", "best_other", "mean",
                         "best_other_mean", "diff", "diff_low", "diff_high", "ci_level",
                         "n_pairs", "p_holm", "test", "position", "left_out"]]
        (reports_dir / f"{md_prefix}grid_verdicts.md").write_text(
            f"# {verdicts['focus'].iloc[0]} against the other detectors, cell by cell "
            f"({name})\n\n{verdict_sentence(verdicts)}\n\n{RIVALS_RULE} Each cell is judged "
            f"on its own, at {ALPHA:g}: a claim over the whole grid needs the correction the "
            "scorecard applies. Per cell: the rival shown, both means, the mean paired "
            "difference with its interval, the paired seeds, the corrected p and the test "
            "that decided, the verdict and the detectors left out as rivals. Figure: "
            f"figures/{safe_name(name)}_verdict_heatmap.png. Generated by `pugan-bench report`; "
            "do not edit.\n\n" + markdown_table(show))
        written += [folder / "grid_verdicts.csv", reports_dir / f"{md_prefix}grid_verdicts.md"]
        if figures:
            written += plot_verdict_heatmap(
                verdicts, reports_dir / "figures" / f"{safe_name(name)}_verdict_heatmap")
    if len(grid_datasets):
        written += _marginal_sections(frame[frame["dataset"].isin(grid_datasets)], folder,
                                      reports_dir, md_prefix, name)
    written += _rank_sections(frame, folder, reports_dir, figures)
    if "n_test_heldout" in frame and (frame["n_test_heldout"].fillna(0) > 0).any():
        from benchmarks.report_unknown import report_unknown

        written += report_unknown(folder, reports_dir, figures=figures)
    return written


def _marginal_sections(grid: pd.DataFrame, folder: Path, reports_dir: Path, md_prefix: str,
                       name: str) -> list[Path]:
    """The grid's compact AUPRC tables: by anomaly ratio and by labelled fraction
    (:func:`benchmarks.imbalance.marginal_table`), as CSV and one markdown page."""
    from benchmarks.imbalance import marginal_table

    written, parts = [], []
    for axis, title, over in (("anomaly_ratio", "by anomaly ratio", "labelled fractions"),
                              ("labelled_fraction", "by labelled fraction", "anomaly ratios")):
        table = marginal_table(grid, axis)
        path = folder / f"auprc_by_{axis}.csv"
        table.to_csv(path, index=False)
        written.append(path)
        parts.append(f"## AUPRC {title} (mean over the {over})\n\n" + markdown_table(table))
    md = reports_dir / f"{md_prefix}by_ratio_and_fraction.md"
    md.write_text(f"# AUPRC along each axis of the grid ({name})\n\nMean over seeds of each "
                  "seed's AUPRC averaged over the other axis, with its 95% t-interval over "
                  "seeds (`seeds`: how many; a seed counts where it finished at every value of "
                  "the other axis). Cell by cell: the table2 and grid_verdicts pages. Generated by "
                  "`pugan-bench report`; do not edit.\n\n" + "\n".join(parts))
    return [*written, md]


def _curve_sections(frame: pd.DataFrame, folder: Path, reports_dir: Path,
                    name: str) -> list[Path]:
    """ROC and PR curves over seeds (:mod:`benchmarks.curves`) for the datasets run at one
    anomaly ratio and labelled fraction (Table 2's cells). The per-record scores stay
    beside the cells, outside the repository; the curves' table, ``curves.csv``, is what the
    repository keeps: written when some curve is computed from scores, and read back to draw
    the figures in a checkout that has the results but not the cells. Per (dataset, detector),
    a curve is drawn from the scores when every ok cell has them, else from the kept table
    when it names the cells the results hold now; one from other cells (code changed since,
    other seeds) is left out with a warning, never shown as current, and a figure left with
    no curve is removed."""
    from benchmarks.curves import (
        current_curves,
        curve_figures,
        curve_table,
        plot_curves,
        read_curve_table,
    )

    # Table 2's cells: one anomaly ratio and labelled fraction per dataset, so that the seeds
    # of a curve are draws of the same setting (a grid's cells are not)
    settings = frame.groupby("dataset")[["anomaly_ratio", "labelled_fraction"]].nunique()
    single = settings.index[(settings == 1).all(axis=1)]
    if not len(single):
        return []
    path = folder / "curves.csv"
    rows = frame[frame["dataset"].isin(single)]
    fresh, missing = curve_table(rows, folder)
    curves, written = fresh, []
    if missing:
        log.info("%s: %d ok cell(s) have no stored scores here (cached before scores were "
                 "kept, or a checkout without the cells)", folder, sum(missing.values()))
        kept = fresh.iloc[:0]
        if path.is_file():
            try:
                kept = read_curve_table(path)
            except ValueError as exc:  # damaged: its curves are lost, the fresh ones are not
                log.warning("%s", exc)
        still, _ = current_curves(kept, rows)
        pairs = (list(zip(still["dataset"], still["detector"], strict=True)) if len(still)
                 else [])
        if pairs:  # the kept curves of the pairs without scores here
            still = still[[pair in missing for pair in pairs]]
        parts = [t for t in (fresh, still) if len(t)]
        curves = (pd.concat(parts, ignore_index=True).sort_values(
            ["dataset", "detector"], kind="stable", ignore_index=True) if parts else still)
        unmatched = sorted(set(missing) - set(pairs))
        if unmatched:
            log.warning("%s: no current curve for %s (the scores are not here and %s names "
                        "other or no cells): left out", folder,
                        ", ".join(f"{det} on {ds}" for ds, det in unmatched), path.name)
    if len(fresh):
        curves.to_csv(path, index=False, float_format="%.5g")
        curves = read_curve_table(path)  # drawn from the kept table, as a checkout draws it
        written.append(path)
    if len(curves):
        written += plot_curves(curves, name, reports_dir / "figures")
    else:
        for figure in curve_figures(name, reports_dir / "figures"):
            figure.unlink(missing_ok=True)
    return written


def _rank_sections(frame: pd.DataFrame, folder: Path, reports_dir: Path,
                   figures: bool) -> list[Path]:
    """The leaderboard, Friedman and Nemenyi tests and CD diagram (:mod:`benchmarks.ranks`)
    when the sweep has at least three complete blocks and three detectors to rank."""
    from benchmarks.ranks import block_scores, rank_report

    blocks, _ = block_scores(frame)
    if len(blocks) < 3 or blocks.shape[1] < 3:
        return []
    return rank_report(folder, reports_dir, figures=figures)


def _write_scorecard(frame: pd.DataFrame, t2: pd.DataFrame, folder: Path, reports_dir: Path,
                     md_prefix: str) -> pd.DataFrame:
    """The claims scorecard from this paper sweep and its sibling sweeps (``imbalance`` and
    ``unknown_types`` beside it), each read when it has been run."""
    from benchmarks.scorecard import claims_markdown, sweep_scorecard

    card = sweep_scorecard(folder, frame, t2)
    card.to_csv(folder / "scorecard.csv", index=False)
    (reports_dir / f"{md_prefix}scorecard.md").write_text(
        "# The paper's claims, one by one\n\nGenerated by `pugan-bench report` from "
        f"{recorded_path(folder)} and the imbalance and unknown-type sweeps beside it; do not "
        "edit.\n\n" + claims_markdown(card))
    return card


def report(folder: str | Path, *, reports_dir: str | Path = "reports", figures: bool = True,
           with_table1: bool | None = None, readme: str | Path | None = None) -> list[Path]:
    """Regenerate tables and figures from ``folder/results.csv``; returns the paths written.

    ``with_table1``: write Table 1 (None: when the results include a paper preset).
    ``readme``: also rewrite that README's results block (:func:`readme_block`).
    """
    folder = Path(folder)
    import_sweep_plugins(folder)
    frame = mark_stale(load_results(folder))
    name = folder.resolve().name
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    md_prefix = "" if name == "paper" else f"{safe_name(name)}_"
    written = []
    if frame["stale"].any():
        log.warning("%d row(s) of %s come from code that has changed since; rerun the sweep",
                    int(frame["stale"].sum()), folder)
    missing = missing_cells_sentence(frame, folder)
    if missing:
        log.warning("%s", missing)

    t2 = table2(frame)
    t2.to_csv(folder / "table2.csv", index=False)
    (reports_dir / f"{md_prefix}table2.md").write_text(
        _table2_markdown(t2, name, arithmetic_sentence(frame) + (f" {missing}" if missing
                                                                 else "")))
    written += [folder / "table2.csv", reports_dir / f"{md_prefix}table2.md"]
    comp = paired_comparisons(frame, focus_detectors(frame))
    comp.to_csv(folder / "comparisons.csv", index=False)
    (reports_dir / f"{md_prefix}comparisons.md").write_text(_comparisons_markdown(comp, name))
    written += [folder / "comparisons.csv", reports_dir / f"{md_prefix}comparisons.md"]
    if (folder / "config.yaml").is_file():
        settings = settings_table(folder)
        (reports_dir / f"{md_prefix}settings.md").write_text(
            f"# Detector settings ({name}) and where each came from\n\nGenerated by "
            "`pugan-bench report` from the sweep's config.yaml and its tuning file; do not "
            "edit.\n\n" + markdown_table(settings))
        written.append(reports_dir / f"{md_prefix}settings.md")
    if "cell_seconds" in frame:
        (reports_dir / f"{md_prefix}cost.md").write_text(cost_markdown(frame, folder))
        written.append(reports_dir / f"{md_prefix}cost.md")
    written += _verdict_sections(frame, folder, reports_dir, md_prefix, name, figures)

    presets = set(frame["preset"]) if "preset" in frame else set()

    card = None
    if presets & set(PAPER_TABLE1):
        card = _write_scorecard(frame, t2, folder, reports_dir, md_prefix)
        written += [folder / "scorecard.csv", reports_dir / f"{md_prefix}scorecard.md"]
    if readme is not None:
        written.append(write_readme_block(readme, readme_block(t2, frame, card, folder)))
    if with_table1 is None:
        with_table1 = bool(presets & set(PAPER_TABLE1))
    if with_table1:
        from benchmarks.splits import table1

        t1 = table1(seed=0)
        t1.to_csv(folder / "table1.csv", index=False)
        (reports_dir / f"{md_prefix}table1.md").write_text(
            "# Table 1: dataset composition, ours beside the paper's (paper_ columns)\n\n"
            "Generated by `pugan-bench report` (benchmarks.splits.table1, seed 0); do not "
            "edit.\n\n" + markdown_table(t1))
        written += [folder / "table1.csv", reports_dir / f"{md_prefix}table1.md"]

    if figures and "cell_id" in frame:
        written += _curve_sections(frame, folder, reports_dir, name)
    if figures:
        n_datasets = frame["dataset"].nunique()
        if n_datasets <= MAX_CURVE_DATASETS:
            written += plot_sweep(frame, name, reports_dir / "figures")
        else:  # a leaderboard sweep: its summary is the ranking, not a figure per dataset
            log.info("%s: %d datasets, more than %d: no per-dataset curves (the leaderboard "
                     "and the CD diagram summarise it)", folder, n_datasets, MAX_CURVE_DATASETS)
        if len(t2) and t2.groupby(["dataset", "method"]).size().max() == 1:  # one row each
            written += plot_table2(t2, reports_dir / "figures" / f"{safe_name(name)}_table2")
    counts = frame["status"].value_counts().to_dict()
    log.info("report for %s (%s): wrote %d file(s)", folder, counts, len(written))
    return written
