"""Per-record scores of ok cells (cells/<key>.scores.parquet) and the typed results.parquet."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import sweep_raw
from sklearn.metrics import average_precision_score, roc_auc_score

from benchmarks.cache import CellCache, read_cell_scores
from benchmarks.config import parse_config
from benchmarks.harness import run_sweep

ROOT = Path(__file__).resolve().parents[1]


def tiny_config(detectors):
    return parse_config(sweep_raw(detectors, name="scores"))


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("scores") / "out"
    frame = run_sweep(tiny_config(["t-centroid", "t-oracle", "t-raise"]), out, n_jobs=1,
                      progress=False)
    return out, frame


@pytest.fixture
def reported(sweep, tmp_path):
    """A copy of the sweep with its report written once (curves.csv among it): the folder
    and the reports folder."""
    from benchmarks.report import report

    folder = tmp_path / "sweep"
    shutil.copytree(sweep[0], folder)
    report(folder, reports_dir=tmp_path / "reports")
    return folder, tmp_path / "reports"


def test_ok_cells_keep_their_scores_and_metrics_recompute_from_them(sweep):
    out, frame = sweep
    ok = frame[frame["status"] == "ok"]
    assert len(ok) == 2
    for _, row in ok.iterrows():
        scores = read_cell_scores(out, row["cell_id"])
        assert list(scores.columns) == ["score", "y_test", "label", "anomaly_type"]
        assert scores["score"].dtype == np.float32
        assert scores["y_test"].dtype == np.int8 and scores["label"].dtype == np.int8
        assert len(scores) == row["n_test"]
        assert scores["y_test"].sum() == row["n_test_anomalies"]
        assert scores["label"].sum() == row["n_test_flagged"]
        # float32 scores: the metrics agree with the row's to float32 precision
        assert average_precision_score(scores["y_test"], scores["score"]) == pytest.approx(
            row["auprc"], abs=1e-6)
        assert roc_auc_score(scores["y_test"], scores["score"]) == pytest.approx(
            row["auroc"], abs=1e-6)
        # the threshold labels follow the contract's rule on the stored scores
        assert ((scores["score"] >= np.float32(row["threshold"])) == (scores["label"] == 1)).all()
        assert ((scores["anomaly_type"] != "normal") == (scores["y_test"] == 1)).all()


def test_a_cell_that_did_not_finish_ok_has_no_scores_file(sweep):
    out, frame = sweep
    failed = frame.loc[frame["status"] == "failed", "cell_id"].item()
    assert not CellCache(out).scores_path(failed).exists()
    assert read_cell_scores(out, failed) is None


def test_a_cell_cached_without_scores_reads_as_none_and_is_not_rerun(tmp_path):
    out = tmp_path / "out"
    cfg = tiny_config(["t-centroid"])
    key = run_sweep(cfg, out, n_jobs=1, progress=False)["cell_id"].item()
    cache = CellCache(out)
    cache.scores_path(key).unlink()  # as a cell cached before scores were kept
    before = cache.path(key).stat().st_mtime_ns
    again = run_sweep(cfg, out, n_jobs=1, progress=False)
    assert again["status"].item() == "ok"
    assert cache.path(key).stat().st_mtime_ns == before
    assert read_cell_scores(out, key) is None


def test_a_damaged_scores_file_is_an_error_naming_it(tmp_path):
    cache = CellCache(tmp_path)
    cache.put_scores("k", {"score": [0.5, 0.1], "y_test": [1, 0], "label": [1, 0]})
    assert read_cell_scores(tmp_path, "k")["score"].tolist() == [0.5, pytest.approx(0.1)]
    cache.scores_path("k").write_bytes(b"not parquet")
    with pytest.raises(ValueError, match=r"k\.scores\.parquet"):
        read_cell_scores(tmp_path, "k")
    cache.drop_scores("k")
    assert read_cell_scores(tmp_path, "k") is None


def test_results_parquet_has_typed_columns_and_the_csv_rows(sweep):
    out, frame = sweep
    typed = pd.read_parquet(out / "results.parquet")
    assert list(typed.columns) == list(frame.columns)
    assert not [c for c in typed.columns if typed[c].dtype == object]
    assert typed["seed"].dtype == "Int64" and typed["n_train"].dtype == "Int64"
    assert typed["auprc"].dtype == "float64" and typed["anomaly_ratio"].dtype == "float64"
    assert typed["status"].dtype == "string" and typed["cell_id"].dtype == "string"
    csv = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert typed["cell_id"].tolist() == csv["cell_id"].tolist()
    assert typed["auprc"].isna().tolist() == (frame["status"] != "ok").tolist()
    ok = frame["status"] == "ok"
    assert typed.loc[ok, "auprc"].tolist() == frame.loc[ok, "auprc"].tolist()


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                    reason="needs a git checkout")
def test_cell_score_files_are_never_committed():
    probe = "results/paper/cells/0123456789abcdef0123.scores.parquet"
    done = subprocess.run(["git", "check-ignore", "-q", probe], cwd=ROOT)
    assert done.returncode == 0


def test_roc_and_pr_curves_are_drawn_from_the_stored_scores(sweep, tmp_path):
    from PIL import Image
    from sklearn.metrics import roc_auc_score

    from benchmarks.curves import GRID, curve_table, plot_curves

    out, frame = sweep
    table, without = curve_table(frame, out)
    assert without == {} and set(table["curve"]) == {"roc", "pr"}
    oracle = frame[(frame["detector"] == "t-oracle") & (frame["status"] == "ok")].iloc[0]
    roc = table[(table["detector"] == "t-oracle") & (table["curve"] == "roc")]
    # one seed: the interpolated curve's area is the cell's AUROC up to the grid's resolution
    assert np.trapezoid(roc["mean"], GRID) == pytest.approx(oracle["auroc"], abs=0.02)
    pr = table[(table["detector"] == "t-oracle") & (table["curve"] == "pr")]
    share = oracle["n_test_anomalies"] / oracle["n_test"]
    assert np.allclose(pr["chance"], share)
    scores = read_cell_scores(out, oracle["cell_id"])
    assert roc_auc_score(scores["y_test"], scores["score"]) == pytest.approx(oracle["auroc"])
    paths = plot_curves(table, "scores", tmp_path)
    assert {p.name for p in paths} == {"scores_roc_curves.png", "scores_roc_curves.svg",
                                       "scores_pr_curves.png", "scores_pr_curves.svg"}
    with Image.open(tmp_path / "scores_pr_curves.png") as im:
        im.verify()
    # a cell cached before scores were kept is counted, and its pair gets no curve
    (out / "cells" / f"{oracle['cell_id']}.scores.parquet").rename(tmp_path / "moved")
    try:
        partial, missing = curve_table(frame, out)
        assert missing == {(oracle["dataset"], "t-oracle"): 1}
        assert "t-oracle" not in set(partial["detector"]) and len(partial)
    finally:
        (tmp_path / "moved").rename(out / "cells" / f"{oracle['cell_id']}.scores.parquet")


def test_the_report_keeps_the_curve_table_and_draws_from_it_without_the_cells(reported,
                                                                              tmp_path):
    """The repository keeps results/, not the cells' scores: the report writes curves.csv when
    every ok cell has its scores, and draws the same curves from it in a checkout without
    the cells."""
    from benchmarks.report import report

    folder, with_cells = reported
    table = pd.read_csv(folder / "curves.csv")
    assert set(table["curve"]) == {"roc", "pr"} and table["mean"].notna().all()
    shutil.rmtree(folder / "cells")
    report(folder, reports_dir=tmp_path / "without")
    assert pd.read_csv(folder / "curves.csv").equals(table)   # kept, not overwritten
    name = f"{folder.name}_pr_curves.png"
    assert (tmp_path / "without" / "figures" / name).read_bytes() == \
        (with_cells / "figures" / name).read_bytes()


def test_the_report_leaves_out_kept_curves_of_other_cells(reported, caplog, monkeypatch):
    """A kept curve drawn from cells the results no longer hold (code changed since) is
    left out with a warning, not drawn as if it were current; a kept table that names no
    cells leaves no figure behind."""
    import benchmarks.curves as curves_module
    from benchmarks.curves import current_curves, read_curve_table
    from benchmarks.report import load_results, report

    folder, reports = reported
    shutil.rmtree(folder / "cells")
    table = read_curve_table(folder / "curves.csv")
    kept, dropped = current_curves(table, load_results(folder))
    assert dropped == [] and kept.equals(table)
    drawn = []
    real_plot = curves_module.plot_curves
    monkeypatch.setattr(curves_module, "plot_curves",
                        lambda t, *a: drawn.append(t) or real_plot(t, *a))
    old = table["detector"].iloc[0]
    table.loc[table["detector"] == old, "cells"] = "0123456789"   # other cells, all digits
    table.to_csv(folder / "curves.csv", index=False)
    with caplog.at_level("WARNING"):
        report(folder, reports_dir=reports)
    assert f"{old} on" in caplog.text and "left out" in caplog.text
    assert old not in set(drawn[-1]["detector"]) and len(drawn[-1])
    assert read_curve_table(folder / "curves.csv").equals(table)   # kept as it was
    figures = list((reports / "figures").glob(f"{folder.name}_*_curves.*"))
    assert figures
    table.drop(columns="cells").to_csv(folder / "curves.csv", index=False)
    report(folder, reports_dir=reports)
    assert not any(f.exists() for f in figures)


def test_curves_of_cells_with_scores_are_redrawn_and_the_rest_kept(reported):
    """Where only some cells kept their scores (the others cached before scores were kept),
    the curves of the pairs with every score are computed afresh and the rest are taken
    from the kept table when it names their cells."""
    from benchmarks.curves import read_curve_table
    from benchmarks.report import load_results, report

    folder, reports = reported
    table = read_curve_table(folder / "curves.csv")
    frame = load_results(folder)
    one = table["detector"].iloc[0]
    scored = table["detector"] != one
    assert scored.any()  # a pair whose scores stay, beside the one whose scores go
    for key in frame.loc[frame["detector"] == one, "cell_id"]:
        (folder / "cells" / f"{key}.scores.parquet").unlink(missing_ok=True)
    # a kept table that disagrees with the scores: a report that copied it whole would keep
    # the sentinel, one that dropped it would lose the unscored pair's rows
    kept = table.copy()
    kept.loc[scored, "mean"] = -1.0
    kept.to_csv(folder / "curves.csv", index=False)
    report(folder, reports_dir=reports)
    after = read_curve_table(folder / "curves.csv")
    assert not (after["mean"] == -1.0).any()
    pd.testing.assert_frame_equal(after[after["detector"] != one].reset_index(drop=True),
                                  table[scored].reset_index(drop=True))  # redrawn from scores
    pd.testing.assert_frame_equal(after[after["detector"] == one].reset_index(drop=True),
                                  table[~scored].reset_index(drop=True))  # carried over
    assert after.equals(table)


def test_one_damaged_scores_file_costs_its_own_curve_only(reported, caplog):
    """A truncated scores file of one cell is warned about by name; that pair falls back to
    its kept curve (current, so redrawn as it was), and the other pairs are computed afresh.
    A damaged kept curves.csv is warned about and rewritten from the fresh curves."""
    from benchmarks.curves import read_curve_table
    from benchmarks.report import load_results, report

    folder, reports = reported
    table = read_curve_table(folder / "curves.csv")
    frame = load_results(folder)
    key = frame.loc[frame["status"] == "ok", "cell_id"].iloc[0]
    damaged = folder / "cells" / f"{key}.scores.parquet"
    damaged.write_bytes(damaged.read_bytes()[:40])
    with caplog.at_level("WARNING"):
        report(folder, reports_dir=reports)
    assert f"cannot read cell scores file {damaged}" in caplog.text
    assert read_curve_table(folder / "curves.csv").equals(table)
    damaged.unlink()
    (folder / "curves.csv").write_bytes(b"\xff\xfe garbage")
    caplog.clear()
    with caplog.at_level("WARNING"):
        report(folder, reports_dir=reports)
    assert "curves.csv is not a curve table" in caplog.text
    fresh = read_curve_table(folder / "curves.csv")
    assert len(fresh) and set(fresh["detector"]) < set(table["detector"])


def test_a_missing_text_value_is_the_same_whether_computed_now_or_carried():
    """A fresh record says "" where a row read back from results.csv says None: the parquet
    must not depend on which, since the CSV does not."""
    from benchmarks.results import typed_results

    frame = pd.DataFrame({"cell_id": ["a", "b"], "arithmetic": ["", None], "seed": [0, 1]})
    typed = typed_results(frame)
    assert typed["arithmetic"].tolist() == ["", ""] and typed["arithmetic"].dtype == "string"
