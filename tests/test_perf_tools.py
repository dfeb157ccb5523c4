"""The performance tooling's logic (not its timings): the ratio summary of a saved
pytest-benchmark run, the scale curves' fit-time prediction, the KDD-like input."""

import json

import numpy as np
import pandas as pd
import pytest

from benchmarks.perf.data import kdd_like
from benchmarks.perf.scale_curves import predict_seconds, summary_markdown
from benchmarks.perf.summary import latest_run, main, summarise


def bench(name, group, mean, **info):
    return {"name": name, "group": group, "stats": {"mean": mean, "rounds": 1},
            "extra_info": info}


def test_summary_ratios_are_against_iforest_of_the_same_group(tmp_path, capsys):
    run = {"benchmarks": [
        bench("test_fit[iforest-100k]", "fit-100k", 2.0, rows_per_s=50_000),
        bench("test_fit[pu-bagging-100k]", "fit-100k", 30.0),
        bench("test_score_throughput[iforest]", "score-20k", 0.1, records_per_s=200_000),
        bench("test_score_throughput[pugan]", "score-20k", 5.0, records_per_s=4_000),
        bench("test_harness_overhead_per_cell[isolated]", "harness", 4.0, seconds_per_cell=0.2),
    ]}
    rows = {r["name"]: r for r in summarise(run)}
    assert rows["fit[pu-bagging-100k]"]["x_iforest"] == pytest.approx(15.0)
    assert rows["score_throughput[pugan]"]["x_iforest"] == pytest.approx(50.0)
    assert rows["harness_overhead_per_cell[isolated]"]["x_iforest"] is None  # no yardstick
    folder = tmp_path / "Linux-CPython"
    folder.mkdir()
    (folder / "0001_a.json").write_text(json.dumps({"benchmarks": [],
                                                    "datetime": "2026-01-01T10:00:00"}))
    (folder / "0002_b.json").write_text(json.dumps({**run, "datetime": "2026-01-02T10:00:00"}))
    assert latest_run(tmp_path).name == "0002_b.json"
    # a folder of an older machine with a higher counter is not the newest run
    old = tmp_path / "Linux-Old"
    old.mkdir()
    (old / "0009_c.json").write_text(json.dumps({"benchmarks": [],
                                                 "datetime": "2025-06-01T10:00:00"}))
    assert latest_run(tmp_path).name == "0002_b.json"
    assert main(["--storage", str(tmp_path), "--markdown", str(tmp_path / "s.md")]) == 0
    out = capsys.readouterr().out
    assert "| score-20k | score_throughput[pugan] | 5.000 | 1 | 4,000 records/s | 50.0 |" in out
    assert "200 ms per cell" in out
    assert main(["--storage", str(tmp_path / "empty")]) == 2


def test_benchmarks_of_each_size_are_compared_with_iforest_of_that_size():
    run = {"benchmarks": [bench("test_iforest[10000]", "baselines-10k", 1.0),
                          bench("test_iforest[500000]", "baselines-500k", 10.0),
                          bench("test_ocsvm_sgd[500000]", "baselines-500k", 55.0)]}
    rows = {r["name"]: r for r in summarise(run)}
    assert rows["ocsvm_sgd[500000]"]["x_iforest"] == pytest.approx(5.5)


def test_predicted_fit_time_is_never_better_than_linear():
    assert predict_seconds([], 100) is None
    assert predict_seconds([(10, 2.0)], 30) == pytest.approx(6.0)
    assert predict_seconds([(10, 1.0), (20, 4.0)], 40) == pytest.approx(16.0)   # n^2
    assert predict_seconds([(10, 1.0), (20, 1.1)], 40) == pytest.approx(2.2)    # floored at n^1


def test_scored_records_come_from_base_records_no_training_set_uses():
    from benchmarks.perf.data import _base, _pool

    train, score = _pool("train")[0], _pool("score")[0]
    # together the two pools are the base split's rows, each taken once

    def rows(a):
        return a[np.lexsort(a.T[::-1])]

    np.testing.assert_array_equal(rows(np.concatenate([train, score])), rows(_base()[0]))
    drawn = kdd_like(500, seed=1, part="score")[0]
    pool = {tuple(r) for r in score}
    assert all(tuple(r) in pool for r in drawn)
    # and what a curve trains on comes from the training pool alone
    fitted = kdd_like(500, seed=1, part="train")[0]
    train_pool = {tuple(r) for r in train}
    assert all(tuple(r) in train_pool for r in fitted)
    with pytest.raises(ValueError, match="part must be"):
        kdd_like(100, part="test")


def test_kdd_like_keeps_ratios_and_is_seeded():
    X, y, known = kdd_like(120_000, seed=3)   # above the base split's rows: resampled + jitter
    assert X.shape == (120_000, 6) and X.dtype == np.float64 and np.isfinite(X).all()
    assert 0.015 < y.mean() < 0.025
    assert not known[y == 1].any() and 0.17 < known[y == 0].mean() < 0.23
    X2, y2, known2 = kdd_like(120_000, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2) and np.array_equal(known, known2)
    # the seed decides the draw: another seed, other rows and other labelled normals
    X4, _, known4 = kdd_like(120_000, seed=4)
    assert not np.array_equal(X, X4) and not np.array_equal(known, known4)
    with pytest.raises(ValueError, match="n_rows == 5, must be >= 10"):
        kdd_like(5)


def test_scale_curves_give_the_oracle_its_labels(tmp_path):
    """The supervised oracle is fitted with y (it refuses to fit without), so its curve exists."""
    from benchmarks.perf.scale_curves import measure

    out = tmp_path / "scale.csv"
    frame = measure(["oracle-supervised"], [2_000], max_fit_seconds=1e9, out=out)
    assert list(frame.status) == ["ok"] and frame.auprc.iloc[0] > 0.5
    assert out.exists()
    # stamped like a sweep's rows, so the report can tell whether they are current
    from benchmarks.report import mark_stale

    written = pd.read_csv(out)
    # without these columns mark_stale calls every row current: the check would pass unread
    assert {"code_version", "detector_name", "detector_params"} <= set(written.columns)
    assert written["code_version"].notna().all()
    assert not mark_stale(written)["stale"].any()


def test_scale_curves_for_some_detectors_keep_the_others_rows(tmp_path):
    """A run for some detectors replaces their curves in --out and keeps the other
    detectors' rows, as the committed file was made (the baselines measured again later)."""
    from benchmarks.perf.scale_curves import measure

    out = tmp_path / "scale.csv"
    measure(["oracle-supervised", "iforest"], [2_000], max_fit_seconds=1e9, out=out)
    before = pd.read_csv(out)
    again = measure(["iforest"], [2_000, 3_000], max_fit_seconds=1e9, out=out)
    assert list(again["detector"]) == ["iforest", "iforest"]   # this run's rows
    after = pd.read_csv(out)
    assert sorted(after["detector"]) == ["iforest", "iforest", "oracle-supervised"]
    pd.testing.assert_frame_equal(after[after["detector"] == "oracle-supervised"],
                                  before[before["detector"] == "oracle-supervised"])
    out.write_text("not, a\ntable\n")
    with pytest.raises(ValueError, match="has no detector column: not a scale-curve table"):
        measure(["iforest"], [2_000], max_fit_seconds=1e9, out=out)


def test_scale_curves_figure_names_each_line(tmp_path):
    """The figure labels every detector at its curve's end (no legend to match colours in)."""
    from benchmarks.perf.scale_curves import COLUMNS, plot

    rows = [dict(detector=d, n_train=n, status="ok", fit_seconds=t * n / 1e4,
                 score_seconds=0.1 * t) for d, t in (("iforest", 1.0), ("pugan", 50.0))
            for n in (2_000, 10_000, 50_000)]
    csv = tmp_path / "scale.csv"
    pd.DataFrame(rows, columns=list(COLUMNS)).to_csv(csv, index=False)
    png, svg = plot(csv, tmp_path / "curves")
    text = svg.read_text()
    assert png.stat().st_size > 0 and "iforest" in text and "pugan" in text
    assert "legend" not in text


def test_scale_curves_table_says_why_a_size_was_not_measured():
    """The table beside the figure gives fit seconds where a size ran and the reason's word
    where it did not, with the ranges of scoring time and AUPRC over the measured sizes."""

    rows = [dict(detector="ocsvm", n_train=2_000, status="ok", fit_seconds=0.5,
                 score_seconds=0.04, auprc=0.3, code_version="0.1.0+abc"),
            dict(detector="ocsvm", n_train=100_000, status="skipped",
                 reason="registry caps ocsvm at 50000 training rows"),
            dict(detector="pugan", n_train=2_000, status="ok", fit_seconds=17.25,
                 score_seconds=1.4, auprc=0.8, code_version="0.1.0+abc"),
            dict(detector="pugan", n_train=100_000, status="skipped",
                 reason="predicted fit 900 s > 300 s (--max-fit-seconds)"),
            dict(detector="iforest", n_train=2_000, status="failed", reason="ValueError: x"),
            dict(detector="iforest", n_train=100_000, status="skipped",
                 reason="stopped: the fit failed at 2000 rows")]
    table = summary_markdown(pd.DataFrame(rows))
    assert "| ocsvm | 0.50 s | capped | 0.04 s | 0.300 |" in table
    assert "| pugan | 17.2 s | over budget | 1.40 s | 0.800 |" in table
    assert "| iforest | failed | stopped |  |  |" in table
    assert "Code versions: 0.1.0+abc." in table
    assert "| detector | 2,000 | 100,000 | scoring the records |" in table
    # a size measured twice (an appended CSV): the later row, once
    again = summary_markdown(pd.DataFrame([*rows, {**rows[0], "fit_seconds": 0.75,
                                                   "n_score": 10_000}]), "x.csv")
    assert "| ocsvm | 0.75 s | capped |" in again and again.count("| ocsvm |") == 1
    assert "scoring 10,000 records" in again and "from x.csv;" in again
    empty = summary_markdown(pd.DataFrame(columns=["detector", "n_train", "status"]))
    assert "| --- | --- | --- |" in empty


def test_the_committed_scale_table_is_the_generated_one():
    """docs/guarding.md points to this table instead of copying numbers: it must be what the
    committed CSV gives."""
    from benchmarks.perf.scale_curves import (
        DEFAULT_FIGURE,
        DEFAULT_OUT,
        summary_markdown,
        summary_path,
    )

    committed = summary_path(DEFAULT_FIGURE).read_text(encoding="utf-8")
    assert committed == summary_markdown(pd.read_csv(DEFAULT_OUT))


def test_a_failing_scale_curve_fit_is_recorded_and_the_others_still_run(tmp_path):
    """One detector whose fit raises must not end the run: its row says failed with the
    error, its larger sizes are not attempted, and the next detector is still measured."""
    from helpers import PLUGIN

    from benchmarks.perf.scale_curves import measure
    from benchmarks.plugins import import_plugins

    import_plugins([PLUGIN])  # registers t-raise, whose fit raises
    out = tmp_path / "scale.csv"
    frame = measure(["t-raise", "iforest"], [2_000, 4_000], max_fit_seconds=1e9,
                    out=out)
    raised = frame[frame.detector == "t-raise"]
    assert list(raised.status) == ["failed", "skipped"]
    assert "deliberate failure in fit" in raised.reason.iloc[0]
    assert "failed at 2000 rows" in raised.reason.iloc[1]
    assert list(frame[frame.detector == "iforest"].status) == ["ok", "ok"]
    assert len(pd.read_csv(out)) == 4
    # the table reads the reason measure wrote, not a copy of its wording
    assert "| t-raise | failed | stopped |" in summary_markdown(frame)


def test_scale_curve_sizes_over_budget_or_capped_are_named_so_in_the_table(tmp_path):
    """A size the fit-time budget or the registry's row cap keeps out is a skipped row whose
    reason the table turns into its word, from the rows :func:`measure` itself writes."""
    from benchmarks.perf.scale_curves import measure
    from benchmarks.registry import get_spec

    cap = get_spec("ocsvm").max_train_rows
    frame = measure(["iforest", "ocsvm"], [200, 400, cap + 1], max_fit_seconds=1e-9,
                    out=tmp_path / "scale.csv")
    assert list(frame[frame.detector == "iforest"].status) == ["ok", "skipped", "skipped"]
    table = summary_markdown(frame)
    assert "| over budget | over budget |" in table.split("| iforest |")[1].split("\n")[0]
    assert "| ocsvm |" in table and "capped" in table.split("| ocsvm |")[1].split("\n")[0]


def test_a_failing_scale_curve_fit_fails_the_command_and_is_named(tmp_path, capsys, caplog):
    """A fit that raises is not a silent row: the command exits 1 naming it on stderr, the
    failure is logged at WARNING (so -q still shows it), and the figure's footnote says it
    failed instead of calling it "not measured"."""
    import logging

    from helpers import PLUGIN

    from benchmarks.cli import main
    from benchmarks.plugins import import_plugins

    import_plugins([PLUGIN])  # registers t-raise, whose fit raises
    out = tmp_path / "scale.csv"
    with caplog.at_level(logging.INFO, logger="benchmarks.perf.scale_curves"):
        rc = main(["-q", "scale-curves", "--detectors", "t-raise", "iforest",
                   "--sizes", "2000", "4000", "--max-fit-seconds", "1e9", "--out", str(out),
                   "--figure", str(tmp_path / "curves")])
    assert rc == 1
    err = capsys.readouterr().err
    assert "1 fit(s) failed" in err and "t-raise at 2000 rows" in err
    assert "deliberate failure in fit" in err
    warned = [r for r in caplog.records if r.levelno == logging.WARNING and "t-raise n=2000" in
              r.getMessage()]
    assert warned and "failed" in warned[0].getMessage()
    from benchmarks.perf.scale_curves import footnote

    note = footnote(pd.read_csv(out, keep_default_na=False))
    assert "t-raise failed at 2000 rows" in note
    assert "not measured (budget, cap or stopped): t-raise from 4,000 rows" in note
    assert "iforest" not in note
    # a run whose fits all succeed exits 0
    assert main(["-q", "scale-curves", "--detectors", "iforest", "--sizes", "2000",
                 "--max-fit-seconds", "1e9", "--out", str(out),
                 "--figure", str(tmp_path / "curves")]) == 0


def test_scale_curves_refuse_an_unknown_detector_before_any_fit():
    """Found after the first detectors' fits, a typo left --out rewritten with their rows."""
    from benchmarks.perf.scale_curves import check_options
    from benchmarks.registry import UnknownDetectorError

    with pytest.raises(UnknownDetectorError, match="unknown detector 'ifroest'"):
        check_options([2_000], 60.0, ["iforest", "ifroest"])
