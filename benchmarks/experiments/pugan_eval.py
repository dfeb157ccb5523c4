"""Measure PU-GAN on a paper preset: every inversion x score variant from one fit per seed.

Usage::

    python benchmarks/experiments/pugan_eval.py moons-paper 0,1,2 "{'n_epochs': 8}"

Prints one line per (seed, inversion, score): score seconds, AUROC, AUPRC, F1 at the
detector's own threshold (quantile of the known normals' scores) and the oracle best F1, and
the same for stage 1 alone. The variants are scored by the ablation's code
(:mod:`benchmarks.experiments.pugan_ablation`), so both scripts measure the same thing.
"""

from __future__ import annotations

import ast
import sys
import time

from benchmarks.experiments.pugan_ablation import stage1_row, variant_rows
from benchmarks.splits import preset_split
from pugan.detector import PUGAN


def _line(seed: int, r: dict, n_test: int) -> str:
    speed = f"({n_test / r['score_seconds']:7.0f} rec/s)" if r["score_seconds"] else ""
    return (f"  seed {seed} {r['inversion']:8s} {r['score']:14s} score "
            f"{r['score_seconds']:6.1f}s {speed} auroc {r['auroc']:.4f} auprc {r['auprc']:.4f} "
            f"f1_own {r['f1']:.4f} f1_best {r['best_f1']:.4f}")


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
        rows = variant_rows(det, s, {})
        if det.train_on == "pu":
            rows.append(stage1_row(det, s, {}))
        for r in rows:
            print(_line(seed, r, len(s.X_test)), flush=True)


if __name__ == "__main__":
    main()
