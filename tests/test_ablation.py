"""The ablation script's bookkeeping: variants per fit, thresholds from known normals, summary."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_moons
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from benchmarks.ablation import summary, variant_rows
from pugan import PUGAN

TINY = dict(n_bags=3, hidden=8, g_layers=1, n_epochs=1, max_gan_rows=300, g_rounds=1,
            encoder_epochs=1, inversion_steps=2)


def test_six_variants_per_fit_each_thresholded_on_known_normals():
    X, y = make_moons(n_samples=600, noise=0.1, random_state=0)
    known = (y == 0) & (np.arange(600) % 3 == 0)
    split = SimpleNamespace(X_train=X, known_normal=known, X_test=X[::2], y_test=y[::2])
    det = PUGAN(random_state=0, train_on="p", **TINY).fit(X, known_normal=known)
    rows = pd.DataFrame(variant_rows(det, split, {"dataset": "toy", "seed": 0}))
    assert len(rows) == 6
    assert set(zip(rows.inversion, rows.score, strict=True)) == {
        (i, s) for i in ("gradient", "encoder")
        for s in ("combined", "reconstruction", "discrimination")}
    assert rows[["auroc", "auprc", "f1", "best_f1"]].notna().all().all()
    assert (rows.f1 <= rows.best_f1 + 1e-12).all()  # the oracle bounds the own threshold
    assert det.score == "combined"                   # the scoring switch is put back
    assert (rows.dataset == "toy").all() and (rows.seed == 0).all()  # base copied into rows
    # each variant's own threshold: the 0.99 quantile of the known normals' scores under that
    # same variant (not the test scores', nor another variant's); F1 and friends follow it
    for row in rows.itertuples():
        test = getattr(det.score_components(split.X_test, inversion=row.inversion), row.score)
        ref = getattr(det.score_components(X[known], inversion=row.inversion), row.score)
        flagged = test >= np.quantile(ref, 0.99, method="higher")
        assert row.precision == pytest.approx(precision_score(split.y_test, flagged,
                                                              zero_division=0.0))
        assert row.recall == pytest.approx(recall_score(split.y_test, flagged))
        assert row.f1 == pytest.approx(f1_score(split.y_test, flagged)), row
        assert row.auroc == pytest.approx(roc_auc_score(split.y_test, test))


def test_summary_means_over_seeds_and_names_the_oracle():
    frame = pd.DataFrame({"dataset": ["d"] * 2, "train_on": ["pu"] * 2, "inversion": ["e"] * 2,
                          "score": ["c"] * 2, "auroc": [0.8, 1.0], "auprc": [0.5, 0.7],
                          "f1": [0.4, 0.6], "best_f1": [0.5, 0.9], "fit_seconds": [1, 3]})
    s = summary(frame)
    assert s.loc[0, "auroc"] == 0.9 and s.loc[0, "n_seeds"] == 2
    assert "best_f1_oracle" in s.columns and "best_f1" not in s.columns
    assert abs(s.loc[0, "f1_std"] - np.std([0.4, 0.6], ddof=1)) < 1e-12


def test_stage1_scoring_is_timed_not_reported_as_zero(monkeypatch):
    """Stage 1's score_seconds is measured around its scoring, as the variants' are; a
    constant 0 would claim a free scorer. A fake clock: no wall time is asserted."""
    import benchmarks.ablation as ablation

    ticks = iter([10.0, 12.5])
    monkeypatch.setattr(ablation.time, "perf_counter", lambda: next(ticks))
    y = np.r_[np.zeros(8, int), np.ones(2, int)]
    classifier = SimpleNamespace(
        predict_proba=lambda X: np.c_[np.zeros(len(X)), 1 - np.linspace(0, 1, len(X))])
    det = SimpleNamespace(pu_classifier_=classifier, pu_known_scores_=np.linspace(0.5, 1, 20),
                          threshold_quantile=0.99)
    split = SimpleNamespace(X_test=np.zeros((10, 2)), y_test=y)
    row = ablation.stage1_row(det, split, {"dataset": "toy"})
    assert row["score_seconds"] == pytest.approx(2.5)


def test_the_ablation_table_is_never_left_half_written(tmp_path, monkeypatch):
    """A half ablation.csv would read as an ablation with fewer rows: a write cut short
    must leave the previous table whole."""
    from helpers import fill_disk_midway

    import benchmarks.ablation as ablation

    rows = pd.DataFrame({"dataset": ["d"] * 4, "seed": range(4), "train_on": ["pu"] * 4,
                         "inversion": ["e"] * 4, "score": ["c"] * 4, "auroc": [0.8] * 4,
                         "auprc": [0.5] * 4, "f1": [0.4] * 4, "best_f1": [0.5] * 4,
                         "fit_seconds": [1.0] * 4})
    monkeypatch.setattr(ablation, "run", lambda *a, **k: rows)
    kw = dict(out=tmp_path / "ablation", reports=tmp_path / "reports")
    ablation.write_ablation(["d"], [0], **kw)
    before = (tmp_path / "ablation" / "ablation.csv").read_bytes()
    import errno
    import os

    real_fsync = os.fsync
    fill_disk_midway(monkeypatch)
    with pytest.raises(OSError):
        ablation.write_ablation(["d"], [0], **kw)
    assert (tmp_path / "ablation" / "ablation.csv").read_bytes() == before
    # the disk fills after the CSV, while ablation.md is written: the old .md stays whole
    md_before = (tmp_path / "reports" / "ablation.md").read_bytes()
    calls = []

    def fsync_then_full(fd):
        calls.append(fd)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device (the test's)")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_then_full)
    with pytest.raises(OSError):
        ablation.write_ablation(["d"], [0], **kw)
    assert (tmp_path / "reports" / "ablation.md").read_bytes() == md_before


def test_a_full_run_removes_the_partial_rows_of_an_earlier_failed_one(tmp_path, monkeypatch):
    """ablation.partial.csv from a failed run is stale once a run succeeds: left beside the
    new table it would read as a newer, smaller result."""
    import benchmarks.ablation as ablation

    rows = pd.DataFrame({"dataset": ["d"] * 2, "seed": range(2), "train_on": ["pu"] * 2,
                         "inversion": ["e"] * 2, "score": ["c"] * 2, "auroc": [0.8] * 2,
                         "auprc": [0.5] * 2, "f1": [0.4] * 2, "best_f1": [0.5] * 2,
                         "fit_seconds": [1.0] * 2})
    monkeypatch.setattr(ablation, "run", lambda *a, **k: rows)
    out = tmp_path / "ablation"
    out.mkdir()
    (out / "ablation.partial.csv").write_text("rows of an earlier failed run\n")
    ablation.write_ablation(["d"], [0, 1], out=out, reports=tmp_path / "reports")
    assert (out / "ablation.csv").exists()
    assert not (out / "ablation.partial.csv").exists()


def _fake_fits(monkeypatch, *, fail_seed=None):
    """The ablation's fits replaced by a recorded stage clock and a stand-in detector, so the
    bookkeeping runs without training: stage 1 takes 1.5 s of a 9 s fit."""
    import benchmarks.ablation as ablation
    import benchmarks.perf.pugan_profile as profile
    from benchmarks.splits import PRESETS

    monkeypatch.setitem(PRESETS, "toy", PRESETS["moons-paper"])  # a name the check knows
    split = SimpleNamespace(X_train=np.zeros((4, 2)), known_normal=np.ones(4, bool),
                            X_test=np.zeros((2, 2)), y_test=np.array([0, 1]))

    def fit(X, known, *, cpu, random_state, train_on, **params):
        if random_state == fail_seed:
            raise ValueError("a fit that fails")
        return {"stage1": 1.5, "total": 9.0}, SimpleNamespace(n_gan_rows_=4, n_reliable_=0)

    monkeypatch.setattr(ablation, "preset_split", lambda preset, seed: split)
    monkeypatch.setattr(profile, "profile_fit", fit)
    monkeypatch.setattr(ablation, "row_code_version", lambda det: "v")
    monkeypatch.setattr(ablation, "variant_rows",
                        lambda det, split, base: [{**base, "score": "combined"}])
    monkeypatch.setattr(ablation, "stage1_row",
                        lambda det, split, base: {**base, "score": "stage-1 PU bagging alone"})
    return ablation


def test_the_stage1_row_carries_stage_1s_time_not_the_whole_fits(monkeypatch):
    ablation = _fake_fits(monkeypatch)
    rows = pd.DataFrame(ablation._one_split("toy", 0, None))
    stage1 = rows[rows.score == "stage-1 PU bagging alone"]
    assert len(stage1) == 1 and stage1.fit_seconds.item() == 1.5
    assert (rows[rows.score == "combined"].fit_seconds == 9.0).all()
    assert len(rows[rows.score == "combined"]) == len(ablation.TRAIN_SETS)


def test_a_failing_task_costs_only_its_own_rows(tmp_path, monkeypatch, capsys):
    """One (preset, seed) that fails must not lose the others: their rows are kept beside the
    committed table, which stays as it was, and the command fails naming the task."""
    ablation = _fake_fits(monkeypatch, fail_seed=1)
    with pytest.raises(ablation.AblationError, match="toy seed 1: ValueError: a fit that fails"
                       ) as err:
        ablation.run(["toy"], [0, 1, 2])
    assert sorted(set(err.value.frame.seed)) == [0, 2]
    out = tmp_path / "ablation"
    out.mkdir()
    (out / "ablation.csv").write_text("the committed table\n")
    args = SimpleNamespace(presets="toy", seeds="1000-1002", allow_report_seeds=False,
                           out=str(out), reports=str(tmp_path / "reports"), n_jobs=1)
    monkeypatch.setattr(ablation, "seeds_from_args", lambda args: [0, 1, 2])
    assert ablation.run_command(args) == 1
    err_text = capsys.readouterr().err
    assert "1 ablation task(s) failed: toy seed 1" in err_text and "partial" in err_text
    # the failed task's traceback comes first, so the user sees where it failed
    assert "Traceback (most recent call last)" in err_text and "in fit" in err_text
    assert err_text.index("Traceback") < err_text.index("1 ablation task(s) failed")
    assert (out / "ablation.csv").read_text() == "the committed table\n"
    kept = pd.read_csv(out / "ablation.partial.csv")
    assert sorted(set(kept.seed)) == [0, 2]
    assert not (tmp_path / "reports" / "ablation.md").exists()


class _Unpicklable(RuntimeError):
    """An error that cannot be pickled (it holds a lambda), as some libraries raise."""

    def __init__(self, msg):
        super().__init__(msg)
        self.hook = lambda: None


def test_an_unpicklable_error_in_a_task_loses_only_that_tasks_rows(monkeypatch):
    """A joblib worker pickles what a task returns: a failed task must hand back text, not the
    exception, or an exception that cannot be pickled breaks the transfer of every row."""
    import pickle

    import benchmarks.ablation as ablation

    def one_split(preset, seed, params):
        if seed == 1:
            raise _Unpicklable("a fit that fails unpicklably")
        return [{"dataset": preset, "seed": seed}]

    from benchmarks.splits import PRESETS

    monkeypatch.setitem(PRESETS, "toy", PRESETS["moons-paper"])  # a name run's check knows
    monkeypatch.setattr(ablation, "_one_split", one_split)
    failed = ablation._one_split_or_error("toy", 1, None)
    back = pickle.loads(pickle.dumps(failed))   # what a worker process does with it
    assert "_Unpicklable: a fit that fails unpicklably" in back.summary
    assert "Traceback (most recent call last)" in back.traceback
    with pytest.raises(ablation.AblationError, match="toy seed 1: _Unpicklable") as err:
        ablation.run(["toy"], [0, 1, 2])
    assert sorted(err.value.frame.seed) == [0, 2]
    assert "a fit that fails unpicklably" in err.value.tracebacks[0]


def test_each_variant_is_set_against_the_method_paired_by_seed():
    from benchmarks.ablation import paired_differences

    rows = [{"dataset": "d", "seed": s, "train_on": t, "inversion": "gradient",
             "score": "combined", "auprc": base + s / 100}
            for s in range(3) for t, base in (("pu", 0.5), ("p", 0.6))]
    rows.append({**rows[0], "train_on": "all", "auprc": 0.2})  # one seed only: no interval
    table = paired_differences(pd.DataFrame(rows)).set_index("train_on")
    assert table.loc["p", "auprc difference"].startswith("+0.1000 [")
    assert table.loc["p", "paired seeds"] == 3
    assert table.loc["all", "auprc difference"] == "-0.3000"


def test_the_committed_page_is_what_the_committed_table_gives():
    """Every number of reports/ablation.md, the paired intervals docs/pugan.md cites among
    them, comes from results/ablation/ablation.csv by the committed code."""
    from pathlib import Path

    from benchmarks.ablation import ablation_markdown

    root = Path(__file__).resolve().parents[1]
    frame = pd.read_csv(root / "results" / "ablation" / "ablation.csv")
    assert (root / "reports" / "ablation.md").read_text() == ablation_markdown(frame)
