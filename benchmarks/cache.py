"""The on-disk cell cache of a sweep folder: one JSON file per finished cell, written atomically.

Layout of a sweep folder ``DIR``::

    DIR/cells/<key>.json   one per cell that ran (any status), key = Cell.key
    DIR/results.csv        one row per cell of the last run's config, rebuilt from cells/
    DIR/config.yaml        the resolved config of the last run (provenance)
    DIR/.lock              fcntl lock taken around results.csv / config.yaml writes

A cell file is written to a temporary file in the same folder, flushed, fsynced and moved into
place with ``os.replace``, so a reader (or a second run) sees either no file or a whole one, and
killing the run at any moment (Ctrl-C, ``kill -9``) loses at most the cells still running.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
from pathlib import Path

__all__ = ["CellCache", "atomic_write_text", "check_writable", "folder_lock"]

log = logging.getLogger(__name__)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` so that no reader ever sees a partial file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
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


class CellCache:
    """Finished cells of one sweep folder, by cache key."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.cells_dir = self.folder / "cells"

    def path(self, key: str) -> Path:
        return self.cells_dir / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The stored record of ``key``, or None (a missing or unreadable file)."""
        p = self.path(key)
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as exc:
            log.warning("ignoring unreadable cell file %s (%s); the cell will run again", p, exc)
            return None

    def put(self, key: str, record: dict) -> None:
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path(key), json.dumps(record, sort_keys=True, indent=1,
                                                     allow_nan=True))

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.cells_dir.glob("*.json"))
