"""``pugan-bench rerun``: the chosen cells computed again into a copy, every other row kept."""

from pathlib import Path

import pandas as pd
from helpers import write_sweep

from benchmarks.cli import main


def _sweep(tmp_path, detectors=("t-centroid", "t-oracle")):
    """Moons at two ratios, two seeds: four cells per detector, run into ``tmp_path/source``."""
    cfg = write_sweep(tmp_path / "s.yaml", list(detectors), seeds=(0, 1), ratios=(0.1, 0.2))
    source = tmp_path / "source"
    main(["-q", "run", str(cfg), "--out", str(source), "--n-jobs", "1", "--no-progress",
          "--allow-failures"])
    return source


def test_only_the_chosen_cells_run_again_and_their_moves_are_written(tmp_path, capsys):
    source = _sweep(tmp_path, ("t-centroid", "t-oracle", "t-raise"))
    # a mark on the rows that must be carried, not recomputed
    frame = pd.read_csv(source / "results.csv", dtype=str, keep_default_na=False)
    frame.loc[frame["detector"] == "t-oracle", "auprc"] = "0.123"
    frame.to_csv(source / "results.csv", index=False)
    dest = tmp_path / "copy" / "sweep"
    capsys.readouterr()
    # a carried failure stays as it was: not retried, and no reason to exit 1
    assert main(["-q", "rerun", str(source), str(dest), "--detector", "t-centroid",
                 "--n-jobs", "1"]) == 0
    assert "4 row(s) of" in capsys.readouterr().out
    again = pd.read_csv(dest / "results.csv", dtype=str, keep_default_na=False)
    assert len(again) == len(frame) == 12
    assert (again.loc[again["detector"] == "t-oracle", "auprc"] == "0.123").all()
    assert (again.loc[again["detector"] == "t-raise", "status"] == "failed").all()
    computed = (dest / "run.log").read_text()
    assert "t-centroid" in computed and "t-raise" not in computed  # carried, not run again
    assert len(list((dest / "cells").glob("*.scores.parquet"))) == 4  # computed: t-centroid
    before = frame[frame["detector"] == "t-centroid"].reset_index(drop=True)
    after = again[again["detector"] == "t-centroid"].reset_index(drop=True)
    pd.testing.assert_series_equal(before["auprc"], after["auprc"])  # a deterministic detector
    moves = pd.read_csv(dest / "moves.csv")
    assert len(moves) == 4  # two ratios x {auprc, f1}: no held-out types in this sweep
    assert set(moves["detector"]) == {"t-centroid"} and set(moves["score"]) == {"auprc", "f1"}
    assert (moves["cells"] == 2).all() and (moves["identical"] == 2).all()
    assert (moves["difference"] == 0).all() and (moves["largest_move"] == 0).all()


def test_a_dataset_narrows_the_choice(tmp_path, capsys):
    source = _sweep(tmp_path)
    capsys.readouterr()
    assert main(["-q", "rerun", str(source), str(tmp_path / "c"), "--detector", "t-oracle",
                 "--dataset", "moons", "--n-jobs", "1"]) == 0
    assert "4 row(s) of" in capsys.readouterr().out
    assert main(["rerun", str(source), str(tmp_path / "d"), "--detector", "t-oracle",
                 "--dataset", "kddcup99-low"]) == 2
    assert "no row of" in capsys.readouterr().err and not (tmp_path / "d").exists()


def test_the_chosen_cells_start_longest_first_by_the_source_times(tmp_path):
    """The copy holds no time of the chosen cells: the source's rows of them order the run."""
    source = _sweep(tmp_path)
    frame = pd.read_csv(source / "results.csv", dtype=str, keep_default_na=False)
    # the config lists t-centroid first; the source says t-oracle is the long one
    frame["cell_seconds"] = frame["detector"].map({"t-centroid": "0.5", "t-oracle": "50.0"})
    frame.to_csv(source / "results.csv", index=False)
    dest = tmp_path / "copy"
    assert main(["-q", "rerun", str(source), str(dest), "--detector", "t-centroid",
                 "--detector", "t-oracle", "--n-jobs", "1"]) == 0
    started = [line.split(" / ")[1] for line in (dest / "run.log").read_text().splitlines()
               if " / seed " in line]
    assert started == ["t-oracle"] * 4 + ["t-centroid"] * 4  # one worker: in order


def test_what_would_not_be_kept_or_would_mix_is_refused_before_anything_is_written(
        tmp_path, capsys):
    source = _sweep(tmp_path)
    capsys.readouterr()
    for dest, args, message in (
            (tmp_path / "c", ["--detector", "pugan"], "no row of"),
            (source, ["--detector", "t-oracle"], "exists; remove it"),
            (source / "sub", ["--detector", "t-oracle"], "is inside"),
            (tmp_path / "c", ["--detector", "t-oracle", "--time-limit", "0"],
             "--time-limit must be positive")):
        assert main(["rerun", str(source), str(dest), *args]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "c").exists() and not (source / "sub").exists()
    # a row from other code would be computed again, not kept: refused
    frame = pd.read_csv(source / "results.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "cell_id"] = "0" * 20
    frame.to_csv(source / "results.csv", index=False)
    assert main(["rerun", str(source), str(tmp_path / "c"), "--detector", "t-oracle"]) == 2
    assert "1 row(s) of" in capsys.readouterr().err and not (tmp_path / "c").exists()


def test_sigterm_stops_a_rerun_like_ctrl_c(tmp_path, monkeypatch, capsys):
    """``kill PID`` reaches a rerun as an interrupt, so the sweep inside it writes its
    finished cells and the command exits 130 saying what to do next, as ``run`` does."""
    import os
    import signal

    import benchmarks.rerun

    def terminated(args):
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM did not interrupt the rerun")

    monkeypatch.setattr(benchmarks.rerun, "run_command", terminated)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert main(["rerun", str(tmp_path / "a"), str(tmp_path / "b"),
                     "--detector", "t-oracle"]) == 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    # stopped where this stand-in stands, before any cell: start again, nothing to resume
    assert "interrupted before any cell ran" in capsys.readouterr().err


def test_moves_compares_a_copy_made_in_steps_with_its_first_source(tmp_path, capsys):
    source = _sweep(tmp_path)
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["-q", "rerun", str(source), str(first), "--detector", "t-centroid",
                 "--n-jobs", "1"]) == 0
    assert main(["-q", "rerun", str(first), str(second), "--detector", "t-oracle",
                 "--n-jobs", "1"]) == 0
    # the second step's own table knows t-oracle only; the comparison with the start both
    assert set(pd.read_csv(second / "moves.csv")["detector"]) == {"t-oracle"}
    out = tmp_path / "all.csv"
    capsys.readouterr()
    assert main(["-q", "moves", str(source), str(second), "--detector", "t-centroid",
                 "--detector", "t-oracle", "--out", str(out)]) == 0
    moves = pd.read_csv(out)
    assert "t-centroid" in capsys.readouterr().out
    assert set(moves["detector"]) == {"t-centroid", "t-oracle"} and len(moves) == 8
    assert (moves["cells"] == 2).all() and (moves["identical"] == 2).all()
    # --append: one detector at one ratio, then the other detector, into one table
    capsys.readouterr()
    first_step = pd.read_csv(first / "moves.csv")   # t-centroid, both ratios
    assert main(["-q", "moves", str(source), str(second), "--detector", "t-oracle",
                 "--out", str(first / "moves.csv"), "--append"]) == 0
    joined = pd.read_csv(first / "moves.csv")
    pd.testing.assert_frame_equal(joined.sort_values(["detector", "anomaly_ratio", "score"])
                                  .reset_index(drop=True), moves)
    assert (joined["detector"] == "t-centroid").sum() == len(first_step)
    # appending the same cells again replaces their rows instead of adding them
    assert main(["-q", "moves", str(source), str(second), "--detector", "t-oracle",
                 "--out", str(first / "moves.csv"), "--append"]) == 0
    assert len(pd.read_csv(first / "moves.csv")) == 8
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    assert main(["moves", str(source), str(second), "--detector", "t-oracle",
                 "--out", str(tmp_path / "other.csv"), "--append"]) == 2
    assert "is not a moves table" in capsys.readouterr().err
    # nothing to compare, or no sweep folder: exit 2 naming it, nothing written
    for args, message in ((["--detector", "t-raise"], "is ok in both"),
                          (["--detector", "t-oracle", "--dataset", "kddcup99-low"],
                           "is ok in both")):
        assert main(["moves", str(source), str(second), *args,
                     "--out", str(tmp_path / "none.csv")]) == 2
        assert message in capsys.readouterr().err
    assert main(["moves", str(source), str(tmp_path / "nowhere"), "--detector", "t-oracle"]) == 2
    assert "has no results.csv" in capsys.readouterr().err
    assert not (tmp_path / "none.csv").exists()


def test_moves_refuses_cells_that_ran_other_settings(tmp_path, capsys):
    source = _sweep(tmp_path)
    other = tmp_path / "other"
    assert main(["-q", "rerun", str(source), str(other), "--detector", "t-centroid",
                 "--n-jobs", "1"]) == 0
    # the copy's t-centroid rows as if its detector had been tuned to another setting
    frame = pd.read_csv(other / "results.csv", dtype=str, keep_default_na=False)
    frame.loc[frame["detector"] == "t-centroid", "detector_params"] = '{"shift": 1}'
    frame.to_csv(other / "results.csv", index=False)
    capsys.readouterr()
    out = tmp_path / "m.csv"
    assert main(["moves", str(source), str(other), "--detector", "t-centroid",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "ran other settings" in err and "detector_params" in err and not out.exists()
    # the cells that share their settings are still compared
    assert main(["-q", "moves", str(source), str(other), "--detector", "t-oracle",
                 "--out", str(out)]) == 0
    assert set(pd.read_csv(out)["detector"]) == {"t-oracle"}


def test_rerun_refuses_bad_input_before_it_writes_anything(tmp_path, capsys):
    source = _sweep(tmp_path)
    # a config cell without a row would be computed though nobody chose it
    frame = pd.read_csv(source / "results.csv", dtype=str, keep_default_na=False)
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "config.yaml").write_text((source / "config.yaml").read_text())
    frame.iloc[1:].to_csv(unfinished / "results.csv", index=False)
    lost = frame.iloc[0]
    dest = tmp_path / "dest"
    capsys.readouterr()
    assert main(["rerun", str(unfinished), str(dest), "--detector", "t-centroid"]) == 2
    err = capsys.readouterr().err
    assert "have no row" in err and f"{lost['detector']} / seed {lost['seed']}" in err
    # an impossible worker count, a destination under a file: exit 2, nothing written
    (tmp_path / "afile").write_text("")
    for args, message in ((["--n-jobs", "0"], "n_jobs must be"),
                          ([], "not writable")):
        target = tmp_path / "afile" / "dest" if not args else dest
        assert main(["rerun", str(source), str(target), "--detector", "t-centroid",
                     *args]) == 2
        assert message in capsys.readouterr().err
    assert not dest.exists()
    # moves into a folder that does not exist names it
    assert main(["moves", str(source), str(source), "--detector", "t-centroid",
                 "--out", str(tmp_path / "nowhere" / "m.csv")]) == 2
    assert "nowhere does not exist" in capsys.readouterr().err
    # and a folder given as the table names it, not a traceback
    assert main(["moves", str(source), str(source), "--detector", "t-centroid",
                 "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_rows_from_another_folder_take_the_place_of_the_sources_without_a_fit(tmp_path,
                                                                               capsys):
    """Cells computed elsewhere (another processor: the key does not cover the arithmetic)
    are carried as they are; rows of cells the config no longer has are left out."""
    source = _sweep(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    frame = pd.read_csv(source / "results.csv", dtype=str, keep_default_na=False)
    moved = frame.assign(auprc=frame["auprc"].where(frame["detector"] != "t-centroid", "0.5"))
    stale = moved.iloc[[0]].assign(cell_id="not-a-cell-of-the-config", auprc="0.9")
    elsewhere.mkdir()
    pd.concat([moved, stale]).to_csv(elsewhere / "results.csv", index=False)
    dest = tmp_path / "copy"
    capsys.readouterr()
    assert main(["-q", "rerun", str(source), str(dest), "--rows-from", str(elsewhere),
                 "--n-jobs", "1"]) == 0
    assert "0 row(s) of" in capsys.readouterr().out
    again = pd.read_csv(dest / "results.csv", dtype=str, keep_default_na=False)
    assert len(again) == len(frame)  # the stale row is left out, not added
    assert (again.loc[again["detector"] == "t-centroid", "auprc"] == "0.5").all()
    assert not list((dest / "cells").glob("*.scores.parquet"))  # nothing was fitted
    moves = pd.read_csv(dest / "moves.csv")
    centroid = moves[(moves["detector"] == "t-centroid") & (moves["score"] == "auprc")]
    assert len(centroid) == 2 and (centroid["identical"] == 0).all()
    # with neither cells to compute nor cells to carry there is nothing to do
    assert main(["rerun", str(source), str(tmp_path / "none")]) == 2
    assert "--detector" in capsys.readouterr().err
    # --dataset narrows --detector only: alone beside --rows-from it would be ignored
    assert main(["rerun", str(source), str(tmp_path / "none"), "--rows-from", str(elsewhere),
                 "--dataset", "nosuch"]) == 2
    assert "give --detector too" in capsys.readouterr().err
    # carried rows of a chosen detector are carried, not computed again
    both = tmp_path / "both"
    assert main(["-q", "rerun", str(source), str(both), "--rows-from", str(elsewhere),
                 "--detector", "t-centroid", "--n-jobs", "1"]) == 0
    assert "0 row(s) of" in capsys.readouterr().out
    kept = pd.read_csv(both / "results.csv", dtype=str, keep_default_na=False)
    assert (kept.loc[kept["detector"] == "t-centroid", "auprc"] == "0.5").all()
    assert not list((both / "cells").glob("*.scores.parquet"))


def test_an_interrupted_rerun_names_the_seeds_and_limit_to_resume_with(tmp_path, capsys,
                                                                       monkeypatch):
    """The source ran seeds 0 and 1 of a config that may hold more: resuming with the config
    alone would add the others to the copy. The config is the one the source ran (its
    config.yaml's source), and the comparison rerun would have written follows."""
    import benchmarks.sweep

    source = _sweep(tmp_path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(benchmarks.sweep, "run_sweep", interrupted)
    dest = tmp_path / "copy"
    assert main(["rerun", str(source), str(dest), "--detector", "t-centroid",
                 "--time-limit", "30"]) == 130
    err = capsys.readouterr().err
    config = tmp_path / "s.yaml"
    assert (f"pugan-bench run {config} --out {dest} --seeds 0,1 --time-limit 30 "
            f"--no-retry-failed` (rerun refuses a DEST that exists), then `pugan-bench moves "
            f"{source} {dest} --detector t-centroid`") in " ".join(err.split())


def test_a_stopped_rerun_logs_its_own_way_to_resume(tmp_path, capsys, monkeypatch):
    """run.log's last line of a stopped rerun names the rerun's resume command, not "the
    same command", which rerun refuses once DEST exists."""
    import benchmarks.sweep

    source = _sweep(tmp_path)

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(benchmarks.sweep, "_dispatch", stop)
    dest = tmp_path / "copy"
    assert main(["-q", "rerun", str(source), str(dest), "--detector", "t-centroid",
                 "--n-jobs", "1"]) == 130
    last = (dest / "run.log").read_text().splitlines()[-1]
    assert "interrupted" in last and f"resume with `pugan-bench run {tmp_path / 's.yaml'}" \
        in last and "then `pugan-bench moves" in last
    # the one line on stderr names the cells' folder and the same way back
    err = capsys.readouterr().err
    assert err.count("resume with") == 1, err
    assert f"finished cells are kept in {dest / 'cells'}; resume with `pugan-bench run " in err


def test_a_rerun_stopped_while_comparing_names_the_comparison_to_give(tmp_path, capsys,
                                                                     monkeypatch):
    """Every cell ran: what is left is the comparison, not "before any cell ran"."""
    import benchmarks.rerun

    source = _sweep(tmp_path)

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(benchmarks.rerun, "score_moves", stop)
    dest = tmp_path / "copy"
    assert main(["-q", "rerun", str(source), str(dest), "--detector", "t-centroid",
                 "--n-jobs", "1"]) == 130
    err = capsys.readouterr().err
    assert f"resume with `pugan-bench moves {source} {dest} --detector t-centroid`" in err
    assert "before any cell ran" not in err


def test_a_rerun_stopped_while_copying_says_to_start_again(tmp_path, capsys, monkeypatch):
    """Before any cell runs, DEST holds at most part of the copy: resuming it with `run` would
    leave rows out, so the message says to remove it and give the rerun again."""
    import benchmarks.rerun

    source = _sweep(tmp_path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(benchmarks.rerun, "copy_without", interrupted)
    dest = tmp_path / "copy"
    capsys.readouterr()
    assert main(["rerun", str(source), str(dest), "--detector", "t-centroid"]) == 130
    err = " ".join(capsys.readouterr().err.split())
    assert f"interrupted before any cell ran; remove {dest}" in err and "resume" not in err


def test_rerun_reads_the_repositorys_config_the_sweep_names_from_any_folder(tmp_path,
                                                                            monkeypatch):
    """config.yaml names a config inside the repository relative to it: a file of the same
    name under the folder the command runs in is not that config."""
    from benchmarks.rerun import source_config

    root = Path(__file__).resolve().parents[1]
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "config.yaml").write_text("source: benchmarks/configs/smoke.yaml\nseeds: [0]\n"
                                       "detectors: []\ndatasets: []\n")
    decoy = tmp_path / "benchmarks" / "configs"
    decoy.mkdir(parents=True)
    (decoy / "smoke.yaml").write_text("not: a config\n")
    monkeypatch.chdir(tmp_path)
    config = source_config(sweep)
    assert Path(config.source).resolve() == root / "benchmarks" / "configs" / "smoke.yaml"
