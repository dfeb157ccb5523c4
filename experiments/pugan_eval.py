"""Measure PU-GAN on a paper preset: every inversion x score variant from one fit per seed.

Usage::

    python experiments/pugan_eval.py moons-paper --seeds 1000-1002 \
        --params "{'n_epochs': 8}"

Prints one line per (seed, inversion, score): score seconds, AUROC, AUPRC, F1 at the
detector's own threshold (quantile of the known normals' scores) and the oracle best F1, and
the same for stage 1 alone. The variants are scored by the ablation's code
(:mod:`benchmarks.ablation`), so both scripts measure the same thing.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.ablation import stage1_row, variant_rows
from benchmarks.seeds import add_seed_arguments, dict_literal, seeds_from_args
from benchmarks.splits import preset_split
from pugan.detector import PUGAN


def _line(seed: int, r: dict, n_test: int) -> str:
    speed = f"({n_test / r['score_seconds']:7.0f} rec/s)" if r["score_seconds"] else ""
    return (f"  seed {seed} {r['inversion']:8s} {r['score']:14s} score "
            f"{r['score_seconds']:6.1f}s {speed} auroc {r['auroc']:.4f} auprc {r['auprc']:.4f} "
            f"f1_own {r['f1']:.4f} best_f1_oracle {r['best_f1']:.4f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("preset", help="a paper preset, e.g. moons-paper or kddcup99-low")
    ap.add_argument("--params", type=dict_literal, default={},
                    help="PUGAN parameters as a Python dict literal")
    add_seed_arguments(ap)
    args = ap.parse_args(argv)
    name, params = args.preset, args.params
    for seed in seeds_from_args(args, ap):
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
