"""One-class SVM baselines: the paper's exact RBF OCSVM and a scalable approximation.

Hyper-parameters are fixed *before* seeing any label, by rules stated here, because the test
labels may not choose them and the paper does not give its own:

* ``gamma="scale"``: ``1 / (n_features * X_fit.var())``, scikit-learn's default, which adapts
  the RBF width to the data's spread (the data are already scaled by the split).
* ``nu=0.1``: an upper bound on the share of fitted rows left outside the boundary. It shapes
  the boundary only; the decision threshold comes from held-out known normals (see
  :mod:`baselines._calibrated`), so nu does not decide how many records are flagged.

Exact OCSVM fit time grows about as n^2 (the scale curves in docs/guarding.md), so the
registry gives it ``max_train_rows`` and the harness records bigger cells as
skipped. The scalable variant maps rows to an approximate RBF feature space with a Nystroem
sample of ``n_components`` landmarks and fits a linear one-class SVM by SGD
(:class:`sklearn.linear_model.SGDOneClassSVM`), linear in n; it runs on the full KDD set.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import SGDOneClassSVM
from sklearn.pipeline import make_pipeline
from sklearn.svm import OneClassSVM
from sklearn.utils import check_scalar

from baselines._calibrated import CalibratedOneClassDetector, check_finite_scalar
from pugan.base import draw_seed

__all__ = ["OCSVMDetector", "SGDOCSVMDetector", "resolve_gamma"]


def _check_gamma(gamma) -> None:
    if isinstance(gamma, str):
        if gamma == "scale":
            return
    elif (isinstance(gamma, numbers.Real) and not isinstance(gamma, bool)
          and np.isfinite(gamma) and gamma > 0):
        return
    raise ValueError(f"gamma must be 'scale' or a positive number, got {gamma!r}")


def resolve_gamma(gamma, X: np.ndarray) -> float:
    """The RBF ``gamma`` as a number: ``"scale"`` is ``1 / (n_features * X.var())``.

    A variance that overflows float64 (huge feature values) would make it 0 or NaN, which
    libsvm accepts and then fails on obscurely, so it raises a ValueError instead.
    """
    _check_gamma(gamma)
    if isinstance(gamma, str):
        var = float(X.var())
        resolved = 1.0 / (X.shape[1] * var) if var > 0 else 1.0
        if not (np.isfinite(var) and 0 < resolved < np.inf):
            raise ValueError(
                f"gamma='scale' needs a finite positive variance of the fitted rows, got {var!r} "
                f"(gamma would be {resolved!r}); rescale the features or pass a number")
        return resolved
    return float(gamma)


def _check_nu(nu) -> float:
    return float(check_finite_scalar(nu, "nu", numbers.Real, min_val=0.0, max_val=1.0,
                                     include_boundaries="right"))


class OCSVMDetector(CalibratedOneClassDetector):
    """Exact RBF one-class SVM (scikit-learn's libsvm), the paper's baseline.

    Parameters
    ----------
    fit_on : {"all", "normals"}, default="all"
        "all" is the paper's unsupervised way; "normals" fits on the known normals only.
    nu : float in (0, 1], default=0.1
        Upper bound on the share of fitted rows outside the boundary (module docstring).
    gamma : "scale" or float, default="scale"
        RBF width; "scale" = 1 / (n_features * variance of the fitted rows).
    threshold_quantile, calibration_fraction, contamination : see
        :class:`baselines._calibrated.CalibratedOneClassDetector`.
    cache_size : float, default=500
        libsvm kernel cache in MB; bigger is faster on large inputs.
    random_state : int, RandomState or None
        Chooses the calibration normals (libsvm's one-class solver is deterministic).

    Attributes
    ----------
    model_ : the fitted :class:`sklearn.svm.OneClassSVM`.
    decision_scores_, threshold_, labels_, n_features_in_ : as in PyOD.
    threshold_source_ : "calibration-normals" or "contamination".
    """

    def __init__(self, *, fit_on="all", nu=0.1, gamma="scale", threshold_quantile=0.99,
                 calibration_fraction=0.2, contamination=0.1, cache_size=500,
                 random_state=None):
        self.fit_on = fit_on
        self.nu = nu
        self.gamma = gamma
        self.threshold_quantile = threshold_quantile
        self.calibration_fraction = calibration_fraction
        self.contamination = contamination
        self.cache_size = cache_size
        self.random_state = random_state

    def _validate_model(self):
        _check_nu(self.nu)
        _check_gamma(self.gamma)

    def _fit_model(self, X_fit, random_state):
        nu = _check_nu(self.nu)
        gamma = resolve_gamma(self.gamma, X_fit)
        svm = OneClassSVM(kernel="rbf", nu=nu, gamma=gamma, cache_size=self.cache_size)
        # the one-class solver never uses its seed, but scikit-learn draws one from NumPy's
        # global generator unless random_state is set (OneClassSVM takes none as a parameter)
        svm.random_state = 0
        return svm.fit(X_fit)

    def _score_model(self, model, X):
        # libsvm: positive inside the boundary; negate so higher = more anomalous
        return -model.decision_function(X)


class SGDOCSVMDetector(CalibratedOneClassDetector):
    """Scalable one-class SVM: Nystroem RBF features + :class:`~sklearn.linear_model.SGDOneClassSVM`.

    Linear in the number of rows, so it runs where the exact OCSVM cannot (the full KDD set).
    Its scores rank rows much like the exact OCSVM's (Spearman correlation measured by
    :func:`baselines.compare.exact_vs_scalable`, reported in docs/baselines.md).

    Parameters
    ----------
    fit_on, nu, gamma, threshold_quantile, calibration_fraction, contamination :
        as in :class:`OCSVMDetector`.
    n_components : int, default=300
        Nystroem landmarks (capped at the number of fitted rows): more = closer to the exact
        kernel, slower.
    max_iter : int, default=50
        SGD epochs.
    tol : float, default=1e-4
        SGD stopping tolerance.
    random_state : int, RandomState or None
        Seeds the calibration choice, the Nystroem landmarks and the SGD shuffling.
    """

    def __init__(self, *, fit_on="all", nu=0.1, gamma="scale", n_components=300, max_iter=50,
                 tol=1e-4, threshold_quantile=0.99, calibration_fraction=0.2,
                 contamination=0.1, random_state=None):
        self.fit_on = fit_on
        self.nu = nu
        self.gamma = gamma
        self.n_components = n_components
        self.max_iter = max_iter
        self.tol = tol
        self.threshold_quantile = threshold_quantile
        self.calibration_fraction = calibration_fraction
        self.contamination = contamination
        self.random_state = random_state

    def _validate_model(self):
        _check_nu(self.nu)
        _check_gamma(self.gamma)
        check_scalar(self.n_components, "n_components", numbers.Integral, min_val=1)

    def _fit_model(self, X_fit, random_state):
        nu = _check_nu(self.nu)
        gamma = resolve_gamma(self.gamma, X_fit)
        seed = draw_seed(random_state)
        pipe = make_pipeline(
            Nystroem(kernel="rbf", gamma=gamma, n_components=min(int(self.n_components),
                                                                   X_fit.shape[0]),
                     random_state=seed),
            SGDOneClassSVM(nu=nu, max_iter=self.max_iter, tol=self.tol, random_state=seed),
        )
        # SGDOneClassSVM draws an unused dataset seed from NumPy's global generator whatever
        # its random_state; restoring the generator keeps fitting from moving it
        state = np.random.get_state()
        try:
            return pipe.fit(X_fit)
        finally:
            np.random.set_state(state)

    def _score_model(self, model, X):
        return -model.decision_function(X)
