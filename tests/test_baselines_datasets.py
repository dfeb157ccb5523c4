"""Every registered detector runs on a small split of every bundled dataset.

Small on purpose (300 normals before the split, test params): this catches shape, dtype and
feature-count problems per dataset (2 features for moons up to 36 for satellite), not quality.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from baselines_helpers import build, fit

from benchmarks.registry import get_spec, registry
from benchmarks.splits import make_pu_split

DATASETS = ["moons", "kddcup99", "adbench:http", "adbench:smtp", "adbench:shuttle",
            "adbench:pendigits", "adbench:satellite", "adbench:satimage-2", "adbench:thyroid",
            "adbench:cardio"]


@functools.cache
def small_split(dataset: str):
    return make_pu_split(dataset, anomaly_ratio=0.05, labelled_fraction=0.3, seed=0,
                         n_normal=300)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("name", sorted(registry()))
def test_runs_on_every_dataset(name, dataset):
    spec = get_spec(name)
    split = small_split(dataset)
    assert spec.max_train_rows is None or len(split.X_train) <= spec.max_train_rows
    det = build(name, random_state=1)
    fit(det, name, split.X_train, split.y_train, split.known_normal)
    scores = det.decision_function(split.X_test)
    assert scores.shape == (len(split.X_test),)
    assert np.isfinite(scores).all() and np.isfinite(det.threshold_)
    assert det.decision_scores_.shape == (len(split.X_train),)
    assert set(np.unique(det.predict(split.X_test))) <= {0, 1}
