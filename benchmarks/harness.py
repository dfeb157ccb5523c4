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
torch to ``threads_per_cell`` = ``max(1, cores // n_jobs)`` so workers do not oversubscribe; on
a Dask cluster each worker divides its own cores by its own thread count.

Stock Dask workers are daemonic processes, which multiprocessing forbids to have children;
there the cell's child is a fresh interpreter started with :mod:`subprocess` instead of a fork
of the forkserver (slower to start, same isolation). Either child leads its own process group,
and a time-out kills the whole group. What a detector prints goes to ``cells/<key>.log``.
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

from benchmarks.cache import (
    CellCache,
    atomic_write_bytes,
    atomic_write_text,
    check_writable,
    folder_lock,
    read_cell_scores,
)
from benchmarks.config import Cell, SweepConfig, canonical_json, check_n_jobs, import_plugins
from benchmarks.metrics import HELDOUT_COLUMNS, METRIC_COLUMNS, anomaly_metrics, heldout_metrics
from benchmarks.scheduling import expected_seconds_lookup, longest_first, observed_seconds

__all__ = [
    "ID_COLUMNS",
    "RESULT_COLUMNS",
    "TIMING_COLUMNS",
    "library_versions",
    "read_cell_scores",
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
#: integer columns of results.parquet (nullable: a failed cell has no sizes)
INT_COLUMNS = ("seed", "n_train", "n_known_normal", "n_test", "n_test_anomalies",
               "n_test_anomalies_distinct", "n_test_anomalies_twin_in_train", "n_test_heldout",
               "n_test_seen", "n_features", "n_test_flagged", "n_reliable", "split_seed",
               "model_seed")
#: float columns of results.parquet; every other column is a string
FLOAT_COLUMNS = ("anomaly_ratio", "labelled_fraction", *METRIC_COLUMNS, "fit_seconds",
                 "score_seconds", "peak_mb", "cell_seconds", "recall_heldout", "auprc_heldout",
                 "recall_seen", "auprc_seen", "threshold")
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
    n_bad = int(np.sum(~np.isfinite(scores)))
    if n_bad:
        raise ValueError(f"{payload['detector_name']} returned {n_bad} non-finite score(s) "
                         f"of {scores.size} (NaN or inf)")
    if not np.isfinite(threshold):
        raise ValueError(f"{payload['detector_name']} has a non-finite threshold_ ({threshold})")
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
            "n_reliable": None if n_reliable is None else int(n_reliable),
            "test_scores": scores.astype(np.float32), "test_labels": labels.astype(np.int8)}


ERROR_TEXT_MAX = 2000


def truncate_text(text: str, limit: int = ERROR_TEXT_MAX) -> str:
    """``text`` cut to about ``limit`` characters, keeping its head and its tail.

    Why both: an exception message names what failed at its start and often the value that
    broke it at its end; a cell file must stay small whatever a detector raises.
    """
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]} ... [{len(text) - 2 * half} characters cut] ... {text[-half:]}"


def _error_text(exc: BaseException) -> str:
    return truncate_text(f"{type(exc).__name__}: {exc}")


def _watch_parent(interval: float = 1.0) -> None:
    """Exit this child if its parent dies (a killed sweep must not leave orphans computing)."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _redirect_output(log_path: str | None) -> None:
    """Send this process's stdout and stderr (file descriptors 1 and 2) to ``log_path``.

    What a detector prints belongs to its cell's log, not to the command line's output.
    """
    if not log_path:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _cell_record(payload: dict) -> dict:
    """Fit and score; any exception becomes a failed record."""
    try:
        return _fit_and_score(payload)
    except BaseException as exc:  # noqa: B036 - everything becomes a failed record
        return {"status": "failed", "error": _error_text(exc),
                "traceback": truncate_text(traceback.format_exc(limit=20), 20000),
                "peak_mb": _peak_mb()}


def _child_main(conn, payload: dict, log_path: str | None = None) -> None:
    """Entry point of the per-cell child process (forkserver).

    It leads a process group of its own, so a time-out kills whatever it started too.
    """
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    _watch_parent()
    _redirect_output(log_path)
    rec = _cell_record(payload)
    try:
        conn.send(rec)
    finally:
        conn.close()


def _subprocess_main(payload_path: str, result_path: str) -> None:
    """Entry point of the per-cell child started by :func:`_run_subprocess`."""
    import pickle

    _watch_parent()
    with open(payload_path, "rb") as fh:
        payload = pickle.load(fh)
    rec = _cell_record(payload)
    tmp = result_path + ".tmp"
    with open(tmp, "wb") as fh:
        pickle.dump(rec, fh)
    os.replace(tmp, result_path)


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


def _kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` (the cell child and all it started)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _timeout_record(time_limit: float) -> dict:
    return {"status": "timeout",
            "error": f"time limit of {time_limit:g} s exceeded (fit + score); killed"}


#: characters of a cell's output kept in its log (head and tail)
LOG_TEXT_MAX = 200_000


def _read_log(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return truncate_text(fh.read(), LOG_TEXT_MAX)
    except OSError:
        return ""


def _run_isolated(payload: dict, time_limit: float | None, *,
                  preload: tuple[str, ...] = BASE_PRELOAD) -> dict:
    """Fit and score in a child process; its printed output comes back as ``rec["log"]``.

    A daemonic process (a stock Dask worker) may not start multiprocessing children, so there
    the child is a fresh interpreter started with :mod:`subprocess`, which any process may do.
    """
    import tempfile

    fd, log_path = tempfile.mkstemp(prefix="pugan-bench-cell-", suffix=".log")
    os.close(fd)
    try:
        if multiprocessing.current_process().daemon:
            rec = _run_subprocess(payload, time_limit, log_path)
        else:
            rec = _run_forkserver(payload, time_limit, log_path, preload)
        text = _read_log(log_path)
        if text:
            rec["log"] = text
        return rec
    finally:
        with contextlib.suppress(OSError):
            os.unlink(log_path)


def _child_env(threads: int) -> dict:
    env = dict(os.environ)
    for var in _THREAD_VARS:
        env[var] = str(threads)
    # the child imports what this process can import (plugins' folders included)
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def _run_subprocess(payload: dict, time_limit: float | None, log_path: str) -> dict:
    import pickle
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="pugan-bench-cell-") as tmp:
        payload_path = os.path.join(tmp, "payload.pkl")
        result_path = os.path.join(tmp, "result.pkl")
        with open(payload_path, "wb") as fh:
            pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
        code = ("import sys; from benchmarks.harness import _subprocess_main; "
                "_subprocess_main(sys.argv[1], sys.argv[2])")
        with open(log_path, "ab") as log_fh:
            proc = subprocess.Popen(
                [sys.executable, "-c", code, payload_path, result_path],
                stdin=subprocess.DEVNULL, stdout=log_fh, stderr=subprocess.STDOUT,
                env=_child_env(payload["threads"]), start_new_session=True)
        try:
            proc.wait(timeout=time_limit)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.kill()
            proc.wait()
            return _timeout_record(time_limit)
        finally:
            if proc.poll() is None:
                _kill_group(proc.pid)
                proc.kill()
                proc.wait()
        _kill_group(proc.pid)  # whatever the cell left running
        try:
            with open(result_path, "rb") as fh:
                return pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError):
            code = proc.returncode
            return {"status": "failed", "error": _describe_exit(code)}


def _run_forkserver(payload: dict, time_limit: float | None, log_path: str,
                    preload: tuple[str, ...]) -> dict:
    ctx = _mp_context(tuple(preload))
    recv_conn, send_conn = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(send_conn, payload, log_path),
                       name="pugan-bench-cell")
    proc.start()
    send_conn.close()
    try:
        ready = recv_conn.poll(time_limit)  # True on data or on EOF (the child died)
        if not ready:
            _kill_group(proc.pid)
            proc.kill()
            proc.join()
            return _timeout_record(time_limit)
        try:
            rec = recv_conn.recv()
        except (EOFError, OSError):
            rec = None
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
            proc.join()
        _kill_group(proc.pid)  # whatever the cell left running
        if rec is None:
            return {"status": "failed", "error": _describe_exit(proc.exitcode)}
        return rec
    finally:
        recv_conn.close()
        if proc.is_alive():
            _kill_group(proc.pid)
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


def _worker_threads() -> int:
    """BLAS/torch threads for a cell on this machine: its cores over the tasks it runs at once.

    On a Dask worker that is the worker's own thread count (a cluster's machines differ from
    the driver's); anywhere else one cell at a time is assumed.
    """
    slots = 1
    try:
        from distributed import get_worker

        slots = max(1, int(get_worker().state.nthreads))
    except (ImportError, ValueError, AttributeError):
        pass
    return max(1, _cores() // slots)


def run_cell(cell: Cell, *, time_limit: float | None = None, threads: int | None = 1,
             plugins: tuple[str, ...] = (), isolate: bool = True,
             preload: tuple[str, ...] = BASE_PRELOAD) -> dict:
    """Run one cell and return its record; never raises for a problem of the cell itself.

    Parameters
    ----------
    cell : the cell.
    time_limit : seconds for fit + score (isolated runs only); None for no limit.
    threads : BLAS/OpenMP/torch threads for this cell; None: the worker's cores divided by
        the cells it runs at once (:func:`_worker_threads`).
    plugins : modules or .py files to import first (they may register detectors).
    isolate : run fit + score in a child process (time limit, crash isolation); False runs it
        in this process (for debugging: no time limit, and a crash takes the worker down).
    preload : modules the per-cell forkserver imports once (see :func:`forkserver_preload`).
    """

    t0 = time.perf_counter()
    rec: dict = {"key": cell.key}
    _keep_worker_caches()
    if threads is None:
        threads = _worker_threads()
    # a daemonic worker (stock Dask) may run several cells in threads at once: it leaves its
    # own limits alone, and each cell's child gets its limit through its environment
    limits = (contextlib.nullcontext() if multiprocessing.current_process().daemon
              else _thread_limits(threads))
    with limits:
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
                               traceback=truncate_text(traceback.format_exc(limit=20), 20000))
            per_record = _per_record(rec, split)
            if per_record is not None:
                rec["per_record"] = per_record
    except Exception as exc:
        rec.update(status="failed", error=_error_text(exc),
                   traceback=traceback.format_exc(limit=20))


def _per_record(rec: dict, split) -> dict | None:
    """The test records' scores and labels of an ok cell, taken out of ``rec``.

    They travel beside the record (not in its JSON file) and are stored as the cell's
    Parquet scores file, so that other metrics can be computed later without rerunning it.
    """
    scores, labels = rec.pop("test_scores", None), rec.pop("test_labels", None)
    if rec.get("status") != "ok" or scores is None or labels is None:
        return None
    out = {"score": scores, "y_test": np.asarray(split.y_test, dtype=np.int8), "label": labels}
    if split.type_test is not None:
        out["anomaly_type"] = np.asarray(split.type_test, dtype=object)
    return out


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


def results_frame(cells: list[Cell], cache: CellCache,
                  unsaved: dict[str, dict] | None = None) -> pd.DataFrame:
    """One row per cell that has a record, sorted by (dataset, detector, ratio, fraction, seed).

    ``unsaved`` holds records of this run whose cell file could not be written: they are
    reported (as failed, with the reason) so that the summary accounts for every cell run.
    """
    unsaved = unsaved or {}
    rows = []
    for cell in cells:
        rec = unsaved.get(cell.key) or cache.get(cell.key)
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


def typed_results(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with one dtype per column: nullable integers, floats and strings.

    Why: a CSV reader guesses types, and a column of a sweep whose cells all failed reads as
    empty text; results.parquet keeps the types whatever the rows hold.
    """
    out = frame.copy()
    for col in out.columns:
        if col in INT_COLUMNS:
            out[col] = pd.to_numeric(out[col]).astype("Int64")
        elif col in FLOAT_COLUMNS:
            out[col] = pd.to_numeric(out[col]).astype("float64")
        else:
            out[col] = out[col].astype("string")
    return out


def results_parquet(frame: pd.DataFrame) -> bytes:
    """The bytes of results.parquet (zstd) for ``frame``."""
    import io

    buf = io.BytesIO()
    typed_results(frame).to_parquet(buf, index=False, compression="zstd")
    return buf.getvalue()


def write_results(folder: Path, frame: pd.DataFrame, config: SweepConfig | None = None) -> Path:
    """Write ``results.csv``, ``results.parquet`` (and the resolved config) atomically under
    the folder lock."""
    path = folder / "results.csv"
    with folder_lock(folder):
        atomic_write_text(path, frame.to_csv(index=False))
        atomic_write_bytes(folder / "results.parquet", results_parquet(frame))
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


#: how long the driver tries to connect to a Dask scheduler before giving up
SCHEDULER_TIMEOUT = "10s"


class SchedulerUnreachable(ValueError):
    """The Dask scheduler address given does not answer; the message names it."""


class OutputFolderError(OSError):
    """Cell files or results.csv could not be written; the message names the folder.

    Raised at the end of a sweep, after every cell that could be saved was saved.
    """


def _dask_client(scheduler: str | None, n_jobs: int):
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ValueError("--backend dask needs Dask: pip install 'pugan-bench[dask]'") from None

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
    threads_per_cell : BLAS/torch threads per cell (default ``max(1, cores // n_jobs)``; on a
        Dask cluster, each worker's cores divided by its thread count).
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
    if not scheduler:  # workers on this machine
        check_n_jobs(n_jobs, cores)
    cache = CellCache(folder)
    preload = forkserver_preload(d.name for d in config.detectors)
    keep = DONE_STATUSES if retry_failed else STATUSES
    records = {cell.key: cache.get(cell.key) for cell in cells}
    pending = {}  # by key: two labels naming the same cell (a tuned entry) run it once
    for cell in cells:
        rec = None if force else records[cell.key]
        if rec is None or rec.get("status") not in keep:
            pending.setdefault(cell.key, cell)
    observed = observed_seconds(cells, records, folder / "results.csv")
    pending = longest_first(pending.values(), expected_seconds_lookup(observed),
                            presumed_slow=lambda cell: _is_deep(cell.detector_name))
    # no more workers than cells to run; threads per cell follow the requested n_jobs, not
    # how many cells are left, so a resumed run computes each cell as a full run does
    requested = cores if n_jobs == -1 else n_jobs
    n_workers = max(1, min(requested, len(pending)))
    # on a Dask cluster each worker divides its own cores (threads=None)
    threads = threads_per_cell or (None if backend == "dask" and scheduler
                                   else max(1, cores // requested))
    log.info("sweep %r: %d cells, %d cached, %d to run (n_jobs=%d, backend=%s, "
             "%s thread(s) per cell, time limit %s)", config.name, len(cells),
             len(cells) - len(pending), len(pending), n_workers, backend,
             threads or "the worker's", f"{config.time_limit:g} s" if config.time_limit
             else "none")

    client = cluster = None
    bar = tqdm(total=len(pending), disable=not progress or not pending, unit="cell",
               desc=config.name, smoothing=0.1)
    run_log = _RunLog(folder, echo=not progress)
    sink = _Sink(cache, bar, run_log)
    t_start = time.perf_counter()
    try:
        if backend == "dask" and pending:
            client, cluster = _dask_client(scheduler, n_workers)
        todo = list(pending)
        for _attempt in range(3):  # a worker process lost by loky/dask aborts one round only
            if not todo:
                break
            sink.expect(todo)
            tasks = (delayed(run_cell)(c, time_limit=config.time_limit, threads=threads,
                                       plugins=config.plugins, isolate=isolate, preload=preload)
                     for c in todo)
            parallel_kw = dict(batch_size=1, return_as="generator_unordered")
            try:
                if backend == "dask":
                    with parallel_config(backend="dask"):
                        results = Parallel(n_jobs=-1, **parallel_kw)(tasks)
                        sink.consume(results)
                else:
                    results = Parallel(n_jobs=n_workers, backend="loky",
                                       idle_worker_timeout=LOKY_IDLE_SECONDS,
                                       **parallel_kw)(tasks)
                    sink.consume(results)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # e.g. loky's TerminatedWorkerError
                log.error("a worker was lost (%s); re-dispatching %d unfinished cell(s)",
                          _error_text(exc), len(sink.waiting))
            todo = list(sink.waiting.values())
        for cell in todo:  # still unfinished after the retries
            sink.store({"key": cell.key, "status": "failed",
                        "error": "worker process lost three times while running this batch "
                                 "of cells", **library_versions()})
    except KeyboardInterrupt:
        log.warning("interrupted: finished cells are kept in %s; rerun the same command "
                    "to resume", folder / "cells")
        raise
    finally:
        wall = time.perf_counter() - t_start
        bar.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        frame = results_frame(cells, cache, sink.unsaved)
        try:
            write_results(folder, frame, config)
            results_error = None
        except OSError as exc:
            results_error = exc
        summary = Counter(frame["status"]) if len(frame) else Counter()
        done = (f"sweep {config.name!r} done: "
                + (", ".join(f"{summary[s]} {s}" for s in STATUSES if summary[s]) or "nothing")
                + "; " + core_utilisation_text(sink.cell_seconds, n_workers, wall,
                                               sink.n_stored))
        run_log.line(done, echo=False)
        run_log.close()
    log.info("%s; results in %s", done, folder / "results.csv")
    if sink.unsaved or results_error is not None:
        what = []
        if sink.unsaved:
            first = next(iter(sink.unsaved.values()))["error"]
            what.append(f"{len(sink.unsaved)} cell file(s) could not be written ({first})")
        if results_error is not None:
            what.append(f"results.csv could not be written ({results_error})")
        raise OutputFolderError(
            f"output folder {str(folder)!r}: " + "; ".join(what)
            + f". The {len(cells) - len(sink.unsaved)} cell(s) already saved are kept; free "
            "space or fix permissions and rerun")
    return frame


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


#: seconds an idle loky worker waits for work before exiting (it also exits when the driver
#: dies, since its next wait for work then times out)
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

    def __init__(self, cache: CellCache, bar, run_log: _RunLog):
        self.cache, self.bar, self.run_log = cache, bar, run_log
        self.waiting: dict[str, Cell] = {}
        self.counts: Counter = Counter()
        self.unsaved: dict[str, dict] = {}
        self.cell_seconds = 0.0
        self.n_stored = 0

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
            self.cache.put(key, rec)
            if output:
                self.cache.put_log(key, output)
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
