"""Longest-first start order of pending cells, and the cost lookup behind it."""

import logging
from dataclasses import dataclass

import pandas as pd
from helpers import sweep_raw

from benchmarks.config import parse_config
from benchmarks.harness import run_sweep
from benchmarks.scheduling import expected_seconds_lookup, longest_first, observed_seconds
from benchmarks.sweep import core_utilisation_text


@dataclass(frozen=True)
class FakeCell:
    detector: str
    dataset: str
    seed: int = 0
    detector_name: str = ""

    @property
    def key(self) -> str:
        return f"{self.detector}|{self.dataset}|{self.seed}"


def names(cells):
    return [f"{c.detector}/{c.dataset}/{c.seed}" for c in cells]


def test_known_costs_start_longest_first_and_ties_keep_the_config_order():
    cells = [FakeCell("fast", "a", 0), FakeCell("slow", "a", 0), FakeCell("mid", "a", 0),
             FakeCell("fast", "a", 1), FakeCell("slow", "a", 1)]
    cost = {"fast": 1.0, "mid": 10.0, "slow": 100.0}
    order = longest_first(cells, lambda c: cost[c.detector])
    assert names(order) == ["slow/a/0", "slow/a/1", "mid/a/0", "fast/a/0", "fast/a/1"]
    assert longest_first(cells, lambda c: cost[c.detector]) == order  # deterministic


def test_costs_within_a_factor_of_two_keep_the_config_order():
    """Cells of one split stay adjacent when their costs are alike (the worker reuses it)."""
    cells = [FakeCell("x", "a"), FakeCell("y", "a"), FakeCell("z", "a")]
    cost = {"x": 2.1, "y": 3.9, "z": 4.1}
    assert names(longest_first(cells, lambda c: cost[c.detector])) == [
        "z/a/0", "x/a/0", "y/a/0"]


def test_unknown_costs_start_first_and_presumed_slow_ones_before_them():
    cells = [FakeCell("known-long", "a"), FakeCell("new", "a"), FakeCell("deep-new", "a"),
             FakeCell("known-short", "a")]
    cost = {"known-long": 500.0, "known-short": 0.5}
    order = longest_first(cells, lambda c: cost.get(c.detector),
                          presumed_slow=lambda c: c.detector.startswith("deep"))
    assert names(order) == ["deep-new/a/0", "new/a/0", "known-long/a/0", "known-short/a/0"]


def test_zero_and_sub_second_costs_sort_below_longer_ones():
    cells = [FakeCell("zero", "a"), FakeCell("tenth", "a"), FakeCell("one", "a")]
    cost = {"zero": 0.0, "tenth": 0.1, "one": 1.0}
    assert names(longest_first(cells, lambda c: cost[c.detector])) == [
        "one/a/0", "tenth/a/0", "zero/a/0"]


def test_the_lookup_prefers_the_same_label_on_the_same_dataset():
    observed = [
        {"detector": "pugan (tuned)", "detector_name": "pugan", "dataset": "kdd", "seconds": 300},
        {"detector": "pugan (tuned)", "detector_name": "pugan", "dataset": "kdd", "seconds": 100},
        {"detector": "pugan (paper)", "detector_name": "pugan", "dataset": "kdd", "seconds": 50},
        {"detector": "pugan (paper)", "detector_name": "pugan", "dataset": "moons", "seconds": 8},
        {"detector": "iforest", "detector_name": "iforest", "dataset": "moons", "seconds": 2},
    ]
    expected = expected_seconds_lookup(observed)
    # mean over seeds of the same label and dataset
    assert expected(FakeCell("pugan (tuned)", "kdd", detector_name="pugan")) == 200
    # no record of this label here: the same registry detector on this dataset
    assert expected(FakeCell("pugan (grid)", "kdd", detector_name="pugan")) == 150
    # a dataset with no record: the same label elsewhere, then the same registry detector
    assert expected(FakeCell("pugan (paper)", "new", detector_name="pugan")) == 29
    assert expected(FakeCell("pugan (other)", "new", detector_name="pugan")) == 114.5
    assert expected(FakeCell("knn", "moons", detector_name="knn")) is None


def test_observed_seconds_reads_timed_records_and_the_last_results_csv_once(tmp_path):
    a0, a1, b0 = FakeCell("a", "d", 0, "a"), FakeCell("a", "d", 1, "a"), FakeCell("b", "d", 0, "b")
    records = {a0.key: {"status": "ok", "cell_seconds": 4.0},
               a1.key: {"status": "failed", "cell_seconds": 0.1},   # failed: not a cost
               b0.key: {"status": "timeout", "cell_seconds": 60.0}}
    csv = tmp_path / "results.csv"
    pd.DataFrame([
        {"cell_id": a0.key, "detector": "a", "detector_name": "a", "dataset": "d",
         "status": "ok", "cell_seconds": 4.0},                    # already counted above
        {"cell_id": "old-key", "detector": "c", "detector_name": "c", "dataset": "d",
         "status": "ok", "cell_seconds": 9.0},
        {"cell_id": "old-key-2", "detector": "c", "detector_name": "c", "dataset": "d",
         "status": "skipped", "cell_seconds": 0.0},
    ]).to_csv(csv, index=False)
    seen = observed_seconds([a0, a1, b0], records, csv)
    assert sorted((r["detector"], r["seconds"]) for r in seen) == [
        ("a", 4.0), ("b", 60.0), ("c", 9.0)]
    # a second results.csv (the sweep a rerun copies) adds only cells the first lacks
    source = tmp_path / "source.csv"
    pd.DataFrame([
        {"cell_id": "old-key", "detector": "c", "detector_name": "c", "dataset": "d",
         "status": "ok", "cell_seconds": 99.0},
        {"cell_id": "source-key", "detector": "e", "detector_name": "e", "dataset": "d",
         "status": "ok", "cell_seconds": 7.0},
    ]).to_csv(source, index=False)
    seen = observed_seconds([a0, a1, b0], records, csv, None, source)
    assert sorted((r["detector"], r["seconds"]) for r in seen) == [
        ("a", 4.0), ("b", 60.0), ("c", 9.0), ("e", 7.0)]
    csv.write_bytes(b"\xff\xfe not a csv")
    assert len(observed_seconds([a0], records, csv)) == 1
    assert len(observed_seconds([a0], records, tmp_path / "missing.csv")) == 1


def test_core_utilisation_text():
    assert core_utilisation_text(30.0, 2, 20.0, 4).startswith("core utilisation 0.75 ")
    assert "n/a" in core_utilisation_text(0.0, 1, 0.5, 0)


def sweep_config():
    return parse_config(sweep_raw(["t-centroid", "t-oracle", "t-small-normals"],
                                  name="order"))


def test_a_sweep_starts_the_cells_recorded_as_longest_first(tmp_path, caplog):
    out = tmp_path / "out"
    out.mkdir()
    # the folder's last run says t-oracle is the long one, t-small-normals the short one
    pd.DataFrame([{"cell_id": f"old-{i}", "detector": d, "detector_name": d, "dataset": "moons",
                   "status": "ok", "cell_seconds": s}
                  for i, (d, s) in enumerate([("t-centroid", 5.0), ("t-oracle", 50.0),
                                              ("t-small-normals", 0.5)])]
                 ).to_csv(out / "results.csv", index=False)
    with caplog.at_level(logging.INFO, logger="benchmarks"):
        run_sweep(sweep_config(), out, n_jobs=1, progress=False)
    lines = (out / "run.log").read_text().splitlines()
    started = [d for line in lines[:3] for d in ("t-centroid", "t-oracle", "t-small-normals")
               if f"/ {d} /" in line]
    assert started == ["t-oracle", "t-centroid", "t-small-normals"]  # one worker: in order
    assert "core utilisation" in lines[3]
    assert any("core utilisation" in r.getMessage() for r in caplog.records)
