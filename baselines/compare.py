"""How closely the scalable OCSVM ranks records like the exact one.

The scalable OCSVM (Nystroem + SGD) stands in for the exact OCSVM where the exact one cannot
run (the full KDD set). That substitution is only honest if the two rank records alike where
both run, so this measures it: the Spearman rank correlation of their test scores.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.stats import spearmanr

from baselines.ocsvm import OCSVMDetector, SGDOCSVMDetector

__all__ = ["exact_vs_scalable"]


def exact_vs_scalable(X_train, X_test, *, known_normal=None, fit_on="all", random_state=0,
                      exact_params=None, scalable_params=None) -> dict:
    """Fit exact and scalable OCSVM on the same rows; return their test-score agreement.

    Parameters
    ----------
    X_train, X_test : arrays of shape (n, n_features)
    known_normal : bool mask over X_train, or None
        True for records labelled normal (the P set); everything else is unlabelled.
    fit_on : {"all", "normals"}
    random_state : int
        Same seed for both, so both hold out the same calibration normals.
    exact_params, scalable_params : dict or None
        Extra parameters for :class:`OCSVMDetector` / :class:`SGDOCSVMDetector`.

    Returns
    -------
    dict with ``spearman`` (rank correlation of test scores), ``exact_fit_seconds``,
    ``scalable_fit_seconds``, ``n_train``, ``n_test``, ``fit_on``, and the two detectors under
    ``exact`` and ``scalable``.
    """
    out = {"fit_on": fit_on, "n_train": int(np.shape(X_train)[0]),
           "n_test": int(np.shape(X_test)[0])}
    for key, cls, params in (("exact", OCSVMDetector, exact_params),
                             ("scalable", SGDOCSVMDetector, scalable_params)):
        det = cls(fit_on=fit_on, random_state=random_state, **(params or {}))
        t0 = time.perf_counter()
        det.fit(X_train, known_normal=known_normal)
        out[f"{key}_fit_seconds"] = time.perf_counter() - t0
        out[f"{key}_scores"] = det.decision_function(X_test)
        out[key] = det
    out["spearman"] = float(spearmanr(out["exact_scores"], out["scalable_scores"]).statistic)
    return out
