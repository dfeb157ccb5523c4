"""What PU bagging's per-round cap costs and changes: fit time, test AUPRC and the reliable normals.

Usage::

    python experiments/pu_bagging_cap.py [--preset kddcup99-high] [--caps 20000 4096]
        [--seeds 1000-1004] [--allow-report-seeds]

For each seed and cap: the ``pu-bagging`` detector (:class:`pugan.pu_bagging.PUBaggingDetector`,
defaults but ``max_samples_cap``) fitted on the preset's split, its fit CPU seconds, its test
AUPRC, and the reliable normals PU-GAN's stage 1 would take from the same ensemble
(:func:`pugan.pu_bagging.select_reliable` on the out-of-bag scores) with the share of anomalies
among them (read from the training labels, which nothing here fits on). Prints one row per
seed and cap, then the means per cap. The cap binds only when the known normals outnumber 1.5
times it (``kddcup99-high``: 51,358 known normals), so other presets show no difference.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.metrics import average_precision_score

from benchmarks.seeds import add_seed_arguments, seeds_from_args
from benchmarks.splits import preset_split
from pugan.pu_bagging import PUBaggingDetector, select_reliable


def cap_row(split, seed: int, cap: int | None) -> dict:
    """Fit the detector at ``cap`` on ``split`` and measure it (see the module docstring)."""
    known = split.known_normal
    start = time.process_time()
    det = PUBaggingDetector(max_samples_cap=cap, random_state=seed)
    det.fit(split.X_train, known_normal=known)
    fit_cpu = time.process_time() - start
    oob = det.classifier_.oob_decision_
    unlabelled = np.flatnonzero(~known)
    reliable, _ = select_reliable(oob[unlabelled], oob[known])
    picked = split.y_train[unlabelled][reliable]
    return {"seed": seed, "cap": cap, "fit_cpu_s": round(fit_cpu, 2),
            "auprc": round(float(average_precision_score(split.y_test,
                                                         det.decision_function(split.X_test))), 4),
            "n_reliable": int(reliable.sum()),
            "anomaly_share": round(float(picked.mean()) if len(picked) else float("nan"), 5)}


def _cap(text: str) -> int | None:
    return None if text.lower() == "none" else int(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="kddcup99-high")
    ap.add_argument("--caps", nargs="+", type=_cap, default=[20000, 4096],
                    help="values of max_samples_cap to compare ('none' for no cap)")
    add_seed_arguments(ap, default=5)
    args = ap.parse_args(argv)
    seeds = seeds_from_args(args, ap)
    rows = []
    for seed in seeds:
        split = preset_split(args.preset, seed)
        for cap in args.caps:
            row = cap_row(split, seed, cap)
            rows.append(row)
            print(", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    for cap in args.caps:
        mine = [r for r in rows if r["cap"] == cap]
        means = {k: float(np.mean([r[k] for r in mine]))
                 for k in ("fit_cpu_s", "auprc", "n_reliable", "anomaly_share")}
        print(f"cap {cap}: " + ", ".join(f"mean {k} {v:.4g}" for k, v in means.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
