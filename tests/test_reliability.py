"""Faults around a sweep: damaged or unwritable cell files, runaway cell processes, exit
statuses, and what a run leaves in its folder."""

import errno
import json
import logging
import os
import time
from pathlib import Path

import pytest
from helpers import session_processes, sweep_raw, write_sweep

from benchmarks.cache import CellCache
from benchmarks.cli import main
from benchmarks.config import parse_config
from benchmarks.errors import OutputFolderError
from benchmarks.harness import run_sweep
from benchmarks.isolation import truncate_text


def config(detectors, *, time_limit=30, **kw):
    return parse_config(sweep_raw(detectors, time_limit=time_limit, **kw))


def write_config(tmp_path, detectors, *, time_limit=30, **kw) -> Path:
    return write_sweep(tmp_path / "cfg.yaml", detectors, time_limit=time_limit, **kw)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_a_timed_out_cell_takes_its_children_with_it(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    cfg = config([{"name": "t-spawn", "params": {"pid_file": str(pid_file)}}], time_limit=4)
    df = run_sweep(cfg, tmp_path / "out", n_jobs=1, progress=False)
    assert df["status"].tolist() == ["timeout"]
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(pid), "the timed-out cell's child survived"


def test_non_finite_threshold_fails_the_cell_with_the_reason(tmp_path):
    cfg = config(["t-nan-threshold", "t-centroid"])
    df = run_sweep(cfg, tmp_path / "out", n_jobs=1, progress=False)
    status = dict(zip(df["detector"], df["status"], strict=True))
    assert status == {"t-nan-threshold": "failed", "t-centroid": "ok"}
    assert "non-finite threshold_" in df.loc[df["detector"] == "t-nan-threshold",
                                             "error"].item()


@pytest.mark.parametrize("content", [b"\xff\xfe not utf-8", b"[1, 2]", b'{"status": "ok"}',
                                     b'{"status": "weird"}'])
def test_a_damaged_cell_file_is_recomputed_with_a_warning(tmp_path, caplog, content):
    cfg = config(["t-centroid"])
    out = tmp_path / "out"
    first = run_sweep(cfg, out, n_jobs=1, progress=False)
    key = first["cell_id"].item()
    CellCache(out).path(key).write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="benchmarks.cache"):
        second = run_sweep(cfg, out, n_jobs=1, progress=False)
    assert second["status"].tolist() == ["ok"]
    assert second["auroc"].item() == first["auroc"].item()
    assert any(str(CellCache(out).path(key)) in r.getMessage() for r in caplog.records)
    assert json.loads(CellCache(out).path(key).read_text())["status"] == "ok"


def test_an_unwritable_cell_file_is_a_failed_cell_and_an_error(tmp_path, monkeypatch):
    cfg = config(["t-centroid", "t-oracle"], seeds=(0, 1))
    real_put = CellCache.put
    refused = []

    def put(self, key, record):
        if not refused:
            refused.append(key)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_put(self, key, record)

    monkeypatch.setattr(CellCache, "put", put)
    out = tmp_path / "out"
    with pytest.raises(OutputFolderError, match=r"output folder .*out.*1 cell file"):
        run_sweep(cfg, out, n_jobs=1, progress=False)
    assert len(CellCache(out).keys()) == 3  # the finished cells are kept
    import pandas as pd

    frame = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert len(frame) == 4
    bad = frame[frame["cell_id"] == refused[0]]
    assert bad["status"].item() == "failed" and "No space left" in bad["error"].item()


def test_a_cell_whose_log_cannot_be_written_is_not_stored_as_done(tmp_path, monkeypatch):
    def put_log(self, key, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    cfg = config(["t-centroid"])
    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        patch.setattr(CellCache, "put_log", put_log)
        with pytest.raises(OutputFolderError, match="1 cell file"):
            run_sweep(cfg, out, n_jobs=1, progress=False)
    assert CellCache(out).keys() == []  # no record says the failed cell finished
    assert run_sweep(cfg, out, n_jobs=1, progress=False)["status"].tolist() == ["ok"]


def test_a_full_output_folder_exits_non_zero_naming_it(tmp_path, monkeypatch, capsys):
    def put(self, key, record):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(CellCache, "put", put)
    cfg = write_config(tmp_path, ["t-centroid"])
    out = tmp_path / "out"
    code = main(["-q", "run", str(cfg), "--out", str(out), "--no-progress",
                 "--allow-failures"])
    err = capsys.readouterr().err
    assert code == 1 and str(out) in err and "No space left" in err


def test_exit_status_is_non_zero_when_a_cell_failed(tmp_path, capsys):
    cfg = write_config(tmp_path, ["t-centroid", "t-raise"])
    out = tmp_path / "out"
    assert main(["-q", "run", str(cfg), "--out", str(out), "--no-progress"]) == 1
    assert "1 cell(s) failed" in capsys.readouterr().err
    assert main(["-q", "run", str(cfg), "--out", str(out), "--no-progress",
                 "--allow-failures", "--no-retry-failed"]) == 0


def test_files_are_group_readable_and_run_log_has_a_line_per_cell(tmp_path):
    cfg = config(["t-centroid", "t-raise"])
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        run_sweep(cfg, out, n_jobs=1, progress=False)
    finally:
        os.umask(old)
    for path in [out / "results.csv", out / "config.yaml", *(out / "cells").glob("*.json")]:
        assert path.stat().st_mode & 0o777 == 0o644, path
    lines = (out / "run.log").read_text().splitlines()
    assert len(lines) == 3  # one per cell and the sweep's summary
    assert any("t-raise" in line and "failed" in line for line in lines)
    assert "done: 1 ok, 1 failed; core utilisation" in lines[-1]


def test_no_more_workers_than_cells(tmp_path, caplog):
    cfg = config(["t-centroid"])
    with caplog.at_level(logging.INFO, logger="benchmarks.sweep"):
        run_sweep(cfg, tmp_path / "out", n_jobs=8, progress=False)
    assert any("workers: 1," in r.getMessage() for r in caplog.records)


def test_long_error_text_keeps_head_and_tail():
    text = "A" * 5000 + "the end"
    cut = truncate_text(text, 100)
    assert len(cut) < 200 and cut.startswith("A" * 50) and cut.endswith("the end")


def test_report_writes_beside_a_user_sweep_folder_not_into_reports(tmp_path):
    from benchmarks.cli import _reports_dir

    user = tmp_path / "paper"
    assert _reports_dir(str(user), None) == tmp_path / "paper-reports"
    assert _reports_dir(str(user), "elsewhere") == Path("elsewhere")
    root = Path(__file__).resolve().parent.parent
    assert _reports_dir(str(root / "results" / "paper"), None) == root / "reports"


def test_version_and_datasets_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and "pugan-bench" in capsys.readouterr().out
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "moons" in out and "moons-paper" in out and "kddcup99-low" in out


def test_workers_exit_soon_after_the_driver_is_killed(tmp_path):
    import signal
    import subprocess
    import sys

    cfg = write_config(tmp_path, ["t-centroid", {"name": "t-sleep", "params": {"seconds": 3}}])
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks", "-q", "run", str(cfg),
                             "--out", str(out), "--n-jobs", "2", "--no-progress"],
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((out / "cells").glob("*.json")):
        time.sleep(0.1)
    assert list((out / "cells").glob("*.json")), "the quick cell never finished"
    assert len(session_processes(proc.pid)) > 1  # the workers are up
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # each worker watches the driver and exits when it is gone, the busy one in mid-cell (its
    # cell's child watches the worker in turn); left to loky, the idle worker would wait out
    # its idle time and then up to 30 s for the dead driver's exit lock, the busy one its
    # cell's 3 s on top
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and session_processes(proc.pid):
        time.sleep(0.2)
    left = session_processes(proc.pid)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"{len(left)} process(es) outlived the driver by 20 s"


def test_a_cell_that_prints_nothing_keeps_no_earlier_runs_log(tmp_path):
    """A cell computed again without output must not carry the log of an earlier attempt,
    which would read as this run's output beside an ok record."""
    cache = CellCache(tmp_path)
    cache.put_log("k", "diverging, giving up\n")
    assert cache.log_path("k").read_text() == "diverging, giving up\n"
    cache.put_log("k", "")
    assert not cache.log_path("k").exists()
    cache.put_log("k", "")  # nothing to remove: no error
