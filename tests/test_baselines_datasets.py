"""Every registered detector runs on a small split of the bundled data's hardest shapes.

Small on purpose (300 normals before the split, test params): this catches shape, dtype and
feature-count problems, not quality. One dataset per failure mode seen so far, instead of every
bundled dataset (the others repeat these shapes):

- ``moons``: the fewest features (2): latent or hidden sizes derived from the feature count
  collapse to 1 or 0;
- ``adbench:satellite``: the most features (36) of the bundled UCI-size sets;
- ``adbench:cardio``: binary and near-constant columns (ties, zero-width bins, catastrophic
  cancellation in COPOD/ECOD's skewness).

Every split has fewer known normals than the deep detectors' test batch size, which crashed
the normals-only PyOD models before their batch size was capped at the fitted rows.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from baselines_helpers import build, fit

from benchmarks.registry import get_spec, registry
from benchmarks.splits import make_pu_split

DATASETS = ["moons", "adbench:satellite", "adbench:cardio"]


@functools.cache
def small_split(dataset: str):
    return make_pu_split(dataset, anomaly_ratio=0.05, labelled_fraction=0.3, seed=0,
                         n_normal=300)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_splits_hold_the_shapes_they_stand_for():
    widths = {d: small_split(d).X_train.shape[1] for d in DATASETS}
    assert widths == {"moons": 2, "adbench:satellite": 36, "adbench:cardio": 21}
    cardio = small_split("adbench:cardio").X_train
    assert min(len(np.unique(col)) for col in cardio.T) <= 2  # a binary column
    batch = min(s.test_params["batch_size"] for s in registry().values()
                if "batch_size" in s.test_params)
    assert all(small_split(d).known_normal.sum() < batch for d in DATASETS)


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("name", sorted(registry()))
def test_runs_on_every_shape(name, dataset):
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
