"""Running one function call in a child process: time limit, crash isolation, captured output.

:func:`run_isolated` calls ``target(payload)`` in a fresh child process and returns the dict it
returns. The child is a fork of a multiprocessing ``forkserver`` (which has imported the
``preload`` modules once, so each child starts with them loaded), or, in a daemonic process (a
stock Dask worker, which multiprocessing forbids to have children), a fresh interpreter started
with :mod:`subprocess`. Either way the child leads its own process group, watches its parent
(and exits if the parent dies), writes what it prints to a log file that comes back as
``rec["log"]``, and is killed with its whole group at the time limit.

What comes back is always a record: the target's own dict, ``{"status": "failed", ...}`` for
an exception in the target (with its traceback) or a child that died without a result (killed
by the OS, a segfault, ``os._exit``), or ``{"status": "timeout", ...}``.

Nothing here knows about detectors, splits or metrics (only its messages speak of a cell):
:mod:`benchmarks.cell_runner` is the caller.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
import traceback

__all__ = [
    "available_cores",
    "error_text",
    "exit_with_parent",
    "failure_record",
    "limit_threads",
    "peak_mb",
    "run_isolated",
    "thread_limits",
    "truncate_text",
]

ERROR_TEXT_MAX = 2000
TRACEBACK_TEXT_MAX = 20_000
#: characters of a child's output kept in its log (head and tail)
LOG_TEXT_MAX = 200_000


def truncate_text(text: str, limit: int = ERROR_TEXT_MAX) -> str:
    """``text`` cut to about ``limit`` characters, keeping its head and its tail.

    Why both: an exception message names what failed at its start and often the value that
    broke it at its end; a cell file must stay small whatever a detector raises.
    """
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]} ... [{len(text) - 2 * half} characters cut] ... {text[-half:]}"


def error_text(exc: BaseException) -> str:
    """``Type: message`` of an exception, cut to :data:`ERROR_TEXT_MAX` characters."""
    return truncate_text(f"{type(exc).__name__}: {exc}")


def failure_record(exc: BaseException) -> dict:
    """The failed record of an exception being handled: its text and its traceback."""
    return {"status": "failed", "error": error_text(exc),
            "traceback": truncate_text(traceback.format_exc(limit=20), TRACEBACK_TEXT_MAX)}


def peak_mb() -> float:
    """Peak resident memory of this process in MiB (Linux reports ru_maxrss in KiB)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS reports one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# --- threads ------------------------------------------------------------------------------------

_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def limit_threads(n: int) -> None:
    """Limit BLAS/OpenMP/torch threads of this process to ``n`` for good (a child)."""
    for var in _THREAD_VARS:
        os.environ[var] = str(n)
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


@contextlib.contextmanager
def thread_limits(n: int):
    """Limit threads to ``n`` inside, then restore (a worker, or the driver with n_jobs=1).

    The variables are set while the forkserver starts, so children inherit them.
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


# --- the child's side ---------------------------------------------------------------------------

def exit_with_parent(interval: float = 1.0) -> None:
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


def _guarded(target, payload) -> dict:
    """``target(payload)``; any exception, even a ``SystemExit``, becomes a failed record."""
    try:
        return target(payload)
    except BaseException as exc:  # noqa: B036 - everything becomes a failed record
        return {**failure_record(exc), "peak_mb": peak_mb()}


def _child_main(conn, target, payload: dict, log_path: str | None = None) -> None:
    """Entry point of a forkserver child.

    It leads a process group of its own, so a time-out kills whatever it started too.
    """
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    exit_with_parent()
    _redirect_output(log_path)
    rec = _guarded(target, payload)
    try:
        conn.send(rec)
    finally:
        conn.close()


def _subprocess_main(target_name: str, payload_path: str, result_path: str) -> None:
    """Entry point of a child started by :func:`_run_subprocess` (``module:function``)."""
    import importlib
    import pickle

    exit_with_parent()
    module, _, name = target_name.partition(":")
    target = getattr(importlib.import_module(module), name)
    with open(payload_path, "rb") as fh:
        payload = pickle.load(fh)
    rec = _guarded(target, payload)
    tmp = result_path + ".tmp"
    with open(tmp, "wb") as fh:
        pickle.dump(rec, fh)
    os.replace(tmp, result_path)


# --- the parent's side --------------------------------------------------------------------------

@functools.cache
def _mp_context(preload: tuple[str, ...] = ()):
    """The forkserver context of this process (one server per worker process).

    The server starts with the first isolated call of the process, with that call's preload;
    later calls in the same process reuse it as it is.
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
    """SIGKILL the process group led by ``pid`` (the child and all it started)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _timeout_record(time_limit: float) -> dict:
    return {"status": "timeout",
            "error": f"time limit of {time_limit:g} s exceeded (the cell's process: "
                      "start-up, fit and score); killed"}


def _read_log(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return truncate_text(fh.read(), LOG_TEXT_MAX)
    except OSError:
        return ""


def run_isolated(target, payload: dict, time_limit: float | None, *, threads: int,
                 preload: tuple[str, ...] = ()) -> dict:
    """``target(payload)`` in a child process; its printed output comes back as ``rec["log"]``.

    Parameters
    ----------
    target : a module-level function taking the payload and returning a picklable dict.
    payload : its argument (pickled to the child).
    time_limit : seconds before the child and its process group are killed; None for none.
    threads : BLAS/OpenMP thread variables of a :mod:`subprocess` child (a forkserver child
        inherits them from the server).
    preload : modules the forkserver imports once (a speed hint; include ``target``'s module).
    """
    import tempfile

    fd, log_path = tempfile.mkstemp(prefix="pugan-bench-cell-", suffix=".log")
    os.close(fd)
    try:
        if multiprocessing.current_process().daemon:
            rec = _run_subprocess(target, payload, time_limit, log_path, threads)
        else:
            rec = _run_forkserver(target, payload, time_limit, log_path, preload)
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


def _run_subprocess(target, payload: dict, time_limit: float | None, log_path: str,
                    threads: int) -> dict:
    import pickle
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="pugan-bench-cell-") as tmp:
        payload_path = os.path.join(tmp, "payload.pkl")
        result_path = os.path.join(tmp, "result.pkl")
        with open(payload_path, "wb") as fh:
            pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
        code = ("import sys; from benchmarks.isolation import _subprocess_main; "
                "_subprocess_main(sys.argv[1], sys.argv[2], sys.argv[3])")
        target_name = f"{target.__module__}:{target.__qualname__}"
        with open(log_path, "ab") as log_fh:
            proc = subprocess.Popen(
                [sys.executable, "-c", code, target_name, payload_path, result_path],
                stdin=subprocess.DEVNULL, stdout=log_fh, stderr=subprocess.STDOUT,
                env=_child_env(threads), start_new_session=True)
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
        _kill_group(proc.pid)  # whatever the child left running
        try:
            with open(result_path, "rb") as fh:
                return pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError):
            return {"status": "failed", "error": _describe_exit(proc.returncode)}


def _run_forkserver(target, payload: dict, time_limit: float | None, log_path: str,
                    preload: tuple[str, ...]) -> dict:
    ctx = _mp_context(tuple(preload))
    recv_conn, send_conn = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(send_conn, target, payload, log_path),
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
        _kill_group(proc.pid)  # whatever the child left running
        if rec is None:
            return {"status": "failed", "error": _describe_exit(proc.exitcode)}
        return rec
    finally:
        recv_conn.close()
        if proc.is_alive():
            _kill_group(proc.pid)
            proc.kill()
            proc.join()
