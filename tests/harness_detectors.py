"""Test-only detectors for the harness tests, registered when a sweep config lists this file
under ``plugins`` (each worker and cell process imports it again, so registration must be a
side effect of import). Not collected by pytest (no ``test_`` prefix)."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
from sklearn.base import BaseEstimator

from benchmarks.registry import register
from pugan.base import AnomalyDetectorMixin, check_features, check_known_normal, quantile_threshold


class CentroidDetector(AnomalyDetectorMixin, BaseEstimator):
    """Distance to the mean of the known normals (or of all rows); threshold at a quantile."""

    def __init__(self, *, quantile=0.95, jitter=0.0, random_state=None):
        self.quantile = quantile
        self.jitter = jitter
        self.random_state = random_state

    def fit(self, X, y=None, *, known_normal=None):
        X = check_features(X)
        mask = check_known_normal(known_normal, len(X))
        ref = X[mask] if mask.any() else X
        rng = np.random.default_rng(self.random_state)
        self.center_ = ref.mean(axis=0) + self.jitter * rng.standard_normal(X.shape[1])
        self.n_features_in_ = X.shape[1]
        self.decision_scores_ = self.decision_function(X)
        self.threshold_ = quantile_threshold(self.decision_function(ref), self.quantile)
        self.labels_ = (self.decision_scores_ >= self.threshold_).astype(int)
        return self

    def decision_function(self, X):
        X = check_features(X, n_features=getattr(self, "n_features_in_", None))
        return np.linalg.norm(X - self.center_, axis=1)


class OracleCentroid(CentroidDetector):
    """Uses y: the distance to the normals' mean, normals taken from y (an oracle)."""

    def fit(self, X, y=None, *, known_normal=None):
        if y is None:
            raise ValueError("OracleCentroid needs y")
        return super().fit(X, known_normal=np.asarray(y) == 0)


class Raiser(CentroidDetector):
    def fit(self, X, y=None, *, known_normal=None):
        raise RuntimeError("deliberate failure in fit")


class Sleeper(CentroidDetector):
    def __init__(self, *, seconds=30.0, quantile=0.95, jitter=0.0, random_state=None):
        super().__init__(quantile=quantile, jitter=jitter, random_state=random_state)
        self.seconds = seconds

    def fit(self, X, y=None, *, known_normal=None):
        time.sleep(self.seconds)
        return super().fit(X, known_normal=known_normal)


class SelfKiller(CentroidDetector):
    def __init__(self, *, how="exit", quantile=0.95, jitter=0.0, random_state=None):
        super().__init__(quantile=quantile, jitter=jitter, random_state=random_state)
        self.how = how

    def fit(self, X, y=None, *, known_normal=None):
        if self.how == "exit":
            os._exit(7)
        os.kill(os.getpid(), signal.SIGKILL)


class ExitOnce(CentroidDetector):
    """Ends its own process in its first fit (``marker`` absent: it writes it), then fits."""

    def __init__(self, *, marker="", quantile=0.95, jitter=0.0, random_state=None):
        super().__init__(quantile=quantile, jitter=jitter, random_state=random_state)
        self.marker = marker

    def fit(self, X, y=None, *, known_normal=None):
        try:
            with open(self.marker, "x"):
                pass
        except FileExistsError:
            return super().fit(X, known_normal=known_normal)
        os._exit(7)


class Printer(CentroidDetector):
    """Prints while fitting (to stdout and stderr, from Python and from a C-level write)."""

    def fit(self, X, y=None, *, known_normal=None):
        print("t-print says hello")
        os.write(2, b"t-print writes to fd 2\n")
        return super().fit(X, known_normal=known_normal)


class NanThreshold(CentroidDetector):
    def fit(self, X, y=None, *, known_normal=None):
        super().fit(X, known_normal=known_normal)
        self.threshold_ = float("nan")
        return self


class Spawner(CentroidDetector):
    """Starts a long-lived grandchild that writes its pid to ``pid_file``, then sleeps."""

    def __init__(self, *, pid_file="", quantile=0.95, jitter=0.0, random_state=None):
        super().__init__(quantile=quantile, jitter=jitter, random_state=random_state)
        self.pid_file = pid_file

    def fit(self, X, y=None, *, known_normal=None):
        import subprocess
        import sys

        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(self.pid_file, "w") as fh:
            fh.write(str(child.pid))
        time.sleep(600)
        return self


register("t-print", supervision="normals-only", description="test: prints while fitting")(
    lambda random_state=None, **p: Printer(random_state=random_state, **p))
register("t-nan-threshold", supervision="normals-only", description="test: NaN threshold_")(
    lambda random_state=None, **p: NanThreshold(random_state=random_state, **p))
register("t-spawn", supervision="unsupervised", description="test: starts a grandchild")(
    lambda random_state=None, **p: Spawner(random_state=random_state, **p))
register("t-centroid", supervision="normals-only", description="test: centroid distance")(
    lambda random_state=None, **p: CentroidDetector(random_state=random_state, **p))
register("t-small-normals", supervision="normals-only", max_train_rows=150,
         description="test: refuses more than 150 known normals")(
    lambda random_state=None, **p: CentroidDetector(random_state=random_state, **p))
register("t-oracle", supervision="oracle", description="test: oracle centroid")(
    lambda random_state=None, **p: OracleCentroid(random_state=random_state, **p))
register("t-small", supervision="unsupervised", max_train_rows=100,
         description="test: refuses more than 100 rows")(
    lambda random_state=None, **p: CentroidDetector(random_state=random_state, **p))
register("t-raise", supervision="unsupervised", description="test: raises in fit")(
    lambda random_state=None, **p: Raiser(random_state=random_state, **p))
register("t-sleep", supervision="unsupervised", description="test: sleeps in fit")(
    lambda random_state=None, **p: Sleeper(random_state=random_state, **p))
register("t-exit-once", supervision="unsupervised",
         description="test: ends its process in its first fit")(
    lambda random_state=None, **p: ExitOnce(random_state=random_state, **p))
register("t-kill", supervision="unsupervised", description="test: kills its own process")(
    lambda random_state=None, **p: SelfKiller(random_state=random_state, **p))
