"""The wide benchmark's config: every bundled dataset, the grid, the detectors."""

from pathlib import Path

import pytest

from benchmarks.config import load_config
from benchmarks.datasets import available_datasets
from benchmarks.splits import PRESETS, SplitInfeasible, make_pu_split

CONFIGS = Path(__file__).resolve().parents[1] / "benchmarks" / "configs"
DETECTORS = {"pugan", "pugan-distilled", "pu-bagging", "pu-classifier", "knn-normals",
             "lof-normals", "ocsvm-normals", "ocsvm-sgd-normals", "iforest", "iforest-normals",
             "ecod-normals", "autoencoder-normals", "deepsvdd-normals", "oracle-supervised"}


def test_benchmark_covers_every_bundled_dataset_grid_and_detector():
    cfg = load_config(CONFIGS / "benchmark.yaml")
    assert {d.dataset for d in cfg.datasets} == set(available_datasets())
    assert len(cfg.seeds) >= 5
    assert {d.name for d in cfg.detectors} == DETECTORS
    for d in cfg.datasets:
        if d.dataset == "kddcup99":
            assert d.anomaly_ratios == (PRESETS["kddcup99-low"]["anomaly_ratio"], 0.02)
        else:
            assert d.anomaly_ratios == (0.01, 0.05)
        assert d.labelled_fractions == (0.05, 0.2)
    # a reduced budget shows in the label that every table prints
    for d in cfg.detectors:
        if d.params:
            assert d.label != d.name


@pytest.mark.parametrize("label", ["adbench:glass", "adbench:WPBC"])
def test_cells_a_small_dataset_cannot_fill_are_infeasible(label):
    cfg = load_config(CONFIGS / "benchmark.yaml")
    entry = next(d for d in cfg.datasets if d.label == label)
    outcomes = []
    for ratio in entry.anomaly_ratios:
        try:
            make_pu_split(entry.dataset, ratio, 0.2, seed=0, **entry.split)
            outcomes.append("ok")
        except SplitInfeasible:
            outcomes.append("skip")
    assert "skip" in outcomes and "ok" in outcomes


@pytest.mark.parametrize("name", ["benchmark.yaml", "paper.yaml", "unknown_types.yaml",
                                  "imbalance.yaml"])
def test_every_detector_of_a_sweep_has_a_line_of_its_own(name):
    """Curves drawn without markers (ROC, PR) tell detectors apart by colour and dash alone: no
    two entries of a shipped sweep may share both."""
    from benchmarks.figures import line_style

    labels = [d.label for d in load_config(CONFIGS / name).detectors]
    styles = [(line_style(label, 0)["color"], line_style(label, 0)["linestyle"])
              for label in labels]
    assert len(set(styles)) == len(labels), dict(zip(labels, styles, strict=True))
