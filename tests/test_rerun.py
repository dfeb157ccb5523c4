"""``pugan-bench rerun``: the chosen cells computed again into a copy, every other row kept."""

import pandas as pd
from helpers import write_sweep

from benchmarks.cli import main


def _sweep(tmp_path):
    cfg = write_sweep(tmp_path / "s.yaml", ["t-centroid", "t-oracle"], seeds=(0, 1))
    source = tmp_path / "source"
    assert main(["-q", "run", str(cfg), "--out", str(source), "--n-jobs", "1",
                 "--no-progress"]) == 0
    return source


def test_only_the_chosen_cells_run_again_and_their_moves_are_written(tmp_path, capsys):
    source = _sweep(tmp_path)
    # a mark on the rows that must be carried, not recomputed
    frame = pd.read_csv(source / "results.csv", keep_default_na=False)
    frame.loc[frame["detector"] == "t-oracle", "auprc"] = 0.123
    frame.to_csv(source / "results.csv", index=False)
    dest = tmp_path / "copy" / "sweep"
    assert main(["-q", "rerun", str(source), str(dest), "--detector", "t-centroid",
                 "--n-jobs", "1"]) == 0
    assert "2 cell(s) of" in capsys.readouterr().out
    again = pd.read_csv(dest / "results.csv", keep_default_na=False)
    assert len(again) == len(frame) == 4
    assert (again.loc[again["detector"] == "t-oracle", "auprc"] == 0.123).all()
    before = frame[frame["detector"] == "t-centroid"].reset_index(drop=True)
    after = again[again["detector"] == "t-centroid"].reset_index(drop=True)
    pd.testing.assert_series_equal(before["auprc"], after["auprc"])  # a deterministic detector
    moves = pd.read_csv(dest / "moves.csv")
    assert set(moves["detector"]) == {"t-centroid"}
    assert set(moves["score"]) == {"auprc", "f1"}      # no held-out types in this sweep
    assert (moves["cells"] == 2).all() and (moves["identical"] == 2).all()
    assert (moves["difference"] == 0).all() and (moves["largest_move"] == 0).all()


def test_a_label_that_names_no_row_or_an_existing_copy_is_refused(tmp_path, capsys):
    source = _sweep(tmp_path)
    capsys.readouterr()
    assert main(["rerun", str(source), str(tmp_path / "c"), "--detector", "pugan"]) == 2
    assert "no rows of detector(s) ['pugan']" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
    assert main(["rerun", str(source), str(source), "--detector", "t-oracle"]) == 2
    assert "exists; remove it or choose another folder" in capsys.readouterr().err
