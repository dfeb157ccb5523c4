"""Measure PU-GAN on a paper preset: every inversion x score variant from one fit per seed.

Usage::

    python benchmarks/experiments/pugan_eval.py moons-paper 0,1,2 "{'n_epochs': 8}"

Prints one line per (seed, inversion, score): fit and score seconds, AUROC, AUPRC, F1 at the
detector's own threshold (quantile of the known normals' scores) and the oracle best F1.
"""

from __future__ import annotations

import ast
import sys
import time

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, precision_recall_curve, roc_auc_score

from benchmarks.splits import preset_split
from pugan.base import labels_at_threshold, quantile_threshold
from pugan.detector import PUGAN


def best_f1(y, s):
    p, r, _ = precision_recall_curve(y, s)
    f = 2 * p * r / np.maximum(p + r, 1e-12)
    return float(f.max())


def main():
    name = sys.argv[1]
    seeds = [int(s) for s in sys.argv[2].split(",")]
    params = ast.literal_eval(sys.argv[3]) if len(sys.argv) > 3 else {}
    for seed in seeds:
        s = preset_split(name, seed)
        det = PUGAN(random_state=seed, **params)
        t = time.time()
        det.fit(s.X_train, known_normal=s.known_normal)
        fit_s = time.time() - t
        print(f"# {name} seed {seed} {params} fit {fit_s:.1f}s gan_rows {det.n_gan_rows_} "
              f"reliable {det.n_reliable_}", flush=True)
        if det.train_on == "pu":
            pu = 1 - det.pu_classifier_.predict_proba(s.X_test)[:, 1]
            print(f"  stage1-only auroc {roc_auc_score(s.y_test, pu):.4f} "
                  f"auprc {average_precision_score(s.y_test, pu):.4f}", flush=True)
        Xp = det._scale(s.X_train[s.known_normal])
        Xt = det._scale(s.X_test)
        for inv in ("encoder", "gradient"):
            t = time.time()
            rt, dt_ = det._raw_record_scores(Xt, inversion=inv)
            score_s = time.time() - t
            rp, dp = det._raw_record_scores(Xp, inversion=inv)
            for sc in ("combined", "reconstruction", "discrimination"):
                det.set_params(score=sc)
                st, sp = det._combine(rt, dt_), det._combine(rp, dp)
                thr = quantile_threshold(sp, det.threshold_quantile)
                f1 = f1_score(s.y_test, labels_at_threshold(st, thr))
                print(f"  seed {seed} {inv:8s} {sc:14s} score {score_s:6.1f}s "
                      f"({len(Xt) / score_s:7.0f} rec/s) auroc {roc_auc_score(s.y_test, st):.4f} "
                      f"auprc {average_precision_score(s.y_test, st):.4f} f1_own {f1:.4f} "
                      f"f1_best {best_f1(s.y_test, st):.4f}", flush=True)


if __name__ == "__main__":
    main()
