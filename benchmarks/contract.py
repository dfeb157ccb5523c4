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


#: how deep :func:`fitted_state` follows containers and attributes before it pickles instead
_MAX_DEPTH = 12


def fitted_state(obj) -> dict:
    """What ``decision_function`` must not change: each attribute's object and contents.

    Contents, not only identity: a ``decision_function`` that counts calls in a dict or
    appends to a list attribute keeps every object where it was and still writes to the
    detector. Numbers, strings, arrays, containers and plain objects are followed down to
    their values (a wrapped estimator down to its parameters and fitted attributes, see
    :func:`_estimator_state`); anything else is compared by its pickled bytes (by identity
    only when it cannot be pickled).
    """
    return {key: (id(val), _snapshot(val, 0, frozenset())) for key, val in vars(obj).items()}


def _snapshot(val, depth: int, seen: frozenset):
    """A comparable picture of ``val``'s contents (see :func:`fitted_state`)."""
    if val is None or isinstance(val, bool | int | float | complex | str | bytes | np.generic):
        return (type(val).__name__, repr(val))   # repr: a NaN equals itself
    if isinstance(val, np.ndarray):
        if val.dtype == object:
            return ("object array", val.shape, _snapshot(val.tolist(), depth + 1, seen))
        return ("array", val.dtype.str, val.shape, val.tobytes())
    if depth > _MAX_DEPTH:
        return _pickled(val)
    if id(val) in seen:   # a cycle: its contents are pictured where it was first met
        return ("cycle", type(val).__name__)
    seen = seen | {id(val)}
    if isinstance(val, list | tuple):
        return (type(val).__name__, tuple(_snapshot(v, depth + 1, seen) for v in val))
    if isinstance(val, dict):
        return (type(val).__name__, tuple((repr(k), _snapshot(v, depth + 1, seen))
                                          for k, v in val.items()))
    if isinstance(val, set | frozenset):
        return (type(val).__name__, tuple(sorted(repr(v) for v in val)))
    as_array = _tensor_array(val)
    if as_array is not None:
        return ("tensor", _snapshot(as_array, depth + 1, seen))
    if isinstance(val, type):
        return ("class", val.__module__, val.__qualname__)
    if _by_reference(val):
        return ("reference", type(val).__name__, id(val))
    if type(val).__module__.split(".")[0] == "pandas":
        return _pickled(val)  # its values; not the lookup caches that reading it fills
    if hasattr(val, "get_params") and hasattr(val, "__dict__"):
        return (type(val).__name__, _snapshot(_estimator_state(val), depth + 1, seen))
    if hasattr(val, "__dict__"):
        return (type(val).__name__, _snapshot(vars(val), depth + 1, seen))
    return _pickled(val)


def _by_reference(val) -> bool:
    """Modules, loggers and callables: shared tools, not the detector's state, whose insides
    change when they are used (a logger's level cache, a module's globals), so only which
    one is held is compared."""
    import logging
    import types

    return isinstance(val, types.ModuleType | logging.Logger | types.FunctionType
                      | types.MethodType | types.BuiltinFunctionType)


def _parameters(est):
    """A comparable picture of an estimator's own parameters (:func:`_snapshot`)."""
    return _snapshot(est.get_params(deep=False), 0, frozenset())


def _estimator_state(est) -> dict:
    """What counts as a wrapped estimator's state: its parameters and, by scikit-learn's
    convention, its fitted (``name_``) and private (``_name``) attributes. Its other public
    attributes are left out: PyOD's COPOD and ECOD keep the last scored batch's tail
    probabilities there (``U_l``, ``U_r``, ``U_skew``, ``O``) on every ``decision_function``,
    scratch that no later score reads, and the detector wrapping them cannot change that."""
    try:
        params = set(est.get_params(deep=False))
    except Exception:  # a get_params that is not scikit-learn's: no parameter is known
        params = set()
    return {k: v for k, v in vars(est).items()
            if k in params or k.endswith("_") or k.startswith("_")}


def _tensor_array(val):
    """A torch tensor's values as a NumPy array (None for anything else), read without
    importing torch, so a detector that has no tensors never loads it."""
    if type(val).__module__.split(".")[0] != "torch" or not hasattr(val, "detach"):
        return None
    try:
        return val.detach().cpu().numpy()
    except Exception:  # not a tensor after all, or one NumPy cannot hold
        return None


def _pickled(val):
    """``val`` by its pickled bytes; by identity when it cannot be pickled (a lock, a
    function defined inside another)."""
    import pickle

    try:
        return ("pickled", type(val).__name__, pickle.dumps(val, protocol=4))
    except Exception:
        return ("unpicklable", type(val).__name__, id(val))


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
    except Exception as exc:  # not an estimator at all
        raise ContractError(f"clone() fails: {type(exc).__name__}: {exc}") from exc
    # compared by contents: ``!=`` on the dicts fails on an array parameter, and clone gives
    # a nested estimator as a new object with the same parameters
    if _parameters(twin) != _parameters(detector):
        problems.append("clone() changes the parameters")
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
    if predicted.shape != (X_test.shape[0],):
        problems.append(f"predict does not give one label per row (shape {predicted.shape} "
                        f"for {X_test.shape[0]} rows)")
    elif scores.shape == predicted.shape and not np.array_equal(
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
