"""Loaders: bundled files verified, labels and metadata right, bad files rejected clearly."""

import gzip
import shutil

import numpy as np
import pandas as pd
import pytest

from benchmarks.datasets import DatasetError, available_datasets, load_dataset, verify_checksum
from benchmarks.datasets.core import DATA_DIR
from benchmarks.datasets.kddcup99 import KDD_10_PERCENT, load_kddcup99


def test_moons_halves_are_the_classes():
    ds = load_dataset("moons", n_samples=1000, noise=0.05, random_state=3)
    assert ds.X.shape == (1000, 2)
    assert ds.y.sum() == 500
    # the normal moon is the upper one: its points mostly lie above the anomalies' mean
    assert ds.X["x1"][ds.y == 0].mean() > ds.X["x1"][ds.y == 1].mean()
    again = load_dataset("moons", n_samples=1000, noise=0.05, random_state=3)
    np.testing.assert_array_equal(ds.X.to_numpy(), again.X.to_numpy())


def test_kdd_bundled_counts_and_families():
    ds = load_dataset("kddcup99")
    assert ds.X.shape == (494_021, 41)
    assert int((ds.y == 0).sum()) == 97_278
    assert set(ds.categorical) == {"protocol_type", "service", "flag"}
    assert int((ds.anomaly_type == "smurf").sum()) == 280_790
    fams = set(ds.family[ds.y == 1])
    assert fams == {"DoS", "Probe", "R2L", "U2R"}
    assert (ds.family[ds.anomaly_type == "neptune"] == "DoS").all()


@pytest.mark.parametrize("name", [n for n in available_datasets() if n.startswith("adbench:")])
def test_adbench_bundled(name):
    ds = load_dataset(name)
    assert ds.X.ndim == 2 and 0 < ds.y.mean() < 0.5
    assert ds.meta["sha256"]


def test_checksums_of_all_bundled_files():
    for line in (DATA_DIR / "SHA256SUMS").read_text().splitlines():
        digest, rel = line.split()
        assert verify_checksum(DATA_DIR / rel) == digest


def test_corrupt_bundled_copy_is_rejected(tmp_path):
    bad = tmp_path / "kdd.gz"
    shutil.copy(KDD_10_PERCENT, bad)
    with open(bad, "r+b") as fh:
        fh.seek(1000)
        fh.write(b"garbage")
    expected = verify_checksum(KDD_10_PERCENT)
    with pytest.raises(DatasetError, match="checksum mismatch"):
        load_kddcup99(path=bad, sha256=expected)


def test_truncated_gzip_is_a_clear_error(tmp_path):
    bad = tmp_path / "kdd_trunc.gz"
    bad.write_bytes(KDD_10_PERCENT.read_bytes()[:50_000])
    with pytest.raises(DatasetError, match="kdd_trunc.gz"):
        load_kddcup99(path=bad)


def test_kdd_wrong_field_count(tmp_path):
    f = tmp_path / "short.csv.gz"
    with gzip.open(f, "wt") as fh:
        fh.write("0,tcp,http,SF,181\n")
    with pytest.raises(DatasetError, match="fewer than 42 fields"):
        load_kddcup99(path=f)


def test_missing_file():
    with pytest.raises(DatasetError, match="not found"):
        load_dataset("file", path="/nonexistent/data.csv")


def test_unknown_dataset_lists_known():
    with pytest.raises(DatasetError, match="kddcup99"):
        load_dataset("mnist")
    with pytest.raises(DatasetError, match="cardio"):
        load_dataset("adbench:nope")


@pytest.fixture
def user_frame():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    frame["kind"] = np.where(np.arange(200) < 20, "attack", "ok")
    return frame


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".npz"])
def test_user_file_formats(tmp_path, user_frame, suffix):
    path = tmp_path / f"data{suffix}"
    if suffix == ".csv":
        user_frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        user_frame.to_parquet(path)
    else:
        np.savez(path, X=user_frame[["a", "b", "c"]].to_numpy(),
                 kind=(user_frame["kind"] == "attack").astype(int).to_numpy())
    values = "attack" if suffix != ".npz" else 1
    ds = load_dataset(f"file:{path}", label_column="kind", anomaly_values=values)
    assert ds.X.shape == (200, 3) and ds.y.sum() == 20


def test_user_file_bad_inputs(tmp_path, user_frame):
    path = tmp_path / "d.csv"
    user_frame.to_csv(path, index=False)
    with pytest.raises(DatasetError, match="label column 'target' not found"):
        load_dataset("file", path=path, label_column="target")
    with pytest.raises(DatasetError, match="one class only"):
        load_dataset("file", path=path, label_column="kind", anomaly_values="nothing")

    nan = user_frame.copy()
    nan.loc[5, "b"] = np.nan
    nan.to_csv(tmp_path / "nan.csv", index=False)
    with pytest.raises(DatasetError, match="column 'b' has 1 NaN"):
        load_dataset("file", path=tmp_path / "nan.csv", label_column="kind",
                     anomaly_values="attack")
    inf = user_frame.copy()
    inf.loc[3, "a"] = np.inf
    inf.to_parquet(tmp_path / "inf.parquet")
    with pytest.raises(DatasetError, match=r"column .a. has 1 NaN or infinite value\(s\), "
                                          r"first at data row 3 \(counted from 0, any header "
                                          r"line not counted\)"):
        load_dataset("file", path=tmp_path / "inf.parquet", label_column="kind",
                     anomaly_values="attack")

    text = user_frame.copy()
    text["c"] = "x"
    text.to_csv(tmp_path / "text.csv", index=False)
    with pytest.raises(DatasetError, match="column 'c' is not numeric"):
        load_dataset("file", path=tmp_path / "text.csv", label_column="kind",
                     anomaly_values="attack")
    (tmp_path / "d.xlsx").write_text("x")
    with pytest.raises(DatasetError, match="unsupported file type"):
        load_dataset("file", path=tmp_path / "d.xlsx", label_column="kind")
    (tmp_path / "broken.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="broken.npz"):
        load_dataset("adbench", path=tmp_path / "broken.npz")
