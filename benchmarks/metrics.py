"""Per-cell metrics: the anomaly is the positive class in every one of them.

``precision``, ``recall`` and ``f1`` are measured at the detector's own threshold (its
``predict``, chosen without test labels). ``best_f1`` is the ORACLE best F1 over every threshold
on the precision-recall curve, the way the paper chose its numbers; it uses the test labels to
pick the threshold, so tables name it ``best_f1_oracle``. ``auroc`` is the area under the ROC
curve; ``auprc`` is the average precision (the step-wise area under the precision-recall curve).

When anomaly types were held out of training, :func:`heldout_metrics` splits the test anomalies
into the held-out types (unknown to the detector) and the seen ones, and measures each group
against all test normals: recall at the detector's own threshold and AUPRC.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

__all__ = ["HELDOUT_COLUMNS", "METRIC_COLUMNS", "anomaly_metrics", "best_f1", "heldout_metrics",
           "threshold_metrics"]

#: the metric columns of a results row, in order
METRIC_COLUMNS = ("precision", "recall", "f1", "best_f1", "auroc", "auprc")
#: the columns of :func:`heldout_metrics` (empty in a row without held-out types)
HELDOUT_COLUMNS = ("n_test_heldout", "recall_heldout", "auprc_heldout", "n_test_seen",
                   "recall_seen", "auprc_seen")


def _check_inputs(y_true, scores=None, labels=None):
    y = np.asarray(y_true)
    if y.ndim != 1:
        raise ValueError(f"y_true must be 1-D; got shape {y.shape}")
    if y.size == 0:
        raise ValueError("y_true is empty: cannot score 0 test records")
    if not np.isin(y, [0, 1]).all():
        raise ValueError("y_true must hold 0 (normal) and 1 (anomaly) only")
    y = y.astype(int)
    out = [y]
    for name, arr in (("scores", scores), ("labels", labels)):
        if arr is None:
            out.append(None)
            continue
        a = np.asarray(arr, dtype=np.float64).ravel()
        if a.shape[0] != y.shape[0]:
            raise ValueError(f"{name} has {a.shape[0]} entries but y_true has {y.shape[0]}")
        if not np.isfinite(a).all():
            raise ValueError(
                f"{name} contains {int((~np.isfinite(a)).sum())} NaN or infinite values; "
                "the detector produced non-finite output"
            )
        if name == "labels" and not np.isin(a, [0, 1]).all():
            raise ValueError("labels must hold 0 (normal) and 1 (anomaly) only")
        out.append(a)
    return out


def _require_both_classes(y: np.ndarray) -> None:
    n_anom = int(y.sum())
    if n_anom == 0 or n_anom == y.size:
        which = "no anomalies" if n_anom == 0 else "only anomalies"
        raise ValueError(
            f"the test set has {which} ({y.size} records, {n_anom} anomalous): AUROC, AUPRC and "
            "best F1 need both normal and anomalous test records; raise the anomaly ratio or "
            "the test size"
        )


def threshold_metrics(y_true, labels) -> dict[str, float]:
    """Precision, recall and F1 of the anomaly class (label 1) for 0/1 predictions.

    A ratio with a zero denominator (nothing flagged, or no anomaly present) is 0.0.
    """
    y, _, pred = _check_inputs(y_true, labels=labels)
    pred = pred.astype(int)
    tp = int(((pred == 1) & (y == 1)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def best_f1(y_true, scores) -> float:
    """ORACLE: the highest anomaly F1 over all thresholds ``score >= t`` (uses test labels)."""
    y, s, _ = _check_inputs(y_true, scores=scores)
    _require_both_classes(y)
    precision, recall, _ = precision_recall_curve(y, s, pos_label=1)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
    return float(f1.max())


def anomaly_metrics(y_true, scores, labels) -> dict[str, float]:
    """All metrics of one cell.

    Parameters
    ----------
    y_true : array of shape (n,), 1 = anomaly, 0 = normal (the test labels).
    scores : array of shape (n,), the detector's ``decision_function`` (higher = more anomalous).
    labels : array of shape (n,), the detector's ``predict`` (1 = anomaly).

    Returns
    -------
    dict with keys :data:`METRIC_COLUMNS` (floats).

    Raises
    ------
    ValueError
        On a one-class test set, mismatched lengths, non-finite scores or non-0/1 labels.
    """
    y, s, _ = _check_inputs(y_true, scores=scores, labels=labels)
    _require_both_classes(y)
    out = threshold_metrics(y, labels)
    out["best_f1"] = best_f1(y, s)
    out["auroc"] = float(roc_auc_score(y, s))
    out["auprc"] = float(average_precision_score(y, s, pos_label=1))
    return out


def heldout_metrics(y_true, scores, labels, test_types, heldout_types) -> dict[str, float]:
    """Recall and AUPRC on the held-out anomaly types and on the seen ones, each vs all normals.

    Parameters
    ----------
    y_true, scores, labels : as in :func:`anomaly_metrics`.
    test_types : array of shape (n,), each test record's anomaly type (any value for normals).
    heldout_types : the anomaly types kept out of training (a family expanded to its types).

    Returns
    -------
    dict with keys :data:`HELDOUT_COLUMNS`: for ``heldout`` (anomalies of a held-out type plus
    every normal) and ``seen`` (the other anomalies plus every normal), the number of anomalies
    (``n_test_*``), the recall at the detector's own threshold and the AUPRC, whose chance level
    is ``n_test_* / (n_test_* + normals)``. A group without test anomalies gets NaN.
    """
    y, s, pred = _check_inputs(y_true, scores=scores, labels=labels)
    types = np.asarray(test_types, dtype=object).ravel()
    if types.shape[0] != y.shape[0]:
        raise ValueError(f"test_types has {types.shape[0]} entries but y_true has {y.shape[0]}")
    if isinstance(heldout_types, str):  # one type named alone, as a split takes it
        heldout_types = [heldout_types]
    held = np.isin(types, list(heldout_types)) & (y == 1)
    normal = y == 0
    out: dict[str, float] = {}
    for name, group in (("heldout", held), ("seen", (y == 1) & ~held)):
        n = int(group.sum())
        out[f"n_test_{name}"] = n
        if n == 0 or not normal.any():
            out[f"recall_{name}"] = out[f"auprc_{name}"] = float("nan")
            continue
        keep = group | normal
        out[f"recall_{name}"] = float(pred[group].mean())
        out[f"auprc_{name}"] = float(average_precision_score(y[keep], s[keep], pos_label=1))
    return out
