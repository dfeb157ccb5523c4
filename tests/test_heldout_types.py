"""Unknown anomaly types: the held-out split, its metrics, and the results row."""

from pathlib import Path

import numpy as np
import pytest
from helpers import PLUGIN

from benchmarks.config import load_config, parse_config
from benchmarks.datasets import load_dataset
from benchmarks.harness import run_sweep
from benchmarks.metrics import HELDOUT_COLUMNS, heldout_metrics
from benchmarks.splits import SplitError, SplitInfeasible, make_pu_split

CONFIG = Path(__file__).resolve().parents[1] / "benchmarks" / "configs" / "unknown_types.yaml"


def test_heldout_metrics_measure_each_group_against_all_normals():
    types = np.array(["normal"] * 4 + ["dos"] * 2 + ["probe"] * 2, dtype=object)
    y = (types != "normal").astype(int)
    # seen (dos) anomalies above every normal; held-out (probe) ones among the normals
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.9, 0.8, 0.35, 0.05])
    labels = (scores >= 0.5).astype(int)
    out = heldout_metrics(y, scores, labels, types, ["probe"])
    assert set(out) == set(HELDOUT_COLUMNS)
    assert out["n_test_heldout"] == 2 and out["n_test_seen"] == 2
    assert out["recall_seen"] == 1.0 and out["auprc_seen"] == 1.0
    assert out["recall_heldout"] == 0.0
    # probe at 0.35 ranks 2nd of 5 (precision 1/2), at 0.05 last (2/6): AP = (1/2 + 2/6) / 2
    assert out["auprc_heldout"] == pytest.approx((1 / 2 + 2 / 6) / 2)


def test_heldout_metrics_take_one_type_named_alone():
    """A bare string names one type, as the split takes it, not its letters."""
    types = np.array(["normal", "normal", "smurf", "neptune"], dtype=object)
    y = np.array([0, 0, 1, 1])
    out = heldout_metrics(y, [0.1, 0.2, 0.9, 0.8], [0, 0, 1, 1], types, "smurf")
    assert out == heldout_metrics(y, [0.1, 0.2, 0.9, 0.8], [0, 0, 1, 1], types, ["smurf"])
    assert out["n_test_heldout"] == 1 and out["n_test_seen"] == 1


def test_heldout_metrics_without_heldout_records_are_nan():
    y = np.array([0, 0, 1])
    out = heldout_metrics(y, [0.1, 0.2, 0.9], [0, 0, 1], ["normal", "normal", "dos"], ["probe"])
    assert out["n_test_heldout"] == 0 and np.isnan(out["auprc_heldout"])
    assert out["auprc_seen"] == 1.0
    with pytest.raises(ValueError, match="test_types"):
        heldout_metrics(y, [0.1, 0.2, 0.9], [0, 0, 1], ["normal"], ["probe"])


def test_holdout_family_leaves_training_and_fills_its_test_share():
    ds = load_dataset("kddcup99")
    s = make_pu_split(ds, 0.05, 0.2, seed=3, n_normal=4000, holdout_types=["Probe"],
                      heldout_test_share=0.5)
    probe = set(ds.anomaly_type[ds.family == "Probe"])
    assert set(s.meta["holdout_anomaly_types"]) == probe
    # the records' own types in the data file, not the labels the split reports for them
    types_tr, types_te = ds.anomaly_type[s.train_index], ds.anomaly_type[s.test_index]
    np.testing.assert_array_equal(s.type_train, types_tr)
    np.testing.assert_array_equal(s.type_test, types_te)
    assert not np.isin(types_tr, list(probe)).any()
    held_test = np.isin(types_te, list(probe))
    assert held_test.sum() == round(0.5 * s.y_test.sum())
    assert s.y_test.mean() == pytest.approx(0.05, abs=0.002)
    natural = make_pu_split(ds, 0.05, 0.2, seed=3, n_normal=4000, holdout_types=["Probe"])
    assert natural.meta["heldout_test_share"] is None


def test_heldout_share_needs_holdout_and_enough_records():
    ds = load_dataset("kddcup99")
    with pytest.raises(SplitError, match="needs holdout_types"):
        make_pu_split(ds, 0.05, 0.2, seed=0, n_normal=4000, heldout_test_share=0.5)
    # U2R: 52 records in the file, far fewer than half of 63 test anomalies on the test side
    with pytest.raises(SplitInfeasible, match="held-out test"):
        make_pu_split(ds, 0.05, 0.2, seed=0, n_normal=4000, holdout_types=["U2R"],
                      heldout_test_share=0.5)
    # a share that rounds to no held-out anomaly is named as the cause, not the ratio
    with pytest.raises(SplitInfeasible, match=r"heldout_test_share=0.001 of the 9 test anomalies"
                                              r" leaves 0 held-out and 9 seen"):
        make_pu_split(ds, 0.05, 0.2, seed=0, n_normal=600, holdout_types=["Probe"],
                      heldout_test_share=0.001)


def test_results_row_carries_heldout_metrics(tmp_path):
    cfg = parse_config({
        "name": "t", "seeds": [0], "anomaly_ratios": [0.05], "labelled_fractions": [0.5],
        "plugins": [PLUGIN], "time_limit": 120, "detectors": ["t-centroid"],
        "datasets": [
            {"dataset": "kddcup99", "label": "kdd-no-probe",
             "split": {"n_normal": 2000, "holdout_types": ["Probe"], "heldout_test_share": 0.5}},
            {"dataset": "kddcup99", "label": "kdd", "split": {"n_normal": 2000}}]})
    df = run_sweep(cfg, tmp_path / "out", n_jobs=1, progress=False).set_index("dataset")
    assert (df["status"] == "ok").all()
    held = df.loc["kdd-no-probe"]
    assert held["n_test_heldout"] + held["n_test_seen"] == held["n_test_anomalies"]
    assert held["n_test_heldout"] == round(0.5 * held["n_test_anomalies"])  # the share asked
    assert np.isfinite(held[["auprc_heldout", "recall_heldout", "auprc_seen"]].astype(float)).all()
    assert np.isnan(df.loc["kdd", "auprc_heldout"])


def test_unknown_types_config_holds_out_each_family_with_enough_records():
    cfg = load_config(CONFIG)
    held = {tuple(d.split["holdout_types"]) for d in cfg.datasets}
    assert held == {("DoS",), ("Probe",), ("R2L",)}
    assert len(cfg.seeds) == 5
    for d in cfg.datasets:  # every cell's split can be made
        for ratio in d.anomaly_ratios:
            for frac in d.labelled_fractions:
                make_pu_split(d.dataset, ratio, frac, seed=0, **d.split)
