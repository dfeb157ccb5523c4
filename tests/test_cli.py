"""The command line: run/report/detectors/validate, errors, kill -9 mid-sweep, concurrent runs."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import session_processes, write_sweep

from benchmarks.cli import main

ROOT = Path(__file__).resolve().parent.parent


def write_config(path, detectors=("t-centroid", "t-oracle"), seeds=(0, 1)):
    """Moons at two anomaly ratios: with the default detectors and seeds, 8 cells."""
    return write_sweep(path, list(detectors), seeds=seeds, ratios=(0.1, 0.2))


def cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "benchmarks", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_run_then_report(tmp_path, capsys):
    cfg = write_config(tmp_path / "s.yaml")
    assert main(["validate", str(cfg)]) == 0
    assert "-> 8 cells" in capsys.readouterr().out
    out = tmp_path / "sweep"
    assert main(["-q", "run", str(cfg), "--out", str(out), "--n-jobs", "2", "--no-progress"]) == 0
    assert "8 cells: 8 ok" in capsys.readouterr().out
    assert len(pd.read_csv(out / "results.csv")) == 8
    assert main(["report", str(out), "--reports-dir", str(tmp_path / "rep"), "-q"]) == 0
    assert (tmp_path / "rep" / "sweep_table2.md").is_file()
    assert (tmp_path / "rep" / "figures" / "sweep_moons_auprc_vs_anomaly_ratio.png").is_file()


def test_errors_exit_2_with_a_message(tmp_path, capsys):
    bad = write_config(tmp_path / "bad.yaml", detectors=["nope"])
    assert main(["run", str(bad), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "error: detectors[0]: unknown detector 'nope'" in err
    assert not (tmp_path / "o").exists()  # refused before anything ran or was written
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "no results file" in capsys.readouterr().err
    cfg = write_config(tmp_path / "s.yaml", detectors=["t-raise"], seeds=(0,))
    assert main(["-q", "run", str(cfg), "--out", str(tmp_path / "f"), "--no-progress",
                 "--strict"]) == 1


def test_detectors_and_module_entry_point():
    """``detectors`` prints the registry as a table, one detector per row by name; a command
    that exited 0 with an empty or headless listing would fail here."""
    proc = cli("detectors")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    header, *rows = out.splitlines()
    assert header.split()[0] == "name", out
    names = {row.split()[0] for row in rows if row.strip()}
    assert {"iforest", "ocsvm", "pugan", "pu-bagging"} <= names, out
    proc = cli("--help")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "run" in out and "report" in out and "detectors" in out


def test_kill_9_mid_sweep_loses_no_finished_cell(tmp_path):
    cfg = write_config(tmp_path / "s.yaml", seeds=(0, 1, 2, 3),
                       detectors=[{"name": "t-sleep", "params": {"seconds": 0.4}}])
    out = tmp_path / "sweep"
    proc = cli("-q", "run", str(cfg), "--out", str(out), "--n-jobs", "1", "--no-progress",
               start_new_session=True)
    cells = out / "cells"
    deadline = time.time() + 90
    while time.time() < deadline and len(list(cells.glob("*.json"))) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p: p.stat().st_mtime_ns for p in cells.glob("*.json")}
    assert 2 <= len(done) < 8, "the sweep should be interrupted mid-way"
    for p in done:
        assert json.loads(p.read_text())["status"] == "ok"  # whole files only
    # the orphaned cell child notices its parent is gone and exits
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and session_processes(proc.pid):
        time.sleep(0.1)
    assert not session_processes(proc.pid), "the killed run left processes behind"
    proc = cli("-q", "run", str(cfg), "--out", str(out), "--n-jobs", "1", "--no-progress")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert all(p.stat().st_mtime_ns == m for p, m in done.items())  # not recomputed
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 8 and (df["status"] == "ok").all()


def test_two_runs_into_the_same_folder_at_once(tmp_path):
    cfg = write_config(tmp_path / "s.yaml")
    out = tmp_path / "sweep"
    procs = [cli("-q", "run", str(cfg), "--out", str(out), "--n-jobs", "1", "--no-progress")
             for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 8 and (df["status"] == "ok").all()
    for p in (out / "cells").glob("*.json"):
        json.loads(p.read_text())
    assert not list((out / "cells").glob("*.tmp"))


@pytest.mark.parametrize("flag, value, match", [("--time-limit", "-1", "--time-limit must be positive"),
                                                ("--n-jobs", "0", "n_jobs must be a positive"),
                                                ("--seeds", "0,7", "must name seeds of the config"),
                                                ("--seeds", "a", "comma-separated integers"),
                                                ("--seeds", "0,0", "more than once"),
                                                ("--strict", "--allow-failures", "contradict"),
                                                ("--force", "--keep-rows", "contradict")])
def test_bad_cli_values(tmp_path, capsys, flag, value, match):
    cfg = write_config(tmp_path / "s.yaml")
    assert main(["run", str(cfg), "--out", str(tmp_path / "o"), flag, value,
                 "--no-progress"]) == 2
    assert match in capsys.readouterr().err


def test_a_first_look_on_some_seeds_is_reused_by_the_full_run(tmp_path, capsys):
    cfg = write_config(tmp_path / "s.yaml")
    out = tmp_path / "sweep"
    assert main(["-q", "run", str(cfg), "--out", str(out), "--seeds", "1", "--n-jobs", "1",
                 "--no-progress"]) == 0
    assert "4 cells: 4 ok" in capsys.readouterr().out
    assert set(pd.read_csv(out / "results.csv")["seed"]) == {1}
    first = {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json")}
    assert main(["-q", "run", str(cfg), "--out", str(out), "--n-jobs", "1", "--no-progress"]) == 0
    assert set(pd.read_csv(out / "results.csv")["seed"]) == {0, 1}
    again = {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json")}
    assert all(again[name] == t for name, t in first.items())   # seed 1's cells not rerun
    # each run is recorded: what it found cached, what it ran, its wall and cell time
    from benchmarks.report import cost_lines, load_results
    from benchmarks.results import read_runs

    runs = read_runs(out)
    assert list(runs["cells"]) == [4, 8] and list(runs["cached"]) == [0, 4]
    assert list(runs["run"]) == [4, 4] and (runs["wall_seconds"] > 0).all()
    # the first run computed its whole (one-seed) sweep; the second did not: no wall time for 8
    text = cost_lines(load_results(out), out)[0]
    assert "8 cells" in text and "no run from an empty folder with the code" in text
    assert all(v == sorted(set(load_results(out)["code_version"])) for v in runs["code_versions"])


def test_sigterm_stops_like_ctrl_c_and_writes_results(tmp_path):
    cfg = write_config(tmp_path / "s.yaml", seeds=(0, 1, 2, 3),
                       detectors=[{"name": "t-sleep", "params": {"seconds": 0.4}}])
    out = tmp_path / "sweep"
    proc = cli("run", str(cfg), "--out", str(out), "--n-jobs", "1", "--no-progress")
    deadline = time.time() + 90
    while time.time() < deadline and len(list((out / "cells").glob("*.json"))) < 2:
        time.sleep(0.05)
    proc.terminate()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    # one account of the stop, with the folder the finished cells are kept in
    assert err.count("resume with") == 1, err
    assert f"interrupted; finished cells are kept in {out / 'cells'}; resume with the same " \
           "command" in err
    done = len(list((out / "cells").glob("*.json")))
    assert 2 <= done < 8
    assert len(pd.read_csv(out / "results.csv")) == done  # written from the finished cells


def test_ablation_subcommand_takes_development_seeds_unless_told(tmp_path, capsys):
    from benchmarks.cli import _parser
    from benchmarks.seeds import DEV_SEEDS

    args = _parser().parse_args(["ablation"])
    assert tuple(args.seeds) == tuple(DEV_SEEDS[:3]) and not args.allow_report_seeds
    assert (args.presets, args.out, args.n_jobs) == ("moons-paper,kddcup99-low",
                                                     "results/ablation", 2)
    # report seeds without the opt-in are refused before any fit
    code = main(["ablation", "--seeds", "0-2", "--out", str(tmp_path / "abl"),
                 "--reports", str(tmp_path / "rep")])
    assert code == 2 and "report seed" in capsys.readouterr().err
    assert not (tmp_path / "abl").exists()
    # a worker count below one is named, before any fit
    for bad in ("0", "-5"):
        code = main(["ablation", "--n-jobs", bad, "--out", str(tmp_path / "abl"),
                     "--reports", str(tmp_path / "rep")])
        assert code == 2 and "--n-jobs must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "abl").exists()


def test_scale_curves_subcommand_redraws_the_figure_from_its_csv(tmp_path):
    import pandas as pd

    csv = tmp_path / "scale.csv"
    pd.DataFrame([{"detector": d, "n_train": n, "status": "ok", "fit_seconds": s * n / 1e4,
                   "score_seconds": s} for d, s in (("iforest", 0.1), ("knn-normals", 0.3))
                  for n in (10_000, 30_000)]).to_csv(csv, index=False)
    figure = tmp_path / "fig" / "curves"
    assert main(["-q", "scale-curves", "--plot-only", "--out", str(csv),
                 "--figure", str(figure)]) == 0
    assert figure.with_suffix(".png").is_file() and figure.with_suffix(".svg").is_file()
    table = figure.with_suffix(".md").read_text()
    assert "| knn-normals | 0.30 s | 0.90 s |" in table and "do not edit" in table


def test_report_help_names_every_sweep_whose_reports_are_committed(capsys):
    """The --reports-dir help says where a report goes by default; it must name each folder
    that writes into the repository's reports/, not a subset."""
    from benchmarks.cli import COMMITTED_SWEEPS, _reports_dir

    with pytest.raises(SystemExit):
        main(["report", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    # the sweeps whose reports are committed, read from reports/ itself (the help and the
    # default are both built from COMMITTED_SWEEPS, so neither can check it): table2.md is the
    # paper sweep's, <sweep>_table2.md every other one's
    on_disk = {"results/" + ("paper" if p.name == "table2.md" else p.name[:-len("_table2.md")])
               for p in (ROOT / "reports").glob("*table2.md")}
    assert set(COMMITTED_SWEEPS) == on_disk
    for sweep in on_disk:
        assert sweep in help_text
        assert _reports_dir(str(ROOT / sweep), None) == ROOT / "reports"


def test_the_time_estimate_skips_cells_that_left_no_time(tmp_path, monkeypatch):
    """A lost-worker row has a blank cell_seconds; the estimate must use the others."""
    from types import SimpleNamespace

    import benchmarks.cli as cli

    timed = tmp_path / "results.csv"
    pd.DataFrame({"detector_name": ["iforest"] * 3, "dataset_name": ["moons"] * 3,
                  "preset": [""] * 3, "cell_seconds": ["100", "", "300"]}).to_csv(timed, index=False)
    monkeypatch.setattr(cli, "TIMED_SWEEPS", (str(timed),))
    cell = SimpleNamespace(detector_name="iforest", preset=None, dataset_name="moons")
    text = cli._time_estimate([cell, cell], n_jobs=2)
    assert "about 3 min with n_jobs=2 for 2 of 2 cells" in text  # median 200 s a cell


def test_the_presets_listed_by_datasets_are_told_apart(capsys):
    """A preset and its -dedupe twin share ratio and fraction: the line says which drops
    duplicate records, so no two presets print the same description."""
    assert main(["datasets"]) == 0
    lines = capsys.readouterr().out.split("presets")[1].splitlines()[1:]
    described = [line.split(None, 1)[1] for line in lines if line.strip()]
    assert len(described) == len(set(described)) > 0
    assert any("duplicate records dropped" in d for d in described)


def test_stale_counts_the_rows_of_changed_code_and_what_they_cost(tmp_path, capsys):
    """A row whose code version is not the current code's is stale; the command sums the cell
    seconds of those rows per folder and in all, and names the command that fills the folder."""
    frame = pd.read_csv(ROOT / "results" / "unknown_types" / "results.csv")
    old = frame["detector"].str.startswith("pugan")
    frame.loc[old, "code_version"] = "0.1.0+000000000000"
    folder = tmp_path / "sweep"
    folder.mkdir()
    frame.to_csv(folder / "results.csv", index=False)
    assert main(["stale", str(folder)]) == 0
    out = capsys.readouterr().out
    seconds = frame.loc[old, "cell_seconds"].sum()
    assert f"{old.sum()} of {len(frame)} rows stale (pugan (small)); they took " \
           f"{seconds:,.0f} cell seconds" in out
    assert f"in all: {old.sum()} stale rows, {seconds:,.0f} cell seconds" in out
    assert main(["stale", str(ROOT / "results" / "unknown_types")]) == 0
    assert f"unknown_types: all {len(frame)} rows current" in capsys.readouterr().out
    assert main(["stale", str(tmp_path / "none")]) == 2
    assert "holds no results.csv: name a sweep folder" in capsys.readouterr().err


def test_stale_without_committed_folders_says_it_read_nothing(tmp_path, capsys, monkeypatch):
    """An installed copy has no results/ beside it: no folder read is not "nothing stale"."""
    import benchmarks.cli as cli_module

    monkeypatch.setattr(cli_module, "PROJECT_ROOT", tmp_path)
    assert main(["stale"]) == 2
    assert f"no committed sweep folder under {tmp_path}" in capsys.readouterr().err
