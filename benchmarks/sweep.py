"""The sweep driver: run every pending cell of a config, in parallel, into a sweep folder.

How a sweep runs (:func:`run_sweep`):

1. the config is validated and expanded into cells (:mod:`benchmarks.config`), the output
   folder checked for writing, all before any cell runs;
2. cells whose file ``DIR/cells/<key>.json`` holds status ``ok`` or ``skipped`` are done; every
   other cell (missing, ``failed``, ``timeout``) is pending: failures are recorded but retried
   on the next run (benchopt's rule), unless ``retry_failed=False``;
3. pending cells are ordered longest expected first (:mod:`benchmarks.scheduling`) and go
   through joblib (``loky`` locally, ``dask`` for a cluster), one task per cell:
   :func:`benchmarks.cell_runner.run_cell`, which isolates the fit in a child process. A
   fault of a cell becomes its ``failed``/``timeout`` record, and the sweep goes on; a lost
   worker process sends its round's unfinished cells again, and any other error of the
   harness or the cluster ends the sweep with its own message;
4. the driver writes each record as it arrives, atomically, to ``DIR/cells/<key>.json`` (an ok
   cell's test scores to ``DIR/cells/<key>.scores.parquet``), and at the end (or when
   Ctrl-C or an error stops the run) rebuilds ``DIR/results.csv`` and ``results.parquet``
   from the cell files under a folder lock (:mod:`benchmarks.results`). A cell without a
   file keeps the row that results.csv held for its key before the run: a fresh clone
   carries results.csv but not cells/, and a run stopped part way there recomputes some
   cells without dropping the rest.

Threads: each cell's child limits BLAS/OpenMP (threadpoolctl, ``OMP_NUM_THREADS``...) and
torch to ``threads_per_cell`` = ``max(1, cores // n_jobs)`` so workers do not oversubscribe; on
a Dask cluster each worker divides its own cores by its own thread count.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import platform
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from benchmarks.cache import CellCache, check_writable
from benchmarks.cell_runner import forkserver_preload, library_versions, run_cell
from benchmarks.cells import Cell
from benchmarks.config import SweepConfig, check_n_jobs
from benchmarks.errors import OutputFolderError, ResumableInterrupt, SchedulerUnreachable
from benchmarks.isolation import available_cores, error_text, exit_with_parent
from benchmarks.results import STATUSES, previous_records, record_run, results_frame, write_results
from benchmarks.scheduling import expected_seconds_lookup, longest_first, observed_seconds

__all__ = ["arithmetic_change", "arithmetic_text", "bfloat16_unit", "core_utilisation_text",
           "keep_rows_as_cells", "last_training_processor", "mixed_arithmetic_warning",
           "pending_cells", "processor_summary", "resolve_n_jobs", "run_sweep", "summary_line"]

log = logging.getLogger(__name__)

#: statuses of a finished cell, not rerun by a resumed sweep
DONE_STATUSES = ("ok", "skipped")

#: how long the driver tries to connect to a Dask scheduler before giving up
SCHEDULER_TIMEOUT = "10s"

#: after a lost worker, the cells that did not finish go out together again this many times,
#: then one at a time, each tried this many times before it is recorded as failed: a cell that
#: kills its worker alone is charged, the cells that ran beside it are not
SHARED_RETRIES = 1
SOLO_TRIES = 2


def _import_dask():
    """Dask's config module and its Client and LocalCluster; a ValueError naming the missing
    install when it is not there (the command line exits 2 with it)."""
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ValueError("--backend dask needs Dask: pip install 'pugan-bench[dask]'") from None
    return dask, Client, LocalCluster


def _connect_first(backend: str, scheduler: str | None):
    """The client of ``scheduler``, connected before anything in the output folder is
    written (None without a scheduler); for the dask backend, Dask imported likewise.

    Why first: a missing Dask install or an unreachable scheduler is an input error (exit 2)
    that must leave the folder as it was: met later, it would end the run after the close
    step had rewritten results.csv and config.yaml and logged the run as done.
    """
    if backend != "dask":
        return None
    _import_dask()
    return _dask_client(scheduler, 0)[0] if scheduler else None


#: how a stopped run resumes unless its caller says otherwise (a rerun does)
SAME_COMMAND = "the same command"
#: the same for a run that recomputes every cell: given again, it would discard what it kept
FORCED_COMMAND = "the same command without --force"


def _dask_client(scheduler: str | None, n_jobs: int):
    dask, Client, LocalCluster = _import_dask()

    if not log.isEnabledFor(logging.DEBUG):  # Dask logs every scheduler event at INFO
        for name in list(logging.root.manager.loggerDict):
            if name == "distributed" or name.startswith("distributed."):
                logging.getLogger(name).setLevel(logging.WARNING)

    if scheduler:
        try:
            return Client(scheduler, timeout=SCHEDULER_TIMEOUT), None
        except (OSError, TimeoutError) as exc:
            raise SchedulerUnreachable(
                f"cannot reach the Dask scheduler at {scheduler} within {SCHEDULER_TIMEOUT} "
                f"({type(exc).__name__}); is `dask scheduler` running there?") from None
    # non-daemonic local workers start cells from a forkserver (faster than a fresh interpreter)
    dask.config.set({"distributed.worker.daemon": False})
    cluster = LocalCluster(n_workers=n_jobs, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    # Ctrl-C is the driver's: it closes the cluster, which ends the workers
    client.register_plugin(_driver_takes_ctrl_c())
    return client, cluster


def _driver_takes_ctrl_c():
    """A Dask worker plugin that sets SIGINT aside in each local worker, a restarted one too.

    Why: a Ctrl-C in the terminal reaches every process of its group, and each local worker
    would print its own KeyboardInterrupt traceback before the driver's one-line message.
    """
    from distributed import WorkerPlugin

    class DriverTakesCtrlC(WorkerPlugin):
        name = "pugan-bench-driver-takes-ctrl-c"

        def setup(self, worker):
            import signal
            import threading

            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, signal.SIG_IGN)

    return DriverTakesCtrlC()


#: how :func:`processor_summary` joins the processor to the arithmetic and ends, which
#: :func:`arithmetic_text` reads back from recorded runs
_TRAINS_IN, _THERE = ", PU-GAN trains in ", " there"


def processor_summary(cpuinfo: str | Path = "/proc/cpuinfo", *, arithmetic: bool = True) -> str:
    """The processor a run's cells ran on, in words: its model (from ``cpuinfo`` on Linux,
    else what ``platform`` says) and, with ``arithmetic``, the arithmetic PU-GAN's
    ``precision="auto"`` trains in there (:func:`pugan.train.resolve_precision`, oneDNN's own
    check). A cell's time and PU-GAN's scores depend on both, so a recorded run says which it
    had; a sweep without a deep detector leaves the arithmetic out, and torch unimported."""
    model, flags = "", None
    try:
        for line in Path(cpuinfo).read_text(errors="replace").splitlines():
            key, sep, value = line.partition(":")
            key = key.strip().lower()
            if sep and key in ("model name", "hardware") and not model:
                model = value.strip()
            elif sep and key == "flags" and flags is None:
                flags = set(value.split())
    except OSError:
        pass
    model = model or platform.processor() or platform.machine() or "unknown processor"
    # oneDNN's instruction-set cap changes its kernels (and whether it reports bfloat16), so
    # a run under it is named as one: a stand-in for a processor without those instructions
    isa = (os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")
           or "").strip().upper()
    if isa and isa != "ALL":
        model = f"{model} (oneDNN held to {isa})"
    if not arithmetic:
        return model
    import torch

    from pugan.train import resolve_precision

    precision = resolve_precision("auto", torch.device("cpu"))
    unit = bfloat16_unit(flags, isa) if precision == "bfloat16" else ""
    return f"{model}{_TRAINS_IN}{precision}{f' on {unit}' if unit else ''}{_THERE}"


#: oneDNN instruction-set caps that keep AVX-512 BF16 within reach but not AMX
_BF16_VECTOR_CAPS = ("AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX10_1_512")


def bfloat16_unit(flags: set[str] | None, isa_cap: str = "") -> str:
    """Which of the processor's units multiplies PU-GAN's bfloat16 LSTMs: ``"AMX tiles"``
    where it has them (cpuinfo flag ``amx_bf16``) and oneDNN's cap leaves them in reach,
    ``"AVX-512 BF16"`` where it has only the vector instructions or the cap stops below AMX,
    ``""`` where the flags are unknown or the cap leaves oneDNN neither (its reference kernel).
    oneDNN picks its LSTM kernel by the same rule, and the two kernels round
    differently, so the same cell gives other last digits on each: a run says which it had.
    """
    if not flags:
        return ""
    cap = isa_cap.strip().upper()
    free = cap in ("", "ALL")
    if "amx_bf16" in flags and (free or "AMX" in cap):
        return "AMX tiles"
    # a cap below AVX512_CORE_BF16 leaves oneDNN its reference LSTM kernel: no unit to name
    if "avx512_bf16" in flags and (free or "AMX" in cap or cap in _BF16_VECTOR_CAPS):
        return "AVX-512 BF16"
    return ""


#: what a run on a processor with AMX can be held to so that its bfloat16 kernels are those
#: of a processor with AVX-512 BF16 alone
_MATCHING_CAP = {("bfloat16 on AMX tiles", "bfloat16 on AVX-512 BF16"): "AVX512_CORE_BF16"}


def arithmetic_text(processor: str | None) -> str | None:
    """The arithmetic part of a :func:`processor_summary` ("bfloat16 on AMX tiles",
    "float32"), or None where the text names none (a sweep without a deep detector, a
    cluster's run). Runs recorded before the unit was named say "bfloat16" alone; on an AMD
    processor that can only be AVX-512 BF16 (AMD has no AMX tiles), so it is named so."""
    if not isinstance(processor, str) or _TRAINS_IN not in processor:
        return None
    arithmetic = processor.rsplit(_TRAINS_IN, 1)[1].removesuffix(_THERE)
    if arithmetic == "bfloat16" and processor.startswith("AMD"):
        return "bfloat16 on AVX-512 BF16"
    return arithmetic


def arithmetic_change(earlier: str | None, now: str | None) -> tuple[str, str, str] | None:
    """(earlier arithmetic, current arithmetic, the oneDNN cap that makes this machine train
    as the earlier one did, or "") where two :func:`processor_summary` texts name different
    arithmetics; None where they agree, one names none, or both are bfloat16 and one does not
    say on which unit."""
    before, current = arithmetic_text(earlier), arithmetic_text(now)
    if before is None or current is None or before == current:
        return None
    if "bfloat16" in {before, current} and before.split()[0] == current.split()[0]:
        return None  # bfloat16 on an unnamed unit: it may be this one
    return before, current, _MATCHING_CAP.get((current, before), "")


def last_training_processor(folder: Path) -> str | None:
    """The processor text of the last run recorded in ``folder`` (``runs.jsonl``) that names
    the arithmetic PU-GAN trained in, or None where no run names one. Runs that name none (a
    cluster's, whose workers' processors are not known here, or a sweep without a deep
    detector) are passed over: the folder's PU-GAN cells still carry the arithmetic of the
    last run that named one."""
    from benchmarks.results import read_runs

    runs = read_runs(folder)
    if runs.empty or "processor" not in runs:
        return None
    named = [text for text in runs["processor"] if arithmetic_text(text) is not None]
    return named[-1] if named else None


def mixed_arithmetic_warning(folder: Path, now: str) -> str | None:
    """Why a run that keeps earlier cells beside new ones would mix two arithmetics, or None.

    The last run of ``folder`` that names its arithmetic (:func:`last_training_processor`)
    trained PU-GAN in another one than this machine (``now``, a :func:`processor_summary`):
    a bfloat16 kernel on AMX tiles and one on AVX-512 BF16 round differently, and float32
    differs from both, so a single PU-GAN cell moves with the machine. Mixing them leaves a
    folder no one machine reproduces; where oneDNN can be held to the earlier kernel, the
    text says how."""
    last = last_training_processor(folder)
    change = arithmetic_change(last, now)
    if change is None:
        return None
    earlier, current, cap = change
    how = (f"run with ONEDNN_MAX_CPU_ISA={cap} to train as they did" if cap
           else f"run it where PU-GAN trains in {earlier}, or into an empty folder to compute "
                "every cell here")
    return (f"{folder}: its cells so far trained PU-GAN in {earlier} (its last run that says: "
            f"{last}); this machine trains it in {current}, which rounds differently, so the "
            f"new cells would sit beside cells no one machine reproduces: {how}")


@functools.cache
def _auto_precision_pugan(detector_name: str, params_json: str) -> bool:
    """Whether a detector is a PU-GAN whose arithmetic the machine chooses
    (``precision="auto"``); one that pins its precision trains alike everywhere it runs.

    Building a PU-GAN imports its module, so where building the detector left PU-GAN's module
    unimported it is no PU-GAN; a sweep of shallow baselines then never loads torch for this.
    """
    import json
    import sys

    from benchmarks.registry import make_detector

    try:
        detector = make_detector(detector_name, **json.loads(params_json))
    except Exception:  # its cells fail alike on every machine: no arithmetic to mix
        return False
    pugan_module = sys.modules.get("pugan.detector")
    return (pugan_module is not None and isinstance(detector, pugan_module.PUGAN)
            and detector.precision == "auto")


def _mixes_auto_precision_pugan(cells: list[Cell], pending: list[Cell]) -> bool:
    """Whether this run computes PU-GAN cells of the machine's arithmetic beside such cells
    it keeps: only then can the folder end up with two arithmetics."""
    pending_keys = {cell.key for cell in pending}

    def auto(cell):
        return _auto_precision_pugan(cell.detector_name, cell.detector_params_json)

    return (any(auto(c) for c in pending)
            and any(auto(c) for c in cells if c.key not in pending_keys))


def _has_deep_detector(config: SweepConfig) -> bool:
    """Whether the sweep has a deep (torch) detector: its run names the arithmetic PU-GAN
    would train in, which a sweep of PU-GAN or a variant needs and which costs a sweep that
    loads torch anyway nothing; a sweep of shallow baselines never imports torch for it."""
    return any(_is_deep(d.name) for d in config.detectors)


def keep_rows_as_cells(cells: list[Cell], previous: dict[str, dict],
                       cache: CellCache) -> int:
    """Store each row of results.csv (``previous``, by cell key) whose cell this config has
    and whose cell file is missing as that file; returns how many were stored.

    A fresh clone holds results.csv but not ``cells/``, so a changed config (a new tuning
    choice, a detector added) would otherwise compute every cell again. A row is kept only
    under the key the config gives its cell now, which covers the code, the libraries, the
    data and every setting, so a row of anything that changed is computed again. A row holds
    no per-record scores, so a kept cell draws no curve until it runs again.
    """
    stored = 0
    for cell in cells:
        record = previous.get(cell.key)
        if record is not None and cache.get(cell.key) is None:
            cache.put(cell.key, record)
            stored += 1
    return stored


def _warn_of_rows_leaving(folder: Path, cells: list[Cell], previous: dict,
                          cache: CellCache) -> None:
    """Say so when results.csv holds rows of cells this config does not have (another sweep
    run into the folder, or fewer seeds than the last run): it is about to be rebuilt from
    this config's cells, so those rows leave it. Rerunning their config brings back those
    whose cell files are in cells/; the others (a fresh clone has no cells/) are computed
    again."""
    leaving = set(previous) - {cell.key for cell in cells}
    if leaving:
        lost = sum(1 for key in leaving if cache.get(key) is None)
        log.warning("%d row(s) of %s are of cells this config does not have now (another "
                    "config, other seeds, or code or settings changed since they ran): they "
                    "leave it; %d of them have their cell in %s, and the other %d would be "
                    "computed again by the run that made them", len(leaving),
                    folder / "results.csv", len(leaving) - lost, folder / "cells", lost)


def resolve_n_jobs(config: SweepConfig, n_jobs: int | None, scheduler: str | None) -> int:
    """The parallel cells a sweep runs: ``n_jobs``, or the config's when None; a positive
    integer or -1 (all cores), and on this machine not far above its cores. Callers that
    write before they sweep (``rerun``) check it first through here."""
    n_jobs = config.n_jobs if n_jobs is None else n_jobs
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive integer or -1; got {n_jobs!r}")
    if not scheduler:  # workers on this machine
        check_n_jobs(n_jobs, available_cores())
    return n_jobs


def run_sweep(config: SweepConfig, out: str | Path, *, n_jobs: int | None = None,
              backend: str = "loky", scheduler: str | None = None, retry_failed: bool = True,
              force: bool = False, isolate: bool = True, threads_per_cell: int | None = None,
              progress: bool = True, timings_from: str | Path | None = None,
              keep_rows: bool = False, resume: str | None = None) -> pd.DataFrame:
    """Run every cell of ``config`` into folder ``out``; return the results frame.

    Parameters
    ----------
    config : a validated :class:`~benchmarks.config.SweepConfig`.
    out : the sweep folder (created); holds ``cells/`` and ``results.csv``.
    n_jobs : parallel cells (default: the config's ``n_jobs``; -1 = all cores).
    backend : "loky" (local processes) or "dask" (``scheduler`` address, or a LocalCluster of
        ``n_jobs`` single-threaded workers when no address is given).
    retry_failed : rerun cells recorded as failed or timeout (default True).
    force : rerun every cell, ignoring the cache.
    isolate : fit and score each cell in a child process (time limit, crash isolation).
    threads_per_cell : BLAS/torch threads per cell (default ``max(1, cores // n_jobs)``; on a
        Dask cluster, each worker's cores divided by its thread count).
    progress : show a tqdm bar on stderr.
    timings_from : another sweep's results.csv whose cell times order the pending cells where
        this folder has none of its own (a rerun passes the sweep it copies).
    keep_rows : take each row of ``out/results.csv`` whose cell has no file in ``cells/`` as
        that cell's result (:func:`keep_rows_as_cells`), so that only new cells run.
    resume : how to resume the run if it is stopped, for run.log and the
        :class:`~benchmarks.errors.ResumableInterrupt` it raises (default: the same command,
        less ``--force`` where it was given; a rerun's differs, since rerun refuses a folder
        that exists).
    """
    _check_run_options(backend, scheduler, threads_per_cell)
    client = _connect_first(backend, scheduler)
    try:
        return _run_connected(config, out, client, n_jobs=n_jobs, backend=backend,
                              scheduler=scheduler, retry_failed=retry_failed, force=force,
                              isolate=isolate, threads_per_cell=threads_per_cell,
                              progress=progress, timings_from=timings_from,
                              keep_rows=keep_rows,
                              resume=resume or (FORCED_COMMAND if force else SAME_COMMAND))
    finally:
        if client is not None:
            client.close()


def _run_connected(config: SweepConfig, out, client, *, n_jobs, backend, scheduler,
                   retry_failed, force, isolate, threads_per_cell, progress, timings_from,
                   keep_rows, resume) -> pd.DataFrame:
    """:func:`run_sweep` once its scheduler, if any, answers (``client``)."""
    from tqdm.auto import tqdm

    # checked before anything is written: a bad n_jobs leaves no folder behind, and
    # --keep-rows stops on a results.csv it cannot read
    n_jobs = resolve_n_jobs(config, n_jobs, scheduler)
    previous = previous_records(Path(out) / "results.csv", strict=keep_rows and not force)
    folder = check_writable(out)
    cells = config.cells()
    cores = available_cores()
    cache = CellCache(folder)
    if keep_rows and not force:
        kept = keep_rows_as_cells(cells, previous, cache)
        log.info("kept %d row(s) of %s as their cells' results (a failed or timed-out one "
                 "runs again where failed cells are retried, as they are by default)", kept,
                 folder / "results.csv")
    _warn_of_rows_leaving(folder, cells, previous, cache)
    pending = pending_cells(cells, {cell.key: cache.get(cell.key) for cell in cells},
                            force=force, retry_failed=retry_failed,
                            results_csvs=(folder / "results.csv", timings_from))
    if not scheduler and _mixes_auto_precision_pugan(cells, pending):
        mixed = mixed_arithmetic_warning(folder, processor_summary())
        if mixed:
            log.warning(mixed)
    # no more workers than cells to run; threads per cell follow the requested n_jobs, not
    # how many cells are left, so a resumed run computes each cell as a full run does
    requested = cores if n_jobs == -1 else n_jobs
    n_workers = max(1, min(requested, len(pending)))
    # on a Dask cluster each worker divides its own cores (threads=None)
    threads = threads_per_cell or (None if backend == "dask" and scheduler
                                   else max(1, cores // requested))
    n_keys = _n_cells(cells)
    log.info("sweep %r: %d cells, %d cached, %d to run (workers: %s, backend=%s, "
             "%s thread(s) per cell, time limit %s)", config.name, n_keys,
             n_keys - len(pending), len(pending),
             "the cluster's threads" if scheduler else n_workers, backend,
             threads or "the worker's", _time_limit_text(config.time_limit, isolate))
    task = functools.partial(run_cell, time_limit=config.time_limit, threads=threads,
                             plugins=config.plugins, isolate=isolate,
                             preload=forkserver_preload(d.name for d in config.detectors))
    bar = tqdm(total=len(pending), disable=not progress or not pending, unit="cell",
               desc=config.name, smoothing=0.1)
    sink = _Sink(cache, bar, _RunLog(folder, echo=not progress), workers=n_workers,
                 cores=cores, resume=resume)
    t_start = time.perf_counter()
    try:
        _dispatch(pending, task, sink, backend=backend, scheduler=scheduler,
                  n_workers=n_workers, client=client)
    except KeyboardInterrupt:
        sink.interrupted = True
        raise ResumableInterrupt(resume, folder / "cells") from None
    except Exception as exc:  # the harness's or the cluster's: the run stops, not done
        sink.error = " ".join(error_text(exc).split())  # one line in run.log
        raise
    finally:
        wall = time.perf_counter() - t_start
        bar.close()
        if sink.started or sink.interrupted:
            frame, done, results_error = _close_run(
                config, folder, cells, previous, sink, n_pending=len(pending),
                workers=sink.workers, cores=sink.cores, wall=wall, on_cluster=bool(scheduler))
        else:  # the cluster never started (so an error is leaving): no cell ran, and
            # results.csv, config.yaml and runs.jsonl are left as they were
            sink.run_log.close()
    log.info("%s; results in %s", done, folder / "results.csv")
    if sink.unsaved or results_error is not None:
        raise _unsaved_error(folder, sink.unsaved, results_error)
    return frame


def _time_limit_text(time_limit: float | None, isolate: bool) -> str:
    """A run's time limit as its start line states it: a cell run without isolation cannot
    be stopped, so its limit does not hold."""
    if not time_limit:
        return "none"
    return f"{time_limit:g} s" if isolate else "none (cells run without isolation)"


def _check_run_options(backend: str, scheduler: str | None, threads_per_cell) -> None:
    """:func:`run_sweep`'s options that need no config or folder, checked first."""
    if backend not in ("loky", "dask"):
        raise ValueError(f"backend must be 'loky' or 'dask'; got {backend!r}")
    if scheduler and backend != "dask":
        raise ValueError("scheduler is only used with backend='dask'")
    if threads_per_cell is not None and (isinstance(threads_per_cell, bool)
                                         or not isinstance(threads_per_cell, int)
                                         or threads_per_cell < 1):
        # zero would read as "unset" and fall back to the default without a word
        raise ValueError(f"threads_per_cell must be an integer >= 1; got {threads_per_cell!r}")


def _close_run(config: SweepConfig, folder: Path, cells: list[Cell], previous: dict,
               sink: _Sink, *, n_pending: int, workers: int, cores: int, wall: float,
               on_cluster: bool) -> tuple[pd.DataFrame, str, OSError | None]:
    """What every run does at its end, finished or interrupted: rebuild results.csv from the
    cell files (and ``previous`` rows), close run.log with the summary line, and append the
    run to runs.jsonl when it stored a cell. Returns the results frame, the summary line and
    the error that kept results.csv from being written, if any, so that the caller reports it
    after the rest is done."""
    frame = results_frame(cells, sink.cache, sink.unsaved, previous)
    try:
        write_results(folder, frame, config)
        results_error = None
    except OSError as exc:
        results_error = exc
    done = summary_line(config.name, frame, _n_cells(cells), interrupted=sink.interrupted,
                        error=sink.error, resume=sink.resume,
                        utilisation=core_utilisation_text(sink.cell_seconds, workers, wall,
                                                          sink.n_stored))
    sink.run_log.line(done, echo=False)
    sink.run_log.close()
    if sink.n_stored:  # a run that found every cell cached leaves runs.jsonl as it was
        n_unique = _n_cells(cells)
        record_run(folder, config=config.name, seeds=list(config.seeds), cells=n_unique,
                   cached=n_unique - n_pending, run=sink.n_stored,
                   workers=workers, cores=cores, wall_seconds=wall,
                   cell_seconds=sink.cell_seconds,
                   code_versions=sorted(frame["code_version"].dropna().unique().tolist()),
                   # a scheduler's workers are other machines, whose processor this is not
                   processor=None if on_cluster else processor_summary(
                       arithmetic=_has_deep_detector(config)),
                   **_stopped_field(sink))
    return frame, done, results_error


def _n_cells(cells: list[Cell]) -> int:
    """How many cells a run holds: two labels naming one cell (a tuned choice equal to a
    fixed entry) run it once, so cells are counted by key wherever a run reports them."""
    return len({cell.key for cell in cells})


def summary_line(name: str, frame: pd.DataFrame, n_cells: int, *, interrupted: bool,
                 utilisation: str, error: str | None = None,
                 resume: str = SAME_COMMAND) -> str:
    """run.log's last line of a run: ``done`` with the counts by status, or, for a run stopped
    by Ctrl-C or SIGTERM (``interrupted``) or by an ``error`` of the harness or the cluster,
    how many of its ``n_cells`` cells have a result, so that the log never calls a stopped
    run done. ``frame`` has a row per label; a cell two labels name counts once."""
    cells = frame.drop_duplicates("cell_id") if "cell_id" in frame else frame
    stopped = ("interrupted" if interrupted
               else f"stopped by an error ({error})" if error else None)
    if stopped:
        return (f"sweep {name!r} {stopped}: {len(cells)} of {n_cells} cells have a result "
                f"({_status_counts(cells)}); resume with {resume}; {utilisation}")
    return f"sweep {name!r} done: {_status_counts(cells)}; {utilisation}"


def _stopped_field(sink: _Sink) -> dict:
    """runs.jsonl's ``stopped`` of a run that did not go through (``interrupted``, or
    ``error: ...``), absent for one that did: its line measures only the cells it stored,
    and a reader must not take it for a whole run."""
    stopped = "interrupted" if sink.interrupted else f"error: {sink.error}" if sink.error else None
    return {"stopped": stopped} if stopped else {}


def _unsaved_error(folder: Path, unsaved: dict[str, dict],
                   results_error: OSError | None) -> OutputFolderError:
    """The error of a run whose output folder refused cell files or results.csv."""
    what = []
    if unsaved:
        first = next(iter(unsaved.values()))["error"]
        what.append(f"{len(unsaved)} cell file(s) could not be written ({first})")
    if results_error is not None:
        what.append(f"results.csv could not be written ({results_error})")
    return OutputFolderError(
        f"output folder {str(folder)!r}: " + "; ".join(what)
        + ". The cells whose files were saved are kept; free space or fix permissions and "
        "rerun")


def pending_cells(cells: list[Cell], records: dict[str, dict | None], *, force: bool = False,
                  retry_failed: bool = True,
                  results_csvs: tuple[Path | None, ...] = ()) -> list[Cell]:
    """The cells to run, each once, in the order to start them.

    ``records`` holds the cached record of each cell by key (None when it has none). A cell is
    pending unless its record is done (``ok`` or ``skipped``; also ``failed`` and ``timeout``
    when not ``retry_failed``); every cell with ``force``. Two labels naming the same cell (a
    tuned entry) run it once. The order is longest expected first
    (:func:`benchmarks.scheduling.longest_first`), from ``records`` and ``results_csvs``.
    """
    keep = DONE_STATUSES if retry_failed else STATUSES
    pending: dict[str, Cell] = {}
    for cell in cells:
        rec = None if force else records.get(cell.key)
        if rec is None or rec.get("status") not in keep:
            pending.setdefault(cell.key, cell)
    expected = expected_seconds_lookup(observed_seconds(cells, records, *results_csvs))
    return longest_first(pending.values(), expected,
                         presumed_slow=lambda cell: _is_deep(cell.detector_name))


def _dispatch(pending: list[Cell], task, sink: _Sink, *, backend: str, scheduler: str | None,
              n_workers: int, client=None) -> None:
    """Run ``task(cell)`` for every pending cell through joblib; ``sink`` stores each result.

    A worker process lost by loky or Dask aborts the round it happened in, taking the cells
    running beside it along: the unfinished cells are sent again (:data:`SHARED_RETRIES`), in
    reverse order (the cell that ended the round was among the first dispatched, so the
    others run before it does), and whatever is still unfinished then runs one cell at a
    time, so that a cell is charged only for the workers it ends by itself. A cell that ends
    its worker each time it runs alone (:data:`SOLO_TRIES`) is recorded as failed.

    Only the errors of :func:`_worker_loss_errors` are a lost worker. Any other error of a
    round (a task or record that cannot be pickled, a Dask client error, a fault in storing a
    record) is the harness's or the cluster's, not a cell's: retrying the cells would only
    repeat it and then blame them, so it ends the sweep with its own message, and
    :func:`run_sweep` still writes results.csv from the cells already stored.

    ``client`` is a scheduler's client connected by the caller, who closes it; without one,
    the dask backend starts a LocalCluster here and closes it.
    """
    owned = cluster = None
    try:
        if backend == "dask" and pending:
            if client is None:
                owned, cluster = _dask_client(scheduler, n_workers)
                client = owned
            if scheduler:  # joblib's Dask backend runs on every thread the cluster has
                threads = sum(client.nthreads().values())
                sink.workers, sink.cores = max(1, min(threads, len(pending))), threads
        sink.started = True
        todo = list(pending)
        for _attempt in range(1 + SHARED_RETRIES):
            if not todo:
                break
            _round(todo, task, sink, backend=backend, n_workers=n_workers)
            todo = list(reversed(sink.waiting.values()))
            if todo:
                log.warning("%d cell(s) did not finish beside a lost worker; %s", len(todo),
                            "sending them again" if _attempt < SHARED_RETRIES
                            else "running them one at a time")
        for cell in todo:
            for _attempt in range(SOLO_TRIES):
                _round([cell], task, sink, backend=backend, n_workers=n_workers)
                if not sink.waiting:
                    break
            else:
                sink.store({"key": cell.key, "status": "failed",
                            "error": "the cell's worker process was lost each time it ran, "
                                     f"the last {SOLO_TRIES} times alone",
                            **library_versions()})
    finally:
        if owned is not None:
            owned.close()
        if cluster is not None:
            cluster.close()


def _round(cells: list[Cell], task, sink: _Sink, *, backend: str, n_workers: int) -> None:
    """One joblib round over ``cells``; a lost worker ends it (logged), leaving the cells that
    did not finish in ``sink.waiting``. Any other error propagates (see :func:`_dispatch`)."""
    from joblib import Parallel, delayed, parallel_config

    sink.expect(cells)
    tasks = (delayed(task)(c) for c in cells)
    parallel_kw = dict(batch_size=1, return_as="generator_unordered")
    try:
        if backend == "dask":
            with parallel_config(backend="dask"):
                sink.consume(Parallel(n_jobs=-1, **parallel_kw)(tasks))
        else:
            # a worker exits once the driver is gone, without waiting out its idle time and
            # loky's wait for the dead driver's exit lock
            sink.consume(Parallel(n_jobs=n_workers, backend="loky",
                                  idle_worker_timeout=LOKY_IDLE_SECONDS,
                                  initializer=exit_with_parent, **parallel_kw)(tasks))
    except _worker_loss_errors(backend) as exc:
        log.error("a worker was lost (%s); %d cell(s) of the round did not finish",
                  error_text(exc), len(sink.waiting))


@functools.cache
def _worker_loss_errors(backend: str) -> tuple[type[BaseException], ...]:
    """The errors by which a backend says that a worker process died under its tasks.

    loky raises ``TerminatedWorkerError`` for a worker that died mid-task, and raises it again
    for a task sent to the executor that death broke. Its plain ``BrokenProcessPool`` says a
    task or a result failed to unpickle: the harness's fault, not a lost worker. Dask
    reschedules the tasks of a dead worker itself and raises ``KilledWorker`` only once a task
    has been running on too many workers that died; its closed-connection errors come from the
    client's link to the scheduler, not from a worker, so they are not among these.
    """
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    errors: tuple[type[BaseException], ...] = (TerminatedWorkerError,)
    if backend == "dask":
        from distributed.scheduler import KilledWorker

        errors += (KilledWorker,)
    return errors


def _status_counts(frame: pd.DataFrame) -> str:
    summary = Counter(frame["status"]) if len(frame) else Counter()
    return ", ".join(f"{summary[s]} {s}" for s in STATUSES if summary[s]) or "nothing"


def core_utilisation_text(cell_seconds: float, n_workers: int, wall: float,
                          n_cells: int) -> str:
    """How busy the workers were: (sum of cell seconds / workers) / wall time.

    Near 1: the cores were kept busy to the end; well below: workers waited, for a long cell
    started late or for the driver. Only the cells run by this sweep count.
    """
    if n_cells == 0 or wall <= 0:
        return "core utilisation n/a (no cell ran)"
    ratio = cell_seconds / n_workers / wall
    return (f"core utilisation {ratio:.2f} ({cell_seconds:.1f} cell seconds / {n_workers} "
            f"worker(s) / {wall:.1f} s wall)")


@functools.cache
def _is_deep(detector_name: str) -> bool:
    """The registry's only cost hint: a deep (neural) detector is presumed slow."""
    from benchmarks.registry import get_spec

    return get_spec(detector_name).deep


#: seconds an idle loky worker waits for work before exiting (a worker whose driver died
#: exits at once: its initializer watches the driver)
LOKY_IDLE_SECONDS = 10


class _RunLog:
    """``DIR/run.log``: one line per finished cell (and echoed when there is no progress bar),
    and the sweep's summary line."""

    def __init__(self, folder: Path, *, echo: bool):
        self.echo = echo
        try:
            self.fh = open(folder / "run.log", "a", encoding="utf-8")  # noqa: SIM115
        except OSError:
            self.fh = None

    def line(self, text: str, *, echo: bool | None = None) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        if self.fh is not None:
            with contextlib.suppress(OSError):
                self.fh.write(f"{stamp} {text}\n")
                self.fh.flush()
        if self.echo if echo is None else echo:
            log.info("%s", text)

    def close(self) -> None:
        if self.fh is not None:
            with contextlib.suppress(OSError):
                self.fh.close()


class _Sink:
    """Stores each record as it arrives: its cell file, scores and log, run.log, the bar.

    It keeps what the sweep reports at the end: counts by status, the records whose files
    could not be written (``unsaved``), and the cell seconds of the cells stored.
    """

    def __init__(self, cache: CellCache, bar, run_log: _RunLog, *, workers: int, cores: int,
                 resume: str = SAME_COMMAND):
        self.cache, self.bar, self.run_log = cache, bar, run_log
        self.waiting: dict[str, Cell] = {}
        self.counts: Counter = Counter()
        self.unsaved: dict[str, dict] = {}
        self.cell_seconds = 0.0
        self.n_stored = 0
        #: the cells run side by side and the cores under them, for the run's record; a
        #: Dask scheduler's cluster replaces the local guess with its workers' threads
        self.workers, self.cores = workers, cores
        #: how a stopped run is resumed, for run.log's last line
        self.resume = resume
        #: whether dispatch got as far as running cells (a cluster that failed to start did
        #: not), whether the run was stopped by Ctrl-C or SIGTERM, and the error that ended
        #: it otherwise (in words; None for a run that went through)
        self.started = False
        self.interrupted = False
        self.error: str | None = None

    def expect(self, cells) -> None:
        """The cells of the next round (those not stored yet are re-dispatched after it)."""
        self.waiting = {c.key: c for c in cells}

    def consume(self, results) -> None:
        for rec in results:
            self.store(rec)

    def store(self, rec: dict) -> None:
        key = rec["key"]
        cell = self.waiting.pop(key, None)
        output = rec.pop("log", "")
        per_record = rec.pop("per_record", None)
        try:
            if per_record is not None:
                self.cache.put_scores(key, per_record)
            else:
                self.cache.drop_scores(key)  # a rerun that failed keeps no older scores
            self.cache.put_log(key, output)
            self.cache.put(key, rec)  # last: a stored record says the cell is done
            self.unsaved.pop(key, None)
        except (OSError, ValueError) as exc:  # ValueError: scores that cannot be stored
            rec = {**rec, "status": "failed",
                   "error": f"cannot write cell file {self.cache.path(key)}: {exc}"}
            self.unsaved[key] = rec
        status = rec.get("status", "failed")
        self.counts[status] += 1
        self.n_stored += 1
        seconds = rec.get("cell_seconds")
        if isinstance(seconds, int | float):
            self.cell_seconds += seconds
        where = (f"{cell.dataset} / {cell.detector} / ratio {cell.anomaly_ratio:g} / "
                 f"fraction {cell.labelled_fraction:g} / seed {cell.seed}" if cell else key)
        self.run_log.line(f"{where}: {status}" + (f": {rec.get('error', '')}"
                                                   if status != "ok" else ""))
        if status in ("failed", "timeout"):
            log.warning("cell %s: %s: %s", where, status, rec.get("error", ""))
        self.bar.set_postfix(ok=self.counts["ok"],
                             failed=self.counts["failed"] + self.counts["timeout"],
                             skipped=self.counts["skipped"], remaining=len(self.waiting),
                             refresh=False)
        self.bar.update(1)  # redraws, postfix included
