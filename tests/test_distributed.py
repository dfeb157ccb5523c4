"""Sweeps on a Dask cluster started the way people start one: `dask scheduler` and
`dask worker` processes with stock settings (daemonic workers, no configuration)."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import write_sweep

from benchmarks.cli import main
from benchmarks.results import TIMING_COLUMNS

DASK = str(Path(sys.executable).with_name("dask"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_config(path: Path) -> Path:
    # one seed: three cells, so one stock worker still runs two in turn
    return write_sweep(path, ["t-centroid", "t-oracle", {"name": "t-print"}], name="dist",
                       seeds=(0,), time_limit=60)


@contextlib.contextmanager
def stock_cluster(tmp_path):
    """A scheduler and two workers, as separate `dask` processes with default settings.

    Each leads a process group of its own, killed whole at the end: a graceful close of the
    scheduler and the workers (with their nannies) only costs time here.
    """
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    procs = []
    logs = []
    try:
        def start(*args):
            log = open(tmp_path / f"dask-{len(procs)}.log", "wb")  # noqa: SIM115
            logs.append(log)
            procs.append(subprocess.Popen([DASK, *args], stdout=log, stderr=subprocess.STDOUT,
                                          env=env, cwd=tmp_path, start_new_session=True))

        start("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
        for _ in range(2):
            start("worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                  "--no-dashboard")
        from dask.distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            daemonic = client.run(lambda: __import__("multiprocessing").current_process().daemon)
        assert all(daemonic.values()), "stock workers are expected to be daemonic"
        yield address
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
        for p in procs:
            p.wait()
        for log in logs:
            log.close()


def _scores(folder: Path) -> pd.DataFrame:
    frame = pd.read_csv(folder / "results.csv", keep_default_na=False)
    return frame.drop(columns=list(TIMING_COLUMNS)).reset_index(drop=True)


@pytest.mark.timeout(600)
def test_a_stock_dask_cluster_gives_the_scores_of_loky(tmp_path, capsys):
    cfg = _write_config(tmp_path / "dist.yaml")
    assert main(["-q", "run", str(cfg), "--out", str(tmp_path / "loky"), "--n-jobs", "2",
                 "--no-progress"]) == 0
    with stock_cluster(tmp_path) as address:
        # --n-jobs says nothing of a cluster's size: the run records the cluster's threads
        assert main(["-q", "run", str(cfg), "--out", str(tmp_path / "dask"), "--backend",
                     "dask", "--scheduler", address, "--n-jobs", "1", "--no-progress"]) == 0
    run = json.loads((tmp_path / "dask" / "runs.jsonl").read_text().splitlines()[-1])
    assert run["workers"] == 2 and run["cores"] == 2
    loky, dask = _scores(tmp_path / "loky"), _scores(tmp_path / "dask")
    assert (dask["status"] == "ok").all(), dask["error"].tolist()
    pd.testing.assert_frame_equal(loky, dask)
    # what the detector printed went to each cell's log, not to the command's output
    out = capsys.readouterr()
    assert "t-print says hello" not in out.out + out.err
    for folder in (tmp_path / "loky", tmp_path / "dask"):
        logs = sorted((folder / "cells").glob("*.log"))
        assert len(logs) == 1 and all("t-print says hello" in p.read_text() for p in logs)


@pytest.mark.timeout(120)  # a hang fails; the connection gives up at the short timeout below
def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    """Nothing listens at the address: one line naming it, the time waited and the likely
    cause, exit 2."""
    import benchmarks.sweep as sweep

    monkeypatch.setattr(sweep, "SCHEDULER_TIMEOUT", "2s")
    cfg = _write_config(tmp_path / "dist.yaml")
    address = f"tcp://127.0.0.1:{_free_port()}"
    code = main(["-q", "run", str(cfg), "--out", str(tmp_path / "out"), "--backend", "dask",
                 "--scheduler", address, "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0, err
    assert err.startswith("pugan-bench run: error: cannot reach the Dask scheduler at "
                          f"{address} within 2s ("), err
    assert err.endswith("is `dask scheduler` running there?"), err


def test_threads_per_cell_come_from_the_worker_running_it():
    from dask.distributed import Client, LocalCluster

    from benchmarks.cell_runner import worker_threads
    from benchmarks.isolation import available_cores

    assert worker_threads() == available_cores()  # outside a worker: one cell at a time
    for nthreads in (1, 2):
        with LocalCluster(n_workers=1, threads_per_worker=nthreads, processes=False,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            got = client.submit(worker_threads, pure=False).result()
        assert got == max(1, available_cores() // nthreads)



def test_local_workers_leave_ctrl_c_to_the_driver_even_when_restarted():
    """A Ctrl-C in the terminal reaches every process of its group; the local Dask workers
    set SIGINT aside (a restarted one too), so only the driver answers it, with its one line,
    instead of a KeyboardInterrupt traceback from each worker."""
    from benchmarks.sweep import _dask_client

    def ignores_ctrl_c():
        return signal.getsignal(signal.SIGINT) is signal.SIG_IGN

    driver_handler = signal.getsignal(signal.SIGINT)
    client, cluster = _dask_client(None, 1)
    try:
        assert list(client.run(ignores_ctrl_c).values()) == [True]
        client.restart()
        assert list(client.run(ignores_ctrl_c).values()) == [True]
    finally:
        client.close()
        cluster.close()
    # the driver keeps its own handler: Python's default one, or SIG_IGN where the shell
    # that started the tests ignored Ctrl-C for its background jobs
    assert signal.getsignal(signal.SIGINT) is driver_handler
