"""The on-disk cell cache of a sweep folder: one JSON file per finished cell, written atomically.

Layout of a sweep folder ``DIR``::

    DIR/cells/<key>.json   one per cell that ran (any status), key = Cell.key
    DIR/cells/<key>.log    what the cell's detector printed (only when it printed something)
    DIR/cells/<key>.scores.parquet   an ok cell's per-test-record score, y_test, threshold
                           label and anomaly type (zstd Parquet; :func:`read_cell_scores`)
    DIR/run.log            one line per finished cell, appended by each run
    DIR/results.csv        one row per cell of the last run's config, rebuilt from cells/
    DIR/results.parquet    the same rows with typed columns
    DIR/config.yaml        the resolved config of the last run (provenance)
    DIR/.lock              fcntl lock taken around results.csv / config.yaml writes

A cell file is written to a temporary file in the same folder, flushed, fsynced and moved into
place with ``os.replace``, so a reader (or a second run) sees either no file or a whole one, and
killing the run at any moment (Ctrl-C, ``kill -9``) loses at most the cells still running.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import os
import tempfile
from pathlib import Path

__all__ = ["CellCache", "atomic_write_bytes", "atomic_write_text", "check_writable",
           "folder_lock", "read_cell_scores", "record_problem"]

log = logging.getLogger(__name__)


@functools.cache
def _file_mode() -> int:
    """0644 less the umask (mkstemp's own files are 0600, unreadable by the group)."""
    mask = os.umask(0o22)
    os.umask(mask)
    return 0o644 & ~mask


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` so that no reader ever sees a partial file.

    The file is readable as any file the user creates (``0644`` under the usual umask), so a
    group sharing a sweep folder can read it.
    """
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` as :func:`atomic_write_text` does (whole or not at all)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _file_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def folder_lock(folder: str | Path):
    """An exclusive advisory lock on ``folder/.lock`` (blocks until free)."""
    lock_path = Path(folder) / ".lock"
    with open(lock_path, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def check_writable(folder: str | Path) -> Path:
    """Create ``folder`` (and cells/) if needed; raise a ValueError naming it if not writable."""
    folder = Path(folder)
    try:
        (folder / "cells").mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder / "cells", prefix=".probe.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"output folder {str(folder)!r} is not writable: {exc}") from None
    return folder


#: statuses a cell record may hold
RECORD_STATUSES = ("ok", "failed", "timeout", "skipped")


def record_problem(rec) -> str:
    """What is wrong with a cell record read back from disk ("" when nothing)."""
    from benchmarks.metrics import METRIC_COLUMNS

    if not isinstance(rec, dict):
        return f"a JSON {type(rec).__name__}, not a record"
    status = rec.get("status")
    if status not in RECORD_STATUSES:
        return f"status {status!r} is not one of {list(RECORD_STATUSES)}"
    if status == "ok":
        missing = [m for m in METRIC_COLUMNS if not isinstance(rec.get(m), int | float)
                   or isinstance(rec.get(m), bool)]
        if missing:
            return f"status ok without the metric(s) {missing}"
    return ""


def identity_problem(rec: dict, key: str) -> str:
    """Whether a record read from ``key``'s file names another cell ("" when not).

    A cell file copied or renamed under another cell's name would otherwise be trusted as
    that cell's result. Records written by a run carry ``key`` and rows carried from
    results.csv carry ``cell_id``; whichever the record holds must be ``key``.
    """
    for field in ("key", "cell_id"):
        named = rec.get(field)
        if named is not None and named != "" and str(named) != key:
            return f"its {field} is {named!r}, not the cell {key!r} its file name says"
    return ""


class CellCache:
    """Finished cells of one sweep folder, by cache key."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.cells_dir = self.folder / "cells"

    def path(self, key: str) -> Path:
        return self.cells_dir / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The stored record of ``key``, or None (a missing, unreadable or damaged file).

        A damaged file (not UTF-8, not JSON, not a record, an ``ok`` record without its
        metrics, or a record whose ``key`` or ``cell_id`` names another cell) is never
        trusted: it is reported with a warning naming it and the cell runs again.
        """
        p = self.path(key)
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:  # ValueError: bad JSON or bad UTF-8
            log.warning("ignoring unreadable cell file %s (%s); the cell will run again", p, exc)
            return None
        problem = record_problem(rec) or identity_problem(rec, key)
        if problem:
            log.warning("ignoring damaged cell file %s (%s); the cell will run again", p,
                        problem)
            return None
        return rec

    def put(self, key: str, record: dict) -> None:
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path(key), json.dumps(record, sort_keys=True, indent=1,
                                                     allow_nan=True))

    def log_path(self, key: str) -> Path:
        return self.cells_dir / f"{key}.log"

    def put_log(self, key: str, text: str) -> None:
        """Store what the cell's detector printed; with nothing printed, remove an earlier
        run's log, which would otherwise read as this run's output."""
        if text:
            self.cells_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.log_path(key), text)
        else:
            with contextlib.suppress(FileNotFoundError):
                self.log_path(key).unlink()

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.cells_dir.glob("*.json"))

    def scores_path(self, key: str) -> Path:
        return self.cells_dir / f"{key}.scores.parquet"

    def put_scores(self, key: str, columns: dict) -> None:
        """Store an ok cell's per-test-record arrays (see :data:`SCORE_COLUMNS`)."""
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.scores_path(key), scores_parquet(columns, key))

    def drop_scores(self, key: str) -> None:
        """Remove the scores file of ``key``, if any (its record is no longer ok)."""
        with contextlib.suppress(FileNotFoundError):
            self.scores_path(key).unlink()

    def get_scores(self, key: str):
        """The per-test-record frame of ``key``, or None when the cell has no scores file.

        A file that exists but cannot be read as one, or whose ``cell_id`` metadata names
        another cell, is a ``ValueError`` naming it.
        """
        path = self.scores_path(key)
        if not path.is_file():
            return None
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises its own error types for a damaged file
            raise ValueError(f"cannot read cell scores file {path}: {exc}") from None
        missing = [c for c in SCORE_COLUMNS if c not in table.column_names]
        if missing:
            raise ValueError(f"cell scores file {path} lacks the column(s) {missing}")
        named = scores_cell_id(table)
        if named and named != key:
            raise ValueError(f"cell scores file {path} holds the scores of cell {named!r}, "
                             f"not of {key!r}")
        return table.to_pandas()


#: columns of a cell's scores file, one row per test record in the split's order:
#: the detector's score (float32), the true label (int8, 1 = anomaly) and the label at the
#: detector's threshold (int8); ``anomaly_type`` (string) follows when the split names types
SCORE_COLUMNS = ("score", "y_test", "label")


def scores_parquet(columns: dict, key: str = "") -> bytes:
    """The Parquet bytes (zstd) of one cell's per-test-record arrays.

    Scores are stored as float32 and labels as int8 to keep the file small: a metric
    recomputed from them agrees with the cell's own to float32 precision.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {"score": pa.array(np.asarray(columns["score"], dtype=np.float32)),
              "y_test": pa.array(np.asarray(columns["y_test"], dtype=np.int8)),
              "label": pa.array(np.asarray(columns["label"], dtype=np.int8))}
    lengths = {name: len(a) for name, a in arrays.items()}
    if columns.get("anomaly_type") is not None:
        types = pa.array([str(t) for t in columns["anomaly_type"]], type=pa.string())
        arrays["anomaly_type"] = types.dictionary_encode()
        lengths["anomaly_type"] = len(types)
    if len(set(lengths.values())) != 1:
        raise ValueError(f"cell {key}: per-record columns differ in length: {lengths}")
    table = pa.table(arrays).replace_schema_metadata({"cell_id": key})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def scores_cell_id(table) -> str:
    """The ``cell_id`` a scores table was written for ("" when it names none), so that a
    file copied under another cell's name is caught rather than read as that cell's."""
    meta = table.schema.metadata or {}
    return meta.get(b"cell_id", b"").decode("utf-8", "replace")


def read_cell_scores(folder: str | Path, key: str):
    """Per-test-record scores of cell ``key`` in sweep folder ``folder`` as a DataFrame.

    Columns: ``score`` (float32), ``y_test`` and ``label`` (int8), and ``anomaly_type`` when
    the split names types; one row per test record, in the split's order. None when the cell
    has no scores file: it did not finish ok, or it was cached before scores were kept.
    """
    return CellCache(folder).get_scores(key)
