"""KDD readings as presets, and the duplicate counts every split and results row carries."""


import numpy as np
import pandas as pd
import pytest
from helpers import PLUGIN

from benchmarks.config import parse_config
from benchmarks.harness import run_sweep
from benchmarks.paper import PAPER_TABLE1
from benchmarks.splits import (
    KDD_READINGS,
    PRESETS,
    anomaly_overlap,
    make_pu_split,
    preset_split,
)


def test_every_reading_is_a_preset_and_the_paper_presets_are_kept():
    names = [r[0] for r in KDD_READINGS]
    assert len(set(names)) == 8 and set(names) <= set(PRESETS)
    assert set(PAPER_TABLE1) == {"moons-paper", "kddcup99-high", "kddcup99-low"}
    for name, ratio, dedupe, level in KDD_READINGS:
        base = PRESETS[f"kddcup99-{level}"]
        p = PRESETS[name]
        assert p["labelled_fraction"] == base["labelled_fraction"]
        assert p["test_size"] == base["test_size"]
        assert p["anomaly_ratio"] == (base["anomaly_ratio"] if ratio == "paper" else 0.02)
        assert p.get("dedupe", False) is dedupe
    assert "dedupe" not in PRESETS["kddcup99-low"]
    assert PRESETS["kddcup99-low"]["anomaly_ratio"] == pytest.approx(911 / 494_021)


def test_overlap_counts_distinct_records_and_training_twins():
    X = pd.DataFrame({"a": [1, 1, 2, 3, 1, 4], "c": ["x", "x", "y", "y", "z", "x"]})
    # test anomalies: rows 0, 1 (identical), 2, 5; training: rows 3, 4 and a copy of row 0 (row 1)
    out = anomaly_overlap(X, np.array([3, 4, 1]), np.array([0, 1, 2, 5]))
    assert out == {"n_test_anomalies_distinct": 3, "n_test_anomalies_twin_in_train": 2}
    # the categorical column counts: (1, "z") is not a twin of (1, "x")
    out = anomaly_overlap(X, np.array([4]), np.array([0]))
    assert out["n_test_anomalies_twin_in_train"] == 0


def test_paper_ratio_reading_is_few_distinct_records_with_twins():
    s = preset_split("kddcup99-low", 0)
    n = s.meta["n_test_anomalies"]
    assert s.meta["n_test_anomalies_distinct"] < n / 2
    assert s.meta["n_test_anomalies_twin_in_train"] > n / 2


def test_two_percent_and_dedupe_readings():
    s = preset_split("kddcup99-low-2pct", 0)
    assert s.y_test.mean() == pytest.approx(0.02, abs=2e-4)
    d = preset_split("kddcup99-low-2pct-dedupe", 0)
    assert d.meta["dedupe"] and d.meta["duplicates_dropped"] > 0
    assert d.meta["n_test_anomalies_distinct"] == d.meta["n_test_anomalies"]
    assert d.meta["n_test_anomalies_twin_in_train"] == 0
    assert d.known_normal.sum() == pytest.approx(
        PRESETS["kddcup99-low"]["labelled_fraction"] * (d.y_train == 0).sum(), abs=1)


def test_results_row_carries_the_overlap_counts(tmp_path):
    rows = pd.DataFrame({"f": np.r_[np.arange(200.0), np.full(40, 500.0), np.arange(40.0) + 900],
                         "label": np.r_[np.zeros(200), np.ones(80)].astype(int)})
    path = tmp_path / "dupes.csv"
    rows.to_csv(path, index=False)
    split = {"test_size": 0.5}
    cfg = parse_config({
        "name": "t", "seeds": [0], "anomaly_ratios": [0.2], "labelled_fractions": [0.5],
        "plugins": [PLUGIN], "time_limit": 60, "detectors": ["t-centroid"],
        "datasets": [{"dataset": f"file:{path}", "split": split}]})
    df = run_sweep(cfg, tmp_path / "out", n_jobs=1, progress=False)
    row = df.iloc[0]
    assert row["status"] == "ok"
    cell = cfg.cells()[0]
    meta = make_pu_split(**cell.split_kwargs()).meta
    assert row["n_test_anomalies_distinct"] == meta["n_test_anomalies_distinct"]
    assert row["n_test_anomalies_twin_in_train"] == meta["n_test_anomalies_twin_in_train"]
    # 40 copies of one record among 80 anomalies: some test anomalies repeat and have twins
    assert meta["n_test_anomalies_distinct"] < meta["n_test_anomalies"]
    assert meta["n_test_anomalies_twin_in_train"] > 0
