"""Which sign of PyOD's GAAL score ranks isolated anomalies: the discriminator's D(x) or 1 - D(x).

Usage::

    python experiments/gaal_sign.py [--models so-gaal mo-gaal] [--seeds 1000-1004]
        [--epochs 20] [--dims 2] [--allow-report-seeds]

``--epochs`` is PyOD's ``stop_epochs``: the epochs before the generator stops, of three times
as many the model trains in all.

PyOD's SO_GAAL and MO_GAAL return D(x), the discriminator's probability that x is real, as the
anomaly score; the GAAL paper scores 1 - D(x). Which of the two ranks anomalies is a property of
what the discriminator learns off the data, so it is measured here on data whose anomalies are
unambiguous: normals from a standard Gaussian, anomalies on a shell of radius 4 to 5 around it,
none of which the detector sees while fitting (it fits on the normals alone, as the
``-normals`` entries do). For each model, seed and sign (``gaal_score="pyod"``, D(x), and
``gaal_score="paper"``), the test AUROC of the adapter's scores; one row each, then the mean
per model and sign over the seeds. The two signs are two fits with the same seed, which the
adapter makes identical, so each seed's pair of AUROCs sums to one (ties aside): a pair that
does not is a fit that the seed did not fix. Development seeds only (a report seed is refused unless
``--allow-report-seeds``).
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.metrics import roc_auc_score

from benchmarks.registry import make_detector
from benchmarks.seeds import add_seed_arguments, seeds_from_args

#: rows of each kind: enough for the discriminator to see the normals' extent
N_NORMAL_TRAIN, N_NORMAL_TEST, N_ANOMALY_TEST = 1000, 500, 50
#: the anomalies' shell, in standard deviations of the normals
SHELL = (4.0, 5.0)


def shell_data(seed: int, dims: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(training normals, test rows, test labels with 1 = anomaly) for one seed."""
    rng = np.random.default_rng(seed)
    train = rng.standard_normal((N_NORMAL_TRAIN, dims))
    normal = rng.standard_normal((N_NORMAL_TEST, dims))
    direction = rng.standard_normal((N_ANOMALY_TEST, dims))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    anomaly = direction * rng.uniform(*SHELL, size=(N_ANOMALY_TEST, 1))
    X_test = np.vstack([normal, anomaly])
    y_test = np.r_[np.zeros(N_NORMAL_TEST, int), np.ones(N_ANOMALY_TEST, int)]
    return train, X_test, y_test


def sign_rows(model: str, seed: int, dims: int, epochs: int) -> list[dict]:
    """Both signs' test AUROC for one fit of ``model`` on one seed's data."""
    train, X_test, y_test = shell_data(seed, dims)
    known = np.ones(len(train), bool)
    rows = []
    for sign in ("pyod", "paper"):
        det = make_detector(model, random_state=seed, stop_epochs=epochs, gaal_score=sign)
        det.fit(train, known_normal=known)
        rows.append({"model": model, "seed": seed, "gaal_score": sign,
                     "auroc": roc_auc_score(y_test, det.decision_function(X_test))})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["so-gaal", "mo-gaal"])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--dims", type=int, default=2)
    add_seed_arguments(ap, default=5)
    args = ap.parse_args(argv)
    if args.epochs < 1 or args.dims < 1:
        ap.error(f"--epochs and --dims must be at least 1; got {args.epochs} and {args.dims}")
    seeds = seeds_from_args(args, ap)
    rows = [row for model in args.models for seed in seeds
            for row in sign_rows(model, seed, args.dims, args.epochs)]
    print("model      seed  gaal_score  AUROC")
    for r in rows:
        print(f"{r['model']:<10} {r['seed']:>4}  {r['gaal_score']:<10}  {r['auroc']:.3f}")
    print("\nmean AUROC over the seeds (min-max):")
    for model in args.models:
        for sign in ("pyod", "paper"):
            values = [r["auroc"] for r in rows if r["model"] == model and r["gaal_score"] == sign]
            print(f"{model:<10} {sign:<6} {np.mean(values):.3f} "
                  f"({min(values):.3f}-{max(values):.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
