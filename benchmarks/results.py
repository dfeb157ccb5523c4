"""The results frame of a sweep folder: its columns, its rows, results.csv and results.parquet.

One row per cell of a config that has a record in the folder's cell cache
(:class:`benchmarks.cache.CellCache`) or, failing that, a row in the folder's earlier
results.csv (:func:`previous_records`), with the cell's identity (:class:`benchmarks.cells.Cell`)
beside the record's fields. ``results.csv`` is what the reports read; ``results.parquet``
holds the same rows with one type per column; ``config.yaml`` the resolved config that made
them. All three are rewritten whole, atomically, under the folder's lock.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
import time
from pathlib import Path

import pandas as pd

from benchmarks.cache import (
    RECORD_STATUSES,
    CellCache,
    atomic_write_bytes,
    atomic_write_text,
    folder_lock,
)
from benchmarks.cells import PROJECT_ROOT, Cell, canonical_json
from benchmarks.metrics import HELDOUT_COLUMNS, METRIC_COLUMNS

log = logging.getLogger(__name__)

__all__ = [
    "FLOAT_COLUMNS",
    "ID_COLUMNS",
    "INT_COLUMNS",
    "RESULT_COLUMNS",
    "STATUSES",
    "TIMING_COLUMNS",
    "damaged_row",
    "previous_records",
    "read_results_text",
    "records_by_cell",
    "read_resolved_config",
    "read_runs",
    "record_run",
    "results_frame",
    "results_parquet",
    "typed_results",
    "write_results",
]

ID_COLUMNS = ("dataset", "detector", "anomaly_ratio", "labelled_fraction", "seed")
#: columns that measure the machine, not the method: excluded from determinism checks
TIMING_COLUMNS = ("fit_seconds", "score_seconds", "cell_seconds", "peak_mb")
VERSION_COLUMNS = ("version_pugan_bench", "version_torch", "version_sklearn", "version_pyod",
                   "version_numpy", "version_python")
RESULT_COLUMNS = (
    *ID_COLUMNS, "status", "error", *METRIC_COLUMNS, "fit_seconds", "score_seconds", "peak_mb",
    "cell_seconds", "n_train", "n_known_normal", "n_test", "n_test_anomalies",
    "n_test_anomalies_distinct", "n_test_anomalies_twin_in_train", *HELDOUT_COLUMNS, "n_features",
    "threshold", "n_test_flagged", "n_reliable", "arithmetic", "supervision", "dataset_name",
    "preset", "split_params", "dataset_params", "detector_name", "detector_params", "split_seed",
    "model_seed", "cell_id", "code_version", *VERSION_COLUMNS,
)
#: integer columns of results.parquet (nullable: a failed cell has no sizes)
INT_COLUMNS = ("seed", "n_train", "n_known_normal", "n_test", "n_test_anomalies",
               "n_test_anomalies_distinct", "n_test_anomalies_twin_in_train", "n_test_heldout",
               "n_test_seen", "n_features", "n_test_flagged", "n_reliable", "split_seed",
               "model_seed")
#: float columns of results.parquet; every other column is a string
FLOAT_COLUMNS = ("anomaly_ratio", "labelled_fraction", *METRIC_COLUMNS, "fit_seconds",
                 "score_seconds", "peak_mb", "cell_seconds", "recall_heldout", "auprc_heldout",
                 "recall_seen", "auprc_seen", "threshold")
#: the statuses a row may hold: those of a cell record, which the cache checks on reading
STATUSES = RECORD_STATUSES


def _identity(cell: Cell) -> dict:
    return {
        "dataset": cell.dataset, "detector": cell.detector, "anomaly_ratio": cell.anomaly_ratio,
        "labelled_fraction": cell.labelled_fraction, "seed": cell.seed,
        "dataset_name": cell.dataset_name, "preset": cell.preset or "",
        "split_params": cell.split_json, "dataset_params": cell.dataset_params_json,
        "detector_name": cell.detector_name, "detector_params": cell.detector_params_json,
        "split_seed": cell.split_seed, "model_seed": cell.model_seed, "cell_id": cell.key,
        "code_version": cell.version,
    }


def results_frame(cells: list[Cell], cache: CellCache,
                  unsaved: dict[str, dict] | None = None,
                  previous: dict[str, dict] | None = None) -> pd.DataFrame:
    """One row per cell that has a record, sorted by (dataset, detector, ratio, fraction, seed).

    ``unsaved`` holds records of this run whose cell file could not be written: they are
    reported (as failed, with the reason) so that the summary accounts for every cell run.
    ``previous`` (:func:`previous_records`) holds the records of the folder's results.csv by
    cell key, the record of a cell whose file the cache lacks: a fresh clone carries
    results.csv but not cells/, and a run stopped part way must not shrink the table to
    the cells it reached. A key covers the cell's configuration and code, so such a row is
    that cell's result as surely as its file would be.
    """
    unsaved, previous = unsaved or {}, previous or {}
    rows = []
    for cell in cells:
        rec = unsaved.get(cell.key) or cache.get(cell.key) or previous.get(cell.key)
        if rec is None:
            continue
        row = {col: rec.get(col) for col in RESULT_COLUMNS}
        row.update(_identity(cell))
        row["error"] = rec.get("error") or ""
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    if len(frame):
        frame = frame.sort_values(list(ID_COLUMNS), kind="stable").reset_index(drop=True)
    return frame


def previous_records(path: Path, *, strict: bool = False) -> dict[str, dict]:
    """The rows of results.csv at ``path`` as records by cell key, with the types a cell file
    gives them (so the rows are written back as they were); empty when there is no file.

    A file that cannot be read (one bad byte, a row cut short) would lose every row it holds
    when results.csv is rebuilt, so it is never passed over in silence: a warning names the
    file and the fault, and with ``strict`` (``--keep-rows``, which exists to keep those
    rows) it is a ValueError instead.
    """
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return {}  # no file (or --out is no folder: the writable check says so), no rows
    try:
        frame, faults = _text_and_faults(path)
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        frame, faults = None, [(-1, str(exc))]
    if not faults:
        return records_by_cell(frame)
    problem = f"{path} cannot be read ({faults[0][1]}); its rows cannot be kept"
    if strict:
        raise ValueError(f"{problem}: repair or remove the file, or run without "
                         "--keep-rows to compute its cells again") from None
    if frame is None or any(position < 0 for position, _ in faults):
        log.warning("%s: the cells without a file in cells/ are computed again", problem)
        return {}
    # one row cut short must not cost a run without --keep-rows the rows it can still carry
    log.warning("%s has damaged rows (%s): they are left out and their cells computed "
                "again; the other rows are kept", path, faults[0][1])
    return records_by_cell(frame.drop(index=[position for position, _ in faults]))


def _text_and_faults(path: Path) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """The results table at ``path`` with every value as text (an empty cell is ``""``) and
    its damaged rows (:func:`damaged_rows`), or a ValueError when pandas cannot read it."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"not a readable CSV: {type(exc).__name__}: {exc}") from None
    return frame, damaged_rows(path)


def read_results_text(path: Path) -> pd.DataFrame:
    """The results table at ``path`` with every value as text (an empty cell is ``""``), or
    a ValueError saying what is wrong with it: not UTF-8 CSV, or a damaged row
    (:func:`damaged_row`). Its message leaves the path to the caller, who names the file."""
    frame, faults = _text_and_faults(path)
    if faults:
        raise ValueError(faults[0][1])
    return frame


#: the fields every row of a results table must fill, where the table has them
REQUIRED_FIELDS = ("cell_id", "status")


def damaged_row(path: Path) -> str:
    """The first row of the CSV at ``path`` with more or fewer fields than its header, or
    with an empty ``cell_id`` or ``status``, as "line N ..."; "" when every row is whole.

    Why: pandas fills the missing fields of a row cut short (a write stopped by a kill or a
    full disk) with empty values and reads it without complaint, so a report would count
    it and a rebuild of results.csv would write the damage back.
    """
    faults = damaged_rows(path)
    return faults[0][1] if faults else ""


def damaged_rows(path: Path) -> list[tuple[int, str]]:
    """Every damaged row of the CSV at ``path`` (:func:`damaged_row`) as (its position among
    the rows pandas reads, what is wrong); a file the csv module cannot read at all is one
    entry at position -1."""
    csv.field_size_limit(_FIELD_LIMIT)  # an error text may be long; pandas has no limit
    faults = []
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            text = fh.read()
        # each line as written, to tell a blank line (pandas skips it) from a quoted empty
        # field '""' (pandas reads it as a row), which the parsed fields cannot tell apart
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, [])
        required = [(i, c) for i, c in enumerate(header) if c in REQUIRED_FIELDS]
        typed = [(i, c) for i, c in enumerate(header) if c in INT_COLUMNS + FLOAT_COLUMNS]
        position = -1
        for row in reader:
            if len(row) <= 1 and not lines[reader.line_num - 1].strip():
                continue  # a blank line (or one of spaces), which pandas skips too; ",,,"
                # and '""' are rows to pandas, and damaged here
            position += 1
            if len(row) != len(header):
                faults.append((position, f"line {reader.line_num} has {len(row)} field(s) "
                               f"where the header has {len(header)} (a row cut short?)"))
                continue
            empty = [c for i, c in required if not row[i].strip()]
            if empty:
                faults.append((position, f"line {reader.line_num} has no "
                               f"{' and no '.join(empty)}"))
                continue
            wrong = _untyped_field(row, header, typed)
            if wrong:
                faults.append((position, f"line {reader.line_num}: {wrong}"))
    except (csv.Error, UnicodeDecodeError) as exc:
        return [(-1, f"not a readable CSV: {exc}")]
    return faults


#: the largest field the csv module reads (its default would call a long error text damage)
_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)


def _typed_value(col: str, text: str):
    """The value a cell file holds for ``text`` in column ``col``: an int, a float, a string,
    or None for an empty number; a ValueError or OverflowError where the text is none."""
    if text == "":
        return "" if col == "error" else None
    if col in INT_COLUMNS:
        try:
            return int(text)
        except ValueError:  # "707.0" where a missing value made the column float
            return int(float(text))
    if col in FLOAT_COLUMNS:
        return float(text)
    return text


def _untyped_field(row: list[str], header: list[str], typed: list[tuple[int, str]]) -> str:
    """What is wrong with the first number of ``row`` that cannot be read as its column's type
    (``typed``: index and name of each number column), naming the cell where the header
    has its dataset, detector and seed; "" when every number can be read."""
    for i, col in typed:
        try:
            _typed_value(col, row[i].strip())
        except (ValueError, OverflowError):
            names = [c for c in ("dataset", "detector", "seed") if c in header]
            cell = " / ".join(row[header.index(c)] for c in names)
            return (f"column {col!r} holds {row[i]!r}, which is not a number"
                    + (f" (cell {cell})" if cell else ""))
    return ""


def records_by_cell(frame: pd.DataFrame) -> dict[str, dict]:
    """:func:`previous_records` of a results table already read as text (``dtype=str``,
    ``keep_default_na=False``); a row whose values cannot be typed is left out (the readers
    name it first: :func:`damaged_rows`)."""
    if "cell_id" not in frame:
        return {}
    records = {}
    for row in frame.to_dict("records"):
        try:
            records[row["cell_id"]] = {col: _typed_value(col, text) for col, text in row.items()}
        except (ValueError, OverflowError):  # a damaged row leaves the table until its cell runs
            continue
    return records


def typed_results(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with one dtype per column: nullable integers, floats and strings.

    Why: a CSV reader guesses types, and a column of a sweep whose cells all failed reads as
    empty text; results.parquet keeps the types whatever the rows hold. A missing text value
    is the empty string, as in the CSV, whether the row was computed now (``""``) or carried
    from an earlier results.csv (``None``), so the same cells give the same file.
    """
    out = frame.copy()
    for col in out.columns:
        if col in INT_COLUMNS:
            out[col] = pd.to_numeric(out[col]).astype("Int64")
        elif col in FLOAT_COLUMNS:
            out[col] = pd.to_numeric(out[col]).astype("float64")
        else:
            out[col] = out[col].astype("string").fillna("")
    return out


def results_parquet(frame: pd.DataFrame) -> bytes:
    """The bytes of results.parquet (zstd) for ``frame``."""
    buf = io.BytesIO()
    typed_results(frame).to_parquet(buf, index=False, compression="zstd")
    return buf.getvalue()


def write_results(folder: Path, frame: pd.DataFrame, config=None) -> Path:
    """Write ``results.csv``, ``results.parquet`` (and the resolved config) atomically under
    the folder lock. ``config`` is the :class:`~benchmarks.config.SweepConfig` that ran."""
    path = folder / "results.csv"
    with folder_lock(folder):
        atomic_write_text(path, frame.to_csv(index=False))
        atomic_write_bytes(folder / "results.parquet", results_parquet(frame))
        if config is not None:
            atomic_write_text(folder / "config.yaml", _config_yaml(config))
    return path


def recorded_path(path) -> str:
    """``path`` (as given, relative to the folder the command runs in) as a sweep's
    config.yaml records it: relative to the repository when it lies inside it, so that
    committed files name no machine's folders, else absolute, so that a report or a rerun
    started in another folder finds it."""
    plain = Path(os.path.abspath(path))  # a link inside the repository stays inside it
    if not (plain.exists() and os.path.samefile(plain, path)):
        plain = Path(path).resolve()  # "link/.." is not the link's folder: follow the link
    for full in (plain, plain.resolve()):
        try:
            return full.relative_to(PROJECT_ROOT).as_posix()
        except ValueError:
            continue
    return plain.as_posix()


def resolve_recorded(path) -> Path:
    """A path config.yaml recorded (:func:`recorded_path`): absolute as it is, else inside the
    repository; one written before paths were recorded so, relative to the folder the run
    started in, is tried from here last."""
    path = Path(path)
    if path.is_absolute() or not (PROJECT_ROOT / path).exists():
        return path
    return PROJECT_ROOT / path


def _config_yaml(config) -> str:
    import yaml

    doc = {
        "name": config.name,
        "source": recorded_path(config.source) if config.source else config.source,
        "seeds": list(config.seeds),
        "n_jobs": config.n_jobs, "time_limit": config.time_limit, "plugins": list(config.plugins),
        "datasets": [{"label": d.label, "dataset": d.dataset, "preset": d.preset,
                      "split": d.split, "dataset_params": d.dataset_params,
                      "anomaly_ratios": list(d.anomaly_ratios),
                      "labelled_fractions": list(d.labelled_fractions)} for d in config.datasets],
        "detectors": [{"label": d.label, "name": d.name, "params": d.params,
                       **({"tuned": d.group, "per_dataset": d.per_dataset,
                           "overrides": d.overrides} if d.per_dataset else {})}
                      for d in config.detectors],
        "tuning": (None if config.tuning is None
                   else [recorded_path(t) for t in config.tuning]),
    }
    return "# resolved sweep config written by pugan-bench run\n" + yaml.safe_dump(
        _plain(doc), sort_keys=False)


def read_resolved_config(folder: str | Path) -> dict:
    """The resolved config a sweep folder's run wrote (:func:`write_results`), as a dict:
    what the report, the settings table and ``rerun`` read. A missing file is a
    ``FileNotFoundError``; a file that is not YAML, or not such a config, a ``ValueError``
    naming it."""
    from benchmarks.yamlfile import read_yaml_file

    path = Path(folder) / "config.yaml"
    try:
        doc = read_yaml_file(path, "`pugan-bench run` writes it")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} not found: is {Path(folder)} a sweep folder?") from None
    if not (isinstance(doc, dict) and isinstance(doc.get("detectors"), list)
            and isinstance(doc.get("datasets"), list)):
        raise ValueError(f"{path} is not a resolved sweep config (no detectors and datasets "
                         "lists); `pugan-bench run` writes it")
    return doc


def _plain(obj):
    """Plain YAML-safe values (tuples -> lists) via canonical JSON."""
    return json.loads(canonical_json(obj))


#: one line per run of a sweep (:func:`record_run`)
RUNS_FILE = "runs.jsonl"


def record_run(folder: Path, **fields) -> None:
    """Append one line to ``DIR/runs.jsonl`` for this run of the sweep: the config, how many
    cells it held, found cached and ran, its workers, the machine's cores, its wall time, the
    sum of its cells' times and the code versions of its rows. The report states a sweep's
    cost from these lines (a run that found nothing cached measured the whole sweep, with the
    code its versions name), not from a log to parse. A run stopped before its end (Ctrl-C,
    SIGTERM or an error) says so in ``stopped``: it measured only the cells it stored.

    The sweep calls it only for a run in which at least one cell ran: the file is committed
    for some sweeps, and a rerun that found every cell cached measured nothing, so its line
    would only change the working tree."""
    line = json.dumps({"finished": time.strftime("%Y-%m-%dT%H:%M:%S"), **fields},
                      sort_keys=True)
    path = folder / RUNS_FILE
    try:
        with open(path, "a+b") as fh:   # opened at its end; only the last byte is read
            cut = False
            if fh.tell():
                fh.seek(-1, io.SEEK_END)
                cut = fh.read(1) != b"\n"   # a line cut short: start this run's on a new one
            fh.write((("\n" if cut else "") + line + "\n").encode("utf-8"))
    except OSError as exc:  # the cells and results.csv are saved: say what is missing, go on
        log.warning("%s: this run's line could not be written (%s); the report's cost "
                    "sentence will leave this run out and use the other runs' lines only (a "
                    "partly written line is skipped when the file is read)", path, exc)


def read_runs(folder: str | Path) -> pd.DataFrame:
    """The runs a sweep folder recorded (:func:`record_run`), oldest first; empty without.

    A line that is not JSON (an append cut short, e.g. by a full disk) is skipped with one
    warning naming the file and how many lines it skipped: it must not cost the other runs."""
    path = Path(folder) / RUNS_FILE
    if not path.is_file():
        return pd.DataFrame()
    lines, bad = [], 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            bad += 1
    if bad:
        log.warning("%s: skipped %d line(s) that are not JSON (a run's line cut short?); "
                    "the cost is stated from the other runs", path, bad)
    return pd.DataFrame(lines)
