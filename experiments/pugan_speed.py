"""Scoring speed of PU-GAN on 494,021 six-attribute KDD records (the paper's test size).

Usage::

    python experiments/pugan_speed.py --n-jobs 2 --n-epochs 2

Fits on a kddcup99-low development split with the distilled scorer (so that one fit serves all three
inversions), then scores the preset's test records tiled to 494,021 rows with each inversion and
prints seconds, records per second and the ratio to IForest's scoring time on the same records
(measured in the same run, IForest on its default single thread against PU-GAN's ``--n-jobs``). Then, on the untiled test records, each inversion's AUROC and AUPRC
and the distilled scorer's Spearman correlation with the encoder path it was trained to mimic.
Network sizes are the defaults (hidden 100, generator depth 3), so the cost per record is the
real one; a short fit is enough for the timings, because scoring cost does not depend on how well
the GAN trained (except through how many records the gradient search refines).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, roc_auc_score

from benchmarks.registry import make_detector
from benchmarks.seeds import add_seed_arguments, seeds_from_args
from benchmarks.splits import preset_split
from pugan.detector import PUGAN

N = 494_021


def _one_seed(seeds, ap) -> int:
    """The single seed this script measures; a list of several is refused, not cut to one."""
    if len(seeds) != 1:
        ap.error(f"--seeds: this script measures one seed; got {len(seeds)}")
    return seeds[0]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-jobs", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--n-epochs", type=int, default=2, help="GAN epochs (default 2)")
    add_seed_arguments(ap, default=1)
    args = ap.parse_args(argv)
    seed = _one_seed(seeds_from_args(args, ap), ap)
    n_jobs, n_epochs = args.n_jobs, args.n_epochs
    s = preset_split("kddcup99-low", seed)
    det = PUGAN(random_state=seed, n_epochs=n_epochs, n_jobs=n_jobs, inversion="distilled")
    t = time.time()
    det.fit(s.X_train, known_normal=s.known_normal)
    print(f"fit {time.time() - t:.1f}s on {len(s.X_train)} rows ({n_epochs} epochs, "
          f"n_jobs={n_jobs}); student fidelity (held-out Spearman) "
          f"{det.student_fidelity_:.4f}", flush=True)
    X = np.resize(s.X_test, (N, s.X_test.shape[1]))
    # the yardstick, on the same records in the same run: IForest (PyOD, registry defaults,
    # one thread: the ratios below set PU-GAN's n_jobs threads against it)
    yard = make_detector("iforest", random_state=0).fit(s.X_train, known_normal=s.known_normal)
    t = time.time()
    yard.decision_function(X)
    base = time.time() - t
    print(f"iforest (1 thread): {N} records in {base:.1f}s = {N / base:.0f} records/s",
          flush=True)
    inversions = ("distilled", "encoder", "gradient")
    for inv in inversions:
        det.set_params(inversion=inv)
        t = time.time()
        sc = det.decision_function(X)
        dt = time.time() - t
        print(f"{inv}: {N} records in {dt:.1f}s = {N / dt:.0f} records/s, "
              f"{dt / base:.1f}x IForest's time (finite {np.isfinite(sc).all()})", flush=True)
    test = {}
    for inv in inversions:
        test[inv] = det.set_params(inversion=inv).decision_function(s.X_test)
        print(f"{inv} on the {len(s.X_test)} test records: AUROC "
              f"{roc_auc_score(s.y_test, test[inv]):.4f}, AUPRC "
              f"{average_precision_score(s.y_test, test[inv]):.4f}")
    print(f"distilled vs encoder, Spearman on the test records: "
          f"{spearmanr(test['distilled'], test['encoder'])[0]:.4f}")


if __name__ == "__main__":
    main()
