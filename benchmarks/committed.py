"""The repository's committed sweep folders, and the command that fills a sweep folder.

A committed sweep is told by its location, never by its name: a user's own folder called
``paper`` is not the paper sweep, and the reports must neither overwrite the committed tables
with it nor offer ``make reproduce-paper`` (which rewrites the repository's sweep) as the way
to regenerate it.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from benchmarks.cells import PROJECT_ROOT

__all__ = ["COMMITTED_SWEEPS", "is_committed_sweep", "run_command_line", "sweep_command"]

#: each committed sweep folder (relative to the repository) and the make target that fills it
COMMITTED_SWEEPS = {"results/paper": "make reproduce-paper",
                    "results/imbalance": "make sweep-imbalance",
                    "results/unknown_types": "make unknown-types",
                    "results/benchmark": "make benchmark"}



def _committed_key(folder) -> str | None:
    where = Path(folder).resolve()
    return next((key for key in COMMITTED_SWEEPS if where == (PROJECT_ROOT / key).resolve()),
                None)


def is_committed_sweep(folder) -> bool:
    """Whether ``folder`` is one of the repository's committed sweeps (by location)."""
    return _committed_key(folder) is not None


def sweep_command(folder) -> str:
    """The command that fills ``folder``: a committed sweep's make target; for a copy that
    ``pugan-bench rerun`` made (it holds the rerun's moves.csv), that command, since a plain
    run of the copy's config would compute every cell here; else ``pugan-bench run`` on the
    config its config.yaml names as its source (``CONFIG`` where it names none)."""
    key = _committed_key(folder)
    if key is not None:
        return COMMITTED_SWEEPS[key]
    if (Path(folder) / "moves.csv").is_file():
        return f"pugan-bench rerun SOURCE {shlex.quote(str(folder))} --detector LABEL ..."
    from benchmarks.results import read_resolved_config

    try:
        source = read_resolved_config(folder).get("source") or None
    except (OSError, ValueError):
        source = None
    return run_command_line(source, folder)


def run_command_line(config, out) -> str:
    """``pugan-bench run CONFIG --out OUT``, quoted for a shell; ``CONFIG`` where the config
    file is not known."""
    named = shlex.quote(str(config)) if config else "CONFIG"
    return f"pugan-bench run {named} --out {shlex.quote(str(out))}"
