"""The 28 bundled ADBench files: each loads by name with the size and anomaly count it must have."""

import re
import shutil

import numpy as np
import pytest

from benchmarks.datasets import (
    DatasetError,
    adbench,
    available_datasets,
    base,
    core,
    load_dataset,
    verify_checksum,
)
from benchmarks.datasets.adbench import ADBENCH_DIR, BUNDLED_ADBENCH, load_adbench


@pytest.mark.parametrize("stem", sorted(BUNDLED_ADBENCH))
def test_each_bundled_file_loads_with_its_registered_shape(stem):
    info = BUNDLED_ADBENCH[stem]
    short = re.sub(r"^\d+_", "", stem)
    ds = load_dataset(f"adbench:{short}")
    assert ds.X.shape == (info.rows, info.features)
    assert int(ds.y.sum()) == info.anomalies
    assert ds.name == f"adbench:{short}"
    assert ds.meta["sha256"] == verify_checksum(ADBENCH_DIR / f"{stem}.npz")
    assert f"adbench:{short}" in available_datasets()


def test_registry_folder_and_checksums_agree():
    on_disk = {p.stem for p in ADBENCH_DIR.glob("*.npz")}
    assert on_disk == set(BUNDLED_ADBENCH)
    listed = {line.split()[1] for line in (core.DATA_DIR / "SHA256SUMS").read_text().splitlines()
              if line.strip()}
    assert {f"adbench/{s}.npz" for s in BUNDLED_ADBENCH} <= listed


def test_sources_table_matches_the_registry():
    text = (core.DATA_DIR / "SOURCES.md").read_text()
    rows = re.findall(r"^\| (\S+)\.npz \| ([\d,]+) \| (\d+) \| ([\d,]+) \| ([\d.]+)% \|", text,
                      flags=re.M)
    table = {stem: (int(n.replace(",", "")), int(f), int(a.replace(",", "")), float(pct))
             for stem, n, f, a, pct in rows}
    assert set(table) == set(BUNDLED_ADBENCH)
    for stem, info in BUNDLED_ADBENCH.items():
        n, f, a, pct = table[stem]
        assert (n, f, a) == (info.rows, info.features, info.anomalies), stem
        assert pct == pytest.approx(100 * a / n, abs=0.005), stem


def test_names_resolve_by_stem_and_without_case():
    a = load_dataset("adbench:46_WPBC")
    b = load_adbench("wpbc")
    np.testing.assert_array_equal(a.X.to_numpy(), b.X.to_numpy())


def test_copy_with_wrong_shape_is_rejected(monkeypatch):
    info = BUNDLED_ADBENCH["14_glass"]
    monkeypatch.setitem(BUNDLED_ADBENCH, "14_glass", info._replace(anomalies=info.anomalies + 1))
    with pytest.raises(DatasetError, match="anomalies"):
        load_adbench("glass")


def test_bundled_file_without_checksum_entry_is_rejected(tmp_path, monkeypatch):
    """A file in the data folder without a SHA256SUMS line is refused, not trusted unchecked."""
    base._bundled_checksums()  # read the real list before the data folder moves
    monkeypatch.setattr(base, "DATA_DIR", tmp_path)
    (tmp_path / "adbench").mkdir()
    extra = tmp_path / "adbench" / "99_unlisted.npz"
    shutil.copy(ADBENCH_DIR / "14_glass.npz", extra)
    with pytest.raises(DatasetError, match="no entry"):
        load_adbench(path=extra)


def test_missing_bundled_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(adbench, "ADBENCH_DIR", tmp_path)
    with pytest.raises(DatasetError, match="missing"):
        load_adbench("glass")
