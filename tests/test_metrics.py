"""Metrics on hand-computed cases: the anomaly (label 1) is the positive class."""

import numpy as np
import pytest

from benchmarks.metrics import METRIC_COLUMNS, anomaly_metrics, best_f1, threshold_metrics

Y = [0, 0, 1, 1]
S = [0.1, 0.4, 0.35, 0.8]
L = [0, 1, 0, 1]


def test_hand_computed_case():
    m = anomaly_metrics(Y, S, L)
    assert set(m) == set(METRIC_COLUMNS)
    # tp=1 (0.8), fp=1 (0.4), fn=1 (0.35)
    assert m["precision"] == pytest.approx(0.5)
    assert m["recall"] == pytest.approx(0.5)
    assert m["f1"] == pytest.approx(0.5)
    # anomaly-normal pairs ranked right: (0.35>0.1), (0.8>0.1), (0.8>0.4); wrong: (0.35<0.4)
    assert m["auroc"] == pytest.approx(3 / 4)
    # ranks: 0.8 (anomaly) p=1 at r=.5; 0.35 (anomaly) p=2/3 at r=1 -> AP = .5*1 + .5*2/3
    assert m["auprc"] == pytest.approx(0.5 + 1 / 3)
    # best threshold 0.35: p=2/3, r=1 -> F1 0.8 (better than 0.8 alone: 2/3)
    assert m["best_f1"] == pytest.approx(0.8)


def test_anomaly_is_positive_class_not_normal():
    # all predicted anomalous: precision = share of anomalies (1/4), recall 1
    m = threshold_metrics([0, 0, 0, 1], [1, 1, 1, 1])
    assert m["precision"] == pytest.approx(0.25)
    assert m["recall"] == pytest.approx(1.0)
    assert m["f1"] == pytest.approx(0.4)


def test_nothing_flagged_gives_zeros_not_nan():
    m = threshold_metrics([0, 1, 1], [0, 0, 0])
    assert m == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_perfect_ranking():
    y = np.array([0] * 10 + [1] * 3)
    s = np.arange(13, dtype=float)
    m = anomaly_metrics(y, s, (s >= 10).astype(int))
    assert m["auroc"] == 1.0 and m["auprc"] == 1.0 and m["best_f1"] == 1.0 and m["f1"] == 1.0


def test_best_f1_with_ties():
    # tied scores cannot be separated: best F1 at the tied threshold includes the normal
    assert best_f1([0, 1, 1], [0.5, 0.5, 0.5]) == pytest.approx(0.8)


@pytest.mark.parametrize("y", [[0, 0, 0], [1, 1, 1]])
def test_one_class_test_set_is_a_clear_error(y):
    with pytest.raises(ValueError, match="test set has (no anomalies|only anomalies)"):
        anomaly_metrics(y, [0.1, 0.2, 0.3], [0, 0, 1])


def test_bad_inputs():
    with pytest.raises(ValueError, match="scores has 2 entries but y_true has 4"):
        anomaly_metrics(Y, [0.1, 0.2], L)
    with pytest.raises(ValueError, match="scores contains 1 NaN"):
        anomaly_metrics(Y, [0.1, np.nan, 0.3, 0.4], L)
    with pytest.raises(ValueError, match="y_true must hold 0"):
        anomaly_metrics([0, 2, 1, 1], S, L)
    with pytest.raises(ValueError, match="labels must hold 0"):
        anomaly_metrics(Y, S, [0, 0.5, 1, 1])
    with pytest.raises(ValueError, match="empty"):
        anomaly_metrics([], [], [])
