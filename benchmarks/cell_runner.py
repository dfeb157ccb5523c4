"""Running one cell in a worker: its split, the skip rules, fit and score, its record.

:func:`run_cell` is the task a sweep sends to a worker. The worker computes the cell's split
(cached in the worker process, so detectors sharing a split reuse it: the split depends only
on the dataset, its parameters, the ratio, the fraction and the seed, never on the detector),
skips the cell when the training set is larger than the detector's ``max_train_rows`` (for a
normals-only detector: the known normals, the rows it fits on), and otherwise fits and scores
the detector with :func:`fit_and_score` in a child process under the time limit
(:mod:`benchmarks.isolation`). What comes back is the cell's record: its status, metrics,
sizes, timings and versions, plus its test records' scores (``per_record``), which the driver
stores beside the record.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import platform
import sys
import time
from collections import OrderedDict

import numpy as np

from benchmarks.cells import Cell
from benchmarks.isolation import (
    available_cores,
    error_text,
    failure_record,
    limit_threads,
    peak_mb,
    run_isolated,
    thread_limits,
)
from benchmarks.metrics import anomaly_metrics, heldout_metrics
from benchmarks.plugins import import_plugins

__all__ = ["fit_and_score", "forkserver_preload", "library_versions", "private_arrays",
           "run_cell"]


@functools.cache
def library_versions() -> dict[str, str]:
    """Versions recorded in every row (read from package metadata, importing nothing heavy)."""
    from benchmarks.fingerprint import dist_version

    def v(dist):
        return dist_version(dist, "not installed")

    return {
        "version_pugan_bench": v("pugan-bench"), "version_torch": v("torch"),
        "version_sklearn": v("scikit-learn"), "version_pyod": v("pyod"),
        "version_numpy": v("numpy"), "version_python": platform.python_version(),
    }


# --- the child's work ---------------------------------------------------------------------------

def fit_and_score(payload: dict) -> dict:
    """Build, fit and score one detector; returns the result fields (raises on failure).

    Runs in the cell's child process; ``payload`` holds the detector's name, params and seed,
    the thread count, the plugins and the split's arrays.
    """
    from benchmarks.registry import fit_detector, get_spec, make_detector
    from pugan.base import labels_at_threshold

    threads = payload["threads"]
    limit_threads(threads)
    import_plugins(payload["plugins"])
    spec = get_spec(payload["detector_name"])
    det = make_detector(payload["detector_name"], random_state=payload["model_seed"],
                        **payload["detector_params"])
    limit_threads(threads)  # again: building the detector may have loaded torch or a BLAS
    t0 = time.perf_counter()
    fit_detector(det, spec.supervision, payload["X_train"], payload["y_train"],
                 payload["known_normal"])
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
            "n_test_flagged": int(labels.sum()), "peak_mb": peak_mb(),
            "n_reliable": None if n_reliable is None else int(n_reliable),
            "arithmetic": training_arithmetic(det),
            "test_scores": scores.astype(np.float32), "test_labels": labels.astype(np.int8)}


def training_arithmetic(det) -> str:
    """The arithmetic a fitted detector trained in, for a detector that chooses it by the
    processor (PU-GAN's ``precision_``: bfloat16 where products in it are native, else
    float32), or "" for one that does not: its scores, not only its time, depend on it.
    Only a string counts: in scikit-learn, ``precision_`` is a covariance model's matrix."""
    chosen = getattr(det, "precision_", None)
    return chosen if isinstance(chosen, str) else ""


#: modules the per-cell forkserver imports once, so that each cell's child (a fork of it)
#: starts with them loaded instead of importing them again. A speed hint only: a module that
#: fails to import is skipped by multiprocessing. This module always (it holds the child's
#: work); the baseline libraries when the sweep uses a built-in detector (their imports are
#: a large share of a fast PyOD cell); torch and pugan when it has a deep detector (importing
#: torch starts no thread pool, so forking after it is safe on CPU).
BASE_PRELOAD = (__name__,)
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


# --- the worker's side --------------------------------------------------------------------------

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


def worker_threads() -> int:
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
    return max(1, available_cores() // slots)


def run_cell(cell: Cell, *, time_limit: float | None = None, threads: int | None = 1,
             plugins: tuple[str, ...] = (), isolate: bool = True,
             preload: tuple[str, ...] = BASE_PRELOAD) -> dict:
    """Run one cell and return its record; never raises for a problem of the cell itself.

    Parameters
    ----------
    cell : the cell.
    time_limit : seconds for the cell's child process, from its start (interpreter and
        imports where it is a fresh subprocess, as on Dask) through fit and score; the
        split comes before it, in the worker; isolated runs only; None for no limit.
    threads : BLAS/OpenMP/torch threads for this cell; None: the worker's cores divided by
        the cells it runs at once (:func:`worker_threads`).
    plugins : modules or .py files to import first (they may register detectors).
    isolate : run fit + score in a child process (time limit, crash isolation); False runs it
        in this process (for debugging: no time limit, and a crash takes the worker down).
    preload : modules the per-cell forkserver imports once (see :func:`forkserver_preload`).
    """
    t0 = time.perf_counter()
    _keep_worker_caches()
    if threads is None:
        threads = worker_threads()
    # a daemonic worker (stock Dask) may run several cells in threads at once: it leaves its
    # own limits alone, and each cell's child gets its limit through its environment
    limits = (contextlib.nullcontext() if multiprocessing.current_process().daemon
              else thread_limits(threads))
    with limits:
        fields = _run_cell_body(cell, time_limit=time_limit, threads=threads, plugins=plugins,
                                isolate=isolate, preload=preload)
    return {"key": cell.key, **fields, "cell_seconds": time.perf_counter() - t0,
            **library_versions()}


def _run_cell_body(cell: Cell, *, time_limit, threads, plugins, isolate, preload) -> dict:
    """The fields of the cell's record: sizes, then the fit's result or why there is none."""
    from benchmarks.registry import get_spec
    from benchmarks.splits import SplitInfeasible

    fields: dict = {}
    try:
        import_plugins(plugins)
        spec = get_spec(cell.detector_name)
        fields["supervision"] = spec.supervision
        try:
            split = _get_split(cell)
        except SplitInfeasible as exc:  # the dataset cannot fill this cell: not a fault
            return {**fields, "status": "skipped", "error": f"split cannot be filled: {exc}"}
        except Exception as exc:
            raise RuntimeError(f"split failed: {error_text(exc)}") from exc
        fields.update(_split_sizes(split))
        refusal = _size_refusal(cell, spec, fields)
        if refusal:
            return {**fields, "status": "skipped", "error": refusal}
        payload = _payload(cell, spec, split, threads, plugins)
        if isolate:
            result = run_isolated(fit_and_score, payload, time_limit, threads=threads,
                                  preload=preload)
        else:
            try:
                result = fit_and_score(private_arrays(payload))
            except Exception as exc:
                result = failure_record(exc)
        return {**fields, **_with_per_record(result, split)}
    except Exception as exc:
        return {**fields, **failure_record(exc)}


def _split_sizes(split) -> dict:
    return {"n_train": int(len(split.X_train)), "n_known_normal": int(np.sum(split.known_normal)),
            "n_test": int(len(split.X_test)), "n_test_anomalies": int(np.sum(split.y_test)),
            "n_features": int(split.X_train.shape[1]),
            **{k: split.meta.get(k) for k in ("n_test_anomalies_distinct",
                                              "n_test_anomalies_twin_in_train")}}


def _size_refusal(cell: Cell, spec, sizes: dict) -> str:
    """Why the detector cannot take this split ("" when it can): more rows than it scales to.

    The rows compared are those the detector fits on: the known normals for a normals-only
    detector, every training row otherwise.
    """
    normals_only = spec.supervision == "normals-only"
    fit_rows = sizes["n_known_normal"] if normals_only else sizes["n_train"]
    if spec.max_train_rows is None or fit_rows <= spec.max_train_rows:
        return ""
    what = "known-normal training rows" if normals_only else "training rows"
    return f"{cell.detector_name} cannot scale to {fit_rows} {what} (max {spec.max_train_rows})"


def _payload(cell: Cell, spec, split, threads: int, plugins) -> dict:
    """What the child needs: the detector's settings and the split's arrays (test labels go
    to the metrics only; training labels to an oracle detector only)."""
    return {
        "detector_name": cell.detector_name, "detector_params": cell.detector_params,
        "model_seed": cell.model_seed, "threads": threads, "plugins": tuple(plugins),
        "X_train": split.X_train, "known_normal": np.asarray(split.known_normal),
        "X_test": split.X_test, "y_test": split.y_test,
        "y_train": split.y_train if spec.supervision == "oracle" else None,
        "type_test": split.type_test,
        "heldout_types": split.meta.get("holdout_anomaly_types", []),
    }


def private_arrays(payload: dict) -> dict:
    """``payload`` with a copy of each of its arrays, for a detector run in this process.

    Why: the arrays are the worker's cached split (:func:`_get_split`), shared by every cell
    of that split in this worker. An isolated cell's child gets copies through pickling, so a
    detector that changes ``X`` in place (standardising it, say) changes only its own copy;
    without isolation it would damage the split of every later cell here, whose results
    would be cached under their normal keys. Copies give it what the child would have had.
    """
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in payload.items()}


def _with_per_record(result: dict, split) -> dict:
    """``result`` with its test scores and labels moved into ``per_record`` (ok cells only).

    They travel beside the record (not in its JSON file) and are stored as the cell's Parquet
    scores file, so that other metrics can be computed later without rerunning it.
    """
    result = dict(result)
    scores, labels = result.pop("test_scores", None), result.pop("test_labels", None)
    if result.get("status") != "ok" or scores is None or labels is None:
        return result
    per_record = {"score": scores, "y_test": np.asarray(split.y_test, dtype=np.int8),
                  "label": labels}
    if split.type_test is not None:
        per_record["anomaly_type"] = np.asarray(split.type_test, dtype=object)
    return {**result, "per_record": per_record}
