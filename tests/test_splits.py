"""The PU split protocol: composition, determinism, no leakage, holdout types, bad input."""

import numpy as np
import pandas as pd
import pytest

from benchmarks.datasets import load_dataset
from benchmarks.datasets.core import make_dataset
from benchmarks.paper import PAPER_TABLE1
from benchmarks.splits import (
    PRESETS,
    SplitError,
    make_pu_split,
    preset_split,
    table1,
)


def test_composition_follows_ratio_and_fraction():
    s = make_pu_split("moons", 0.2, 0.25, seed=1, n_normal=1000,
                      dataset_params={"n_samples": 4000})
    n_norm_tr = int((s.y_train == 0).sum())
    n_norm_te = int((s.y_test == 0).sum())
    assert n_norm_tr + n_norm_te == 1000  # the normal class keeps its size
    assert s.y_train.sum() == round(n_norm_tr * 0.2 / 0.8)
    assert s.y_test.sum() == round(n_norm_te * 0.2 / 0.8)
    assert s.known_normal.sum() == round(0.25 * n_norm_tr)
    assert (s.y_train[s.known_normal] == 0).all()  # P holds normals only
    assert s.meta["n_test_anomalies"] == s.y_test.sum()


def test_same_arguments_same_split_bit_for_bit():
    a = make_pu_split("kddcup99", 0.05, 0.1, seed=7, n_normal=3000)
    b = make_pu_split("kddcup99", 0.05, 0.1, seed=7, n_normal=3000)
    for field in ("X_train", "X_test", "known_normal", "y_train", "y_test", "train_index"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    c = make_pu_split("kddcup99", 0.05, 0.1, seed=8, n_normal=3000)
    assert not np.array_equal(a.train_index, c.train_index)


def test_no_record_in_both_sides_and_dedupe():
    s = make_pu_split("kddcup99", 0.02, 0.1, seed=0, n_normal=5000)
    assert not set(s.train_index) & set(s.test_index)
    d = make_pu_split("kddcup99", 0.02, 0.1, seed=0, n_normal=5000, dedupe=True)
    assert d.meta["duplicates_dropped"] > 300_000
    # after de-duplication no test record has an exact twin among the training records
    tr = {r.tobytes() for r in d.X_train}
    assert not any(r.tobytes() in tr for r in d.X_test)


def test_preprocessing_never_sees_test_rows():
    """Changing test records leaves every training feature unchanged (scaler/PCA fit on train)."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(600, 5)), columns=list("abcde"))
    y = (np.arange(600) % 5 == 0).astype(int)
    base = make_dataset("toy", X, y, meta={"default_scale": "standard", "default_pca": 3})
    s = make_pu_split(base, 0.1, 0.5, seed=3)
    X2 = X.copy()
    X2.iloc[s.test_index] = X2.iloc[s.test_index] * 100 + 50
    moved = make_dataset("toy", X2, y, meta={"default_scale": "standard", "default_pca": 3})
    s2 = make_pu_split(moved, 0.1, 0.5, seed=3)
    np.testing.assert_array_equal(s.train_index, s2.train_index)
    np.testing.assert_allclose(s.X_train, s2.X_train)
    assert not np.allclose(s.X_test, s2.X_test)


def test_kdd_paper_preprocessing_gives_six_pca_attributes():
    s = make_pu_split("kddcup99", 0.02, 0.1, seed=0, n_normal=2000)
    assert s.X_train.shape[1] == 6 and s.meta["pca"] == 6 and s.meta["scale"] == "minmax"
    onehot = make_pu_split("kddcup99", 0.02, 0.1, seed=0, n_normal=2000, categorical="onehot",
                           pca=None)
    assert onehot.X_train.shape[1] > 38


def test_holdout_family_absent_from_training_present_in_test():
    """Judged by the records' own types in the data file, not by the labels the split reports
    (a split that mislabelled its records would otherwise vouch for itself)."""
    ds = load_dataset("kddcup99")
    probe = set(ds.anomaly_type[ds.family == "Probe"])
    assert probe == {"ipsweep", "nmap", "portsweep", "satan"}
    s = make_pu_split(ds, 0.05, 0.1, seed=2, holdout_types=["Probe"])
    types_tr, types_te = ds.anomaly_type[s.train_index], ds.anomaly_type[s.test_index]
    assert not set(types_tr) & probe
    assert len(set(types_tr) - {"normal"}) > 0  # the other families still train
    assert set(types_te) & probe                 # the held-out family is what the test meets
    np.testing.assert_array_equal(s.type_train, types_tr)
    np.testing.assert_array_equal(s.type_test, types_te)
    full = make_pu_split(ds, 0.05, 0.1, seed=2)
    np.testing.assert_array_equal(np.sort(s.test_index), np.sort(full.test_index))
    with pytest.raises(SplitError, match="holdout_types"):
        make_pu_split("kddcup99", 0.05, 0.1, seed=2, holdout_types=["Martians"])


@pytest.mark.parametrize("kwargs, match", [
    (dict(anomaly_ratio=0.0), "anomaly_ratio must be in"),
    (dict(anomaly_ratio=1.0), "anomalies only"),
    (dict(anomaly_ratio=-0.2), "anomaly_ratio"),
    (dict(anomaly_ratio="lots"), "anomaly_ratio must be a number"),
    (dict(labelled_fraction=0.0), "labelled_fraction must be in"),
    (dict(labelled_fraction=1.5), "labelled_fraction"),
    (dict(labelled_fraction=1e-6), "labels no record"),
    (dict(anomaly_ratio=0.9), "needs .* anomalies"),
    (dict(anomaly_ratio=1e-5), "gives 0 training anomalies"),
    (dict(seed=-1), "seed"),
    (dict(n_normal=10**9), "n_normal"),
    (dict(scale="log"), "scale must be one of"),
    (dict(pca=50), "pca must be between"),
])
def test_bad_split_arguments(kwargs, match):
    args = dict(dataset="adbench:thyroid", anomaly_ratio=0.02, labelled_fraction=0.1, seed=0)
    args.update(kwargs)
    with pytest.raises(SplitError, match=match):
        make_pu_split(**args)


def test_moons_paper_preset_equals_table1():
    s = preset_split("moons-paper", 0)
    assert s.X_train.shape == (70_000, 2)
    assert s.X_test.shape == (30_000, 2)
    assert s.known_normal.sum() == 3_492
    assert s.y_test.sum() == 15_000


def test_table1_moons_row_equals_paper():
    t = table1(seed=0).set_index("dataset")
    row = t.loc["moons-paper"]
    for col in ("attributes", "known_positives", "training_size", "testing_size",
                "anomalies_in_testing"):
        assert row[col] == row[f"paper_{col}"], col
    kdd = t.loc["kddcup99-low"]
    # KDD keeps the paper's ratios where its sizes exceed the 10% file
    assert kdd["anomalies_in_testing"] / kdd["testing_size"] == pytest.approx(911 / 494_021,
                                                                                rel=0.02)
    assert set(PAPER_TABLE1) == set(t.index) and set(PAPER_TABLE1) <= set(PRESETS)
