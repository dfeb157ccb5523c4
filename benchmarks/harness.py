"""The sweep harness: run every cell of a config, isolated, cached, in parallel.

How a sweep runs (:func:`run_sweep`):

1. the config is validated and expanded into cells (:mod:`benchmarks.config`), the output
   folder checked for writing, all before any cell runs;
2. cells whose file ``DIR/cells/<key>.json`` holds status ``ok`` or ``skipped`` are done; every
   other cell (missing, ``failed``, ``timeout``) is pending: failures are recorded but retried
   on the next run (benchopt's rule), unless ``retry_failed=False``;
3. pending cells go through joblib (``loky`` locally, ``dask`` for a cluster), one task per
   cell. A worker computes the cell's split (cached in the worker process, so detectors sharing
   a split reuse it; the split depends only on the dataset, its parameters, the ratio, the
   fraction and the seed, never on the detector), skips the cell when the training set is larger
   than the detector's ``max_train_rows`` (for a normals-only detector: the known normals, the
   rows it fits on), and otherwise fits and scores the detector in a fresh
   child process (multiprocessing ``forkserver``) under the time limit. An exception in the
   child, a time-out (the child is killed) or a child killed by the OS (OOM killer, segfault,
   ``os._exit``) becomes a ``failed``/``timeout`` record, and the sweep goes on;
4. the driver writes each record as it arrives, atomically, to ``DIR/cells/<key>.json``, and at
   the end (or on Ctrl-C) rebuilds ``DIR/results.csv`` from the cell files under a folder lock.

Threads: each cell's child limits BLAS/OpenMP (threadpoolctl, ``OMP_NUM_THREADS``...) and
torch to ``threads_per_cell`` = ``max(1, cores // n_jobs)`` so workers do not oversubscribe.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
import os
import platform
import resource
import signal
import sys
import threading
import time
import traceback
from collections import Counter, OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.cache import CellCache, atomic_write_text, check_writable, folder_lock
from benchmarks.config import Cell, SweepConfig, canonical_json, import_plugins
from benchmarks.metrics import HELDOUT_COLUMNS, METRIC_COLUMNS, anomaly_metrics, heldout_metrics

__all__ = [
    "ID_COLUMNS",
    "RESULT_COLUMNS",
    "TIMING_COLUMNS",
    "library_versions",
    "results_frame",
    "run_cell",
    "run_sweep",
]

log = logging.getLogger(__name__)

ID_COLUMNS = ("dataset", "detector", "anomaly_ratio", "labelled_fraction", "seed")
#: columns that measure the machine, not the method: excluded from determinism checks
TIMING_COLUMNS = ("fit_seconds", "score_seconds", "cell_seconds", "peak_mb")
VERSION_COLUMNS = ("version_pugan_bench", "version_torch", "version_sklearn", "version_pyod",
                   "version_numpy", "version_python")
RESULT_COLUMNS = (
    *ID_COLUMNS, "status", "error", *METRIC_COLUMNS, "fit_seconds", "score_seconds", "peak_mb",
    "cell_seconds", "n_train", "n_known_normal", "n_test", "n_test_anomalies",
    "n_test_anomalies_distinct", "n_test_anomalies_twin_in_train", *HELDOUT_COLUMNS, "n_features",
    "threshold", "n_test_flagged", "n_reliable", "supervision", "dataset_name", "preset",
    "split_params",
    "dataset_params", "detector_name", "detector_params", "split_seed", "model_seed", "cell_id",
    "code_version", *VERSION_COLUMNS,
)
STATUSES = ("ok", "failed", "timeout", "skipped")
DONE_STATUSES = ("ok", "skipped")


# --- worker side ------------------------------------------------------------------------------

@functools.cache
def library_versions() -> dict[str, str]:
    """Versions recorded in every row (read from package metadata, importing nothing heavy)."""
    from importlib.metadata import PackageNotFoundError, version

    def v(dist):
        try:
            return version(dist)
        except PackageNotFoundError:
            return "not installed"

    return {
        "version_pugan_bench": v("pugan-bench"), "version_torch": v("torch"),
        "version_sklearn": v("scikit-learn"), "version_pyod": v("pyod"),
        "version_numpy": v("numpy"), "version_python": platform.python_version(),
    }


_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def _limit_threads(n: int) -> None:
    """Limit BLAS/OpenMP/torch threads of this process to ``n`` for good (a cell's child)."""
    for var in _THREAD_VARS:
        os.environ[var] = str(n)
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


@contextlib.contextmanager
def _thread_limits(n: int):
    """Limit threads to ``n`` inside, then restore (a worker, or the driver with n_jobs=1).

    The variables are set while the forkserver starts, so cell children inherit them.
    """
    from threadpoolctl import threadpool_limits

    saved = {var: os.environ.get(var) for var in _THREAD_VARS}
    torch_mod = sys.modules.get("torch")
    torch_prev = torch_mod.get_num_threads() if torch_mod is not None else None
    for var in _THREAD_VARS:
        os.environ[var] = str(n)
    try:
        with threadpool_limits(n):
            if torch_mod is not None:
                torch_mod.set_num_threads(n)
            yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
        if torch_mod is not None and torch_prev is not None:
            torch_mod.set_num_threads(torch_prev)


_SPLITS: OrderedDict[str, object] = OrderedDict()
_SPLIT_CACHE_SIZE = 6


def _get_split(cell: Cell):
    """The cell's split, cached per process (an error is cached too: same split, same error)."""
    key = cell.split_key
    if key in _SPLITS:
        _SPLITS.move_to_end(key)
        hit = _SPLITS[key]
    else:
        from benchmarks.splits import make_pu_split

        try:
            hit = make_pu_split(**cell.split_kwargs())
        except Exception as exc:  # recorded in every cell of this split
            hit = exc
        _SPLITS[key] = hit
        while len(_SPLITS) > _SPLIT_CACHE_SIZE:
            _SPLITS.popitem(last=False)
    if isinstance(hit, Exception):
        raise hit
    return hit


def _peak_mb() -> float:
    """Peak resident memory of this process in MiB (Linux reports ru_maxrss in KiB)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def _fit_and_score(payload: dict) -> dict:
    """Build, fit and score one detector; returns the result fields (raises on failure)."""
    from benchmarks.registry import get_spec, make_detector
    from pugan.base import labels_at_threshold

    threads = payload["threads"]
    _limit_threads(threads)
    import_plugins(payload["plugins"])
    spec = get_spec(payload["detector_name"])
    det = make_detector(payload["detector_name"], random_state=payload["model_seed"],
                        **payload["detector_params"])
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    t0 = time.perf_counter()
    if spec.supervision == "oracle":
        det.fit(payload["X_train"], payload["y_train"], known_normal=payload["known_normal"])
    else:
        det.fit(payload["X_train"], known_normal=payload["known_normal"])
    fit_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    scores = np.asarray(det.decision_function(payload["X_test"]), dtype=np.float64).ravel()
    threshold = float(det.threshold_)
    labels = labels_at_threshold(scores, threshold)  # the contract's rule: score >= threshold_
    score_seconds = time.perf_counter() - t1
    metrics = anomaly_metrics(payload["y_test"], scores, labels)
    if payload.get("heldout_types"):
        metrics.update(heldout_metrics(payload["y_test"], scores, labels, payload["type_test"],
                                       payload["heldout_types"]))
    # PU-GAN's stage 1: how many unlabelled records it admitted as reliable normals
    n_reliable = getattr(det, "n_reliable_", None)
    return {"status": "ok", "error": "", **metrics, "fit_seconds": fit_seconds,
            "score_seconds": score_seconds, "threshold": threshold,
            "n_test_flagged": int(labels.sum()), "peak_mb": _peak_mb(),
            "n_reliable": None if n_reliable is None else int(n_reliable)}


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 2000 else text[:2000] + " ..."


def _watch_parent(interval: float = 1.0) -> None:
    """Exit this child if its parent dies (a killed sweep must not leave orphans computing)."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _child_main(conn, payload: dict) -> None:
    """Entry point of the per-cell child process."""
    _watch_parent()
    try:
        rec = _fit_and_score(payload)
    except BaseException as exc:  # noqa: B036 - everything becomes a failed record
        rec = {"status": "failed", "error": _error_text(exc),
               "traceback": traceback.format_exc(limit=20), "peak_mb": _peak_mb()}
    try:
        conn.send(rec)
    finally:
        conn.close()


#: modules the per-cell forkserver imports once, so that each cell's child (a fork of it)
#: starts with them loaded instead of importing them again. A speed hint only: a module that
#: fails to import is skipped by multiprocessing. The harness itself always; the baseline
#: libraries when the sweep uses a built-in detector (about 0.4 s saved per PyOD cell here);
#: torch and pugan when it has a deep detector (seconds per cell; importing torch starts no
#: thread pool, so forking after it is safe on CPU).
BASE_PRELOAD = ("benchmarks.harness",)
BUILTIN_PRELOAD = (
    "benchmarks.detectors", "baselines.pyod_adapters", "baselines.ocsvm", "pyod.models.knn",
    "pyod.models.iforest", "sklearn.ensemble", "sklearn.svm", "sklearn.neighbors",
    "sklearn.linear_model", "sklearn.kernel_approximation",
)
DEEP_PRELOAD = ("torch", "pugan")


def forkserver_preload(detector_names) -> tuple[str, ...]:
    """The modules worth preloading for a sweep over ``detector_names``."""
    from benchmarks.registry import get_spec

    specs = [get_spec(n) for n in detector_names]
    mods = BASE_PRELOAD
    if any(getattr(s.factory, "__module__", "") == "benchmarks.detectors" for s in specs):
        mods += BUILTIN_PRELOAD
    if any(s.deep for s in specs):
        mods += DEEP_PRELOAD
    return mods


@functools.cache
def _mp_context(preload: tuple[str, ...] = BASE_PRELOAD):
    """The forkserver context of this process (one server per worker process).

    The server starts with the first isolated cell of the process, with that sweep's preload;
    later sweeps in the same process reuse it as it is.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(preload))
    return ctx


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "cell process did not exit"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (the OS killed it: out of memory?)" if -code == signal.SIGKILL else ""
        return f"cell process killed by {name}{hint} before returning a result"
    return f"cell process exited with code {code} before returning a result"


def _run_isolated(payload: dict, time_limit: float | None, *,
                  preload: tuple[str, ...] = BASE_PRELOAD) -> dict:
    if multiprocessing.current_process().daemon:
        raise RuntimeError(
            "this worker is a daemonic process and cannot start the per-cell child process; "
            "for Dask, start workers with DASK_DISTRIBUTED__WORKER__DAEMON=False (or run with "
            "isolate=False, losing time limits and crash isolation)")
    ctx = _mp_context(tuple(preload))
    recv_conn, send_conn = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(send_conn, payload), name="pugan-bench-cell")
    proc.start()
    send_conn.close()
    try:
        ready = recv_conn.poll(time_limit)  # True on data or on EOF (the child died)
        if not ready:
            proc.kill()
            proc.join()
            return {"status": "timeout",
                    "error": f"time limit of {time_limit:g} s exceeded (fit + score); killed"}
        try:
            rec = recv_conn.recv()
        except (EOFError, OSError):
            rec = None
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
            proc.join()
        if rec is None:
            return {"status": "failed", "error": _describe_exit(proc.exitcode)}
        return rec
    finally:
        recv_conn.close()
        if proc.is_alive():
            proc.kill()
            proc.join()


def _keep_worker_caches() -> None:
    """Let a loky worker keep its dataset and split caches.

    loky restarts a worker whose memory grew by 300 MB since its first task, taking it for a
    leak; a worker that has loaded KDD Cup 99 (hundreds of MB, cached on purpose so the next
    cell reuses it) would be restarted again and again, reloading the data and its forkserver
    each time. The threshold is a module global read by the worker loop (private loky API: if
    it changes, this does nothing and workers are only restarted more often).
    """
    mod = sys.modules.get("joblib.externals.loky.process_executor")
    if mod is not None and hasattr(mod, "_MAX_MEMORY_LEAK_SIZE"):
        mod._MAX_MEMORY_LEAK_SIZE = max(mod._MAX_MEMORY_LEAK_SIZE, 8 * 1024**3)


def run_cell(cell: Cell, *, time_limit: float | None = None, threads: int = 1,
             plugins: tuple[str, ...] = (), isolate: bool = True,
             preload: tuple[str, ...] = BASE_PRELOAD) -> dict:
    """Run one cell and return its record; never raises for a problem of the cell itself.

    Parameters
    ----------
    cell : the cell.
    time_limit : seconds for fit + score (isolated runs only); None for no limit.
    threads : BLAS/OpenMP/torch threads for this cell.
    plugins : modules or .py files to import first (they may register detectors).
    isolate : run fit + score in a child process (time limit, crash isolation); False runs it
        in this process (for debugging: no time limit, and a crash takes the worker down).
    preload : modules the per-cell forkserver imports once (see :func:`forkserver_preload`).
    """

    t0 = time.perf_counter()
    rec: dict = {"key": cell.key}
    _keep_worker_caches()
    with _thread_limits(threads):
        _run_cell_body(cell, rec, time_limit=time_limit, threads=threads, plugins=plugins,
                       isolate=isolate, preload=preload)
    rec["cell_seconds"] = time.perf_counter() - t0
    rec.update(library_versions())
    return rec


def _run_cell_body(cell: Cell, rec: dict, *, time_limit, threads, plugins, isolate,
                   preload) -> None:
    from benchmarks.registry import get_spec
    from benchmarks.splits import SplitInfeasible

    try:
        import_plugins(plugins)
        spec = get_spec(cell.detector_name)
        rec["supervision"] = spec.supervision
        try:
            split = _get_split(cell)
        except SplitInfeasible as exc:  # the dataset cannot fill this cell: not a fault
            rec.update(status="skipped", error=f"split cannot be filled: {exc}")
            return
        except Exception as exc:
            raise RuntimeError(f"split failed: {_error_text(exc)}") from exc
        n_train = int(len(split.X_train))
        rec.update(n_train=n_train, n_known_normal=int(np.sum(split.known_normal)),
                   n_test=int(len(split.X_test)), n_test_anomalies=int(np.sum(split.y_test)),
                   n_features=int(split.X_train.shape[1]),
                   **{k: split.meta.get(k) for k in ("n_test_anomalies_distinct",
                                                     "n_test_anomalies_twin_in_train")})
        # the rows the detector fits on: the known normals for a normals-only detector
        normals_only = spec.supervision == "normals-only"
        fit_rows = rec["n_known_normal"] if normals_only else n_train
        if spec.max_train_rows is not None and fit_rows > spec.max_train_rows:
            what = "known-normal training rows" if normals_only else "training rows"
            rec.update(status="skipped",
                       error=f"{cell.detector_name} cannot scale to {fit_rows} {what} "
                             f"(max {spec.max_train_rows})")
        else:
            payload = {
                "detector_name": cell.detector_name, "detector_params": cell.detector_params,
                "model_seed": cell.model_seed, "threads": threads, "plugins": tuple(plugins),
                "X_train": split.X_train, "known_normal": np.asarray(split.known_normal),
                "X_test": split.X_test, "y_test": split.y_test,
                "y_train": split.y_train if spec.supervision == "oracle" else None,
                "type_test": split.type_test,
                "heldout_types": split.meta.get("holdout_anomaly_types", []),
            }
            if isolate:
                rec.update(_run_isolated(payload, time_limit, preload=preload))
            else:
                try:
                    rec.update(_fit_and_score(payload))
                except Exception as exc:
                    rec.update(status="failed", error=_error_text(exc),
                               traceback=traceback.format_exc(limit=20))
    except Exception as exc:
        rec.update(status="failed", error=_error_text(exc),
                   traceback=traceback.format_exc(limit=20))


# --- driver side ------------------------------------------------------------------------------

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


def results_frame(cells: list[Cell], cache: CellCache) -> pd.DataFrame:
    """One row per cell that has a record, sorted by (dataset, detector, ratio, fraction, seed)."""
    rows = []
    for cell in cells:
        rec = cache.get(cell.key)
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


def write_results(folder: Path, frame: pd.DataFrame, config: SweepConfig | None = None) -> Path:
    """Write ``results.csv`` (and the resolved config) atomically under the folder lock."""
    path = folder / "results.csv"
    with folder_lock(folder):
        atomic_write_text(path, frame.to_csv(index=False))
        if config is not None:
            atomic_write_text(folder / "config.yaml", _config_yaml(config))
    return path


def _config_yaml(config: SweepConfig) -> str:
    import yaml

    doc = {
        "name": config.name, "source": config.source, "seeds": list(config.seeds),
        "n_jobs": config.n_jobs, "time_limit": config.time_limit, "plugins": list(config.plugins),
        "datasets": [{"label": d.label, "dataset": d.dataset, "preset": d.preset,
                      "split": d.split, "dataset_params": d.dataset_params,
                      "anomaly_ratios": list(d.anomaly_ratios),
                      "labelled_fractions": list(d.labelled_fractions)} for d in config.datasets],
        "detectors": [{"label": d.label, "name": d.name, "params": d.params,
                       **({"tuned": d.group, "per_dataset": d.per_dataset} if d.per_dataset
                          else {})}
                      for d in config.detectors],
        "tuning": config.tuning,
    }
    return "# resolved sweep config written by pugan-bench run\n" + yaml.safe_dump(
        _plain(doc), sort_keys=False)


def _plain(obj):
    """Plain YAML-safe values (tuples -> lists) via canonical JSON."""
    import json

    return json.loads(canonical_json(obj))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _dask_client(scheduler: str | None, n_jobs: int):
    import dask
    from dask.distributed import Client, LocalCluster

    if not log.isEnabledFor(logging.DEBUG):  # Dask logs every scheduler event at INFO
        for name in list(logging.root.manager.loggerDict):
            if name == "distributed" or name.startswith("distributed."):
                logging.getLogger(name).setLevel(logging.WARNING)

    if scheduler:
        return Client(scheduler), None
    # per-cell child processes need non-daemonic workers
    dask.config.set({"distributed.worker.daemon": False})
    cluster = LocalCluster(n_workers=n_jobs, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster), cluster


def run_sweep(config: SweepConfig, out: str | Path, *, n_jobs: int | None = None,
              backend: str = "loky", scheduler: str | None = None, retry_failed: bool = True,
              force: bool = False, isolate: bool = True, threads_per_cell: int | None = None,
              progress: bool = True) -> pd.DataFrame:
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
    threads_per_cell : BLAS/torch threads per cell (default ``max(1, cores // n_jobs)``).
    progress : show a tqdm bar on stderr.
    """
    from joblib import Parallel, delayed, parallel_config
    from tqdm.auto import tqdm

    if backend not in ("loky", "dask"):
        raise ValueError(f"backend must be 'loky' or 'dask'; got {backend!r}")
    if scheduler and backend != "dask":
        raise ValueError("scheduler is only used with backend='dask'")
    folder = check_writable(out)
    cells = config.cells()
    n_jobs = config.n_jobs if n_jobs is None else n_jobs
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive integer or -1; got {n_jobs!r}")
    cores = _cores()
    n_workers = cores if n_jobs == -1 else n_jobs
    threads = threads_per_cell or max(1, cores // n_workers)
    cache = CellCache(folder)
    preload = forkserver_preload(d.name for d in config.detectors)
    keep = DONE_STATUSES if retry_failed else STATUSES
    pending = {}  # by key: two labels naming the same cell (a tuned entry) run it once
    for cell in cells:
        rec = None if force else cache.get(cell.key)
        if rec is None or rec.get("status") not in keep:
            pending.setdefault(cell.key, cell)
    pending = list(pending.values())
    log.info("sweep %r: %d cells, %d cached, %d to run (n_jobs=%d, backend=%s, "
             "%d thread(s) per cell, time limit %s)", config.name, len(cells),
             len(cells) - len(pending), len(pending), n_workers, backend, threads,
             f"{config.time_limit:g} s" if config.time_limit else "none")

    counts: Counter = Counter()
    client = cluster = None
    bar = tqdm(total=len(pending), disable=not progress or not pending, unit="cell",
               desc=config.name, smoothing=0.1)
    try:
        if backend == "dask" and pending:
            client, cluster = _dask_client(scheduler, n_workers)
        todo = list(pending)
        for _attempt in range(3):  # a worker process lost by loky/dask aborts one round only
            if not todo:
                break
            by_key = {c.key: c for c in todo}
            tasks = (delayed(run_cell)(c, time_limit=config.time_limit, threads=threads,
                                       plugins=config.plugins, isolate=isolate, preload=preload)
                     for c in todo)
            parallel_kw = dict(batch_size=1, return_as="generator_unordered")
            try:
                if backend == "dask":
                    with parallel_config(backend="dask"):
                        results = Parallel(n_jobs=-1, **parallel_kw)(tasks)
                        _consume(results, by_key, cache, counts, bar)
                else:
                    results = Parallel(n_jobs=n_jobs, backend="loky", **parallel_kw)(tasks)
                    _consume(results, by_key, cache, counts, bar)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # e.g. loky's TerminatedWorkerError
                log.error("a worker was lost (%s); re-dispatching %d unfinished cell(s)",
                          _error_text(exc), len(by_key))
            todo = list(by_key.values())
        for cell in todo:  # still unfinished after the retries
            cache.put(cell.key, {"key": cell.key, "status": "failed",
                                 "error": "worker process lost three times while running "
                                          "this batch of cells", **library_versions()})
            counts["failed"] += 1
    except KeyboardInterrupt:
        log.warning("interrupted: finished cells are kept in %s; rerun the same command "
                    "to resume", folder / "cells")
        raise
    finally:
        bar.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        frame = results_frame(cells, cache)
        write_results(folder, frame, config)
    summary = Counter(frame["status"]) if len(frame) else Counter()
    log.info("sweep %r done: %s; results in %s", config.name,
             ", ".join(f"{summary[s]} {s}" for s in STATUSES if summary[s]) or "nothing",
             folder / "results.csv")
    return frame


def _consume(results, by_key: dict, cache: CellCache, counts: Counter, bar) -> None:
    for rec in results:
        key = rec["key"]
        cell = by_key.pop(key, None)
        cache.put(key, rec)
        status = rec.get("status", "failed")
        counts[status] += 1
        if status in ("failed", "timeout") and cell is not None:
            log.warning("cell %s / %s / ratio %g / fraction %g / seed %d: %s: %s",
                        cell.dataset, cell.detector, cell.anomaly_ratio, cell.labelled_fraction,
                        cell.seed, status, rec.get("error", ""))
        bar.set_postfix(ok=counts["ok"], failed=counts["failed"] + counts["timeout"],
                        skipped=counts["skipped"], remaining=len(by_key), refresh=False)
        bar.update(1)  # redraws, postfix included
