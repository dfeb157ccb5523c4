"""``check_detector``: the detector contract, as one call a detector's author can run.

The harness trusts a detector to follow the contract of :mod:`pugan.base`; a detector that
breaks it gives numbers that look fine and mean nothing (labels that disagree with the
threshold, scores that change between calls, a seed that does not fix the result). This runs
the same clauses the suite checks for every built-in detector, on a small synthetic case::

    from benchmarks.contract import check_detector
    check_detector(MyDetector(random_state=0))                 # raises ContractError if broken
    check_detector(MyOracle(random_state=0), supervision="oracle")
"""

from __future__ import annotations

import copy

import numpy as np

__all__ = ["ContractError", "check_detector", "easy_case", "fitted_state"]


class ContractError(AssertionError):
    """A detector that breaks the contract; the message lists every clause it broke."""


def easy_case(seed: int = 0, d: int = 4, n_train: int = 600, n_test: int = 300,
              n_anom: int = 30):
    """Gaussian normals and anomalies on a shell of radius 5 to 8 (any detector sees them).

    Returns ``X_train, y_train, known_normal, X_test, y_test``; 40% of the training normals
    are known.
    """
    rng = np.random.default_rng(seed)

    def draw(n, a):
        dirs = rng.normal(size=(a, d))
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        X = np.vstack([rng.normal(size=(n, d)), dirs * rng.uniform(5, 8, size=(a, 1))])
        y = np.r_[np.zeros(n, int), np.ones(a, int)]
        p = rng.permutation(n + a)
        return X[p], y[p]

    X_train, y_train = draw(n_train, n_anom)
    X_test, y_test = draw(n_test, n_anom)
    known = (y_train == 0) & (rng.random(y_train.size) < 0.4)
    return X_train, y_train, known, X_test, y_test


def fitted_state(obj) -> dict:
    """What ``decision_function`` must not change: each attribute's object and array content."""
    out = {}
    for key, val in vars(obj).items():
        if isinstance(val, np.ndarray):
            out[key] = (id(val), val.shape, val.tobytes())
        else:
            out[key] = (id(val), copy.copy(val) if isinstance(val, int | float | str) else None)
    return out


def check_detector(detector, *, supervision: str = "normals-only", ranks: bool = True,
                   seed: int = 0) -> None:
    """Run the contract on an unfitted ``detector``; raise :class:`ContractError` if broken.

    Clauses: ``clone`` keeps the parameters; ``fit(X, known_normal=...)`` returns the detector
    and sets ``n_features_in_``, ``decision_scores_`` (finite, one per row), a finite
    ``threshold_`` and ``labels_ == decision_scores_ >= threshold_``; ``decision_function``
    gives finite scores, the same ones twice, and writes nothing to the detector;
    ``predict`` labels by ``score >= threshold_``; the same ``random_state`` gives the same
    scores after ``clone``; a wrong number of features is a ValueError naming features; and,
    unless ``ranks=False``, anomalies score higher (AUROC > 0.5) on the easy case.

    Parameters
    ----------
    detector : an unfitted detector (it is fitted here, as is a clone of it).
    supervision : ``"oracle"`` passes the training labels to ``fit``, as the harness does.
    ranks : check the ranking clause.
    seed : seed of the synthetic case.
    """
    from sklearn.base import clone
    from sklearn.metrics import roc_auc_score

    from benchmarks.registry import fit_detector

    X_train, y_train, known, X_test, y_test = easy_case(seed)
    problems: list[str] = []

    def fit(det):
        return fit_detector(det, supervision, X_train, y_train, known)

    try:
        twin = clone(detector)
        if twin.get_params() != detector.get_params():
            problems.append("clone() changes the parameters")
    except Exception as exc:  # not an estimator at all
        raise ContractError(f"clone() fails: {type(exc).__name__}: {exc}") from exc
    try:
        if fit(detector) is not detector:
            problems.append("fit() does not return self")
    except Exception as exc:
        raise ContractError(f"fit() raised {type(exc).__name__}: {exc}") from exc

    n = X_train.shape[0]
    if getattr(detector, "n_features_in_", None) != X_train.shape[1]:
        problems.append("n_features_in_ is not the number of training features")
    train_scores = np.asarray(getattr(detector, "decision_scores_", np.empty(0)))
    if train_scores.shape != (n,) or not np.isfinite(train_scores).all():
        problems.append("decision_scores_ is not one finite score per training row")
    threshold = getattr(detector, "threshold_", None)
    if threshold is None or not np.isfinite(threshold):
        problems.append(f"threshold_ is not a finite number ({threshold!r})")
        raise ContractError("; ".join(problems))
    labels = np.asarray(getattr(detector, "labels_", np.empty(0)))
    if train_scores.shape == (n,) and not np.array_equal(labels, train_scores >= threshold):
        problems.append("labels_ differ from decision_scores_ >= threshold_")

    before = fitted_state(detector)
    scores = np.asarray(detector.decision_function(X_test), dtype=np.float64)
    if fitted_state(detector) != before:
        problems.append("decision_function writes to the detector")
    if scores.shape != (X_test.shape[0],) or not np.isfinite(scores).all():
        problems.append("decision_function does not give one finite score per row")
    elif not np.array_equal(np.asarray(detector.decision_function(X_test)), scores):
        problems.append("decision_function gives other scores the second time")
    predicted = np.asarray(detector.predict(X_test))
    if scores.shape == predicted.shape and not np.array_equal(
            predicted, (scores >= threshold).astype(int)):
        problems.append("predict differs from decision_function >= threshold_")

    try:
        fit(twin)
        same = np.allclose(twin.decision_function(X_test), scores, rtol=1e-6, atol=1e-9)
    except Exception as exc:
        problems.append(f"a clone fails to fit: {type(exc).__name__}: {exc}")
    else:
        if not same:
            problems.append("the same random_state gives other scores (after clone)")

    try:
        detector.decision_function(X_test[:, :-1])
        problems.append("a wrong number of features is accepted")
    except ValueError as exc:
        if "feature" not in str(exc):
            problems.append(f"a wrong number of features raises a ValueError that does not "
                            f"say so ({exc})")
    except Exception as exc:
        problems.append(f"a wrong number of features raises {type(exc).__name__}, not "
                        "ValueError")

    if ranks and scores.shape == y_test.shape and np.isfinite(scores).all():
        auroc = roc_auc_score(y_test, scores)
        if auroc <= 0.5:
            problems.append(f"higher scores should mean more anomalous: AUROC {auroc:.3f} on "
                            "the easy case")
    if problems:
        raise ContractError(f"{type(detector).__name__} breaks the detector contract: "
                            + "; ".join(problems))
