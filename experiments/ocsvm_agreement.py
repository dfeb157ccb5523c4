"""Exact vs scalable OCSVM: rank agreement of their test scores where both can run.

Usage::

    python experiments/ocsvm_agreement.py [--seeds 1000-1002]

Under a minute per seed on 2 cores; it prints one row per (seed, dataset, variant): the
Spearman rank correlation of the two detectors' test scores, their AUROC and AUPRC, and fit
seconds; then, over the seeds, the lowest Spearman and the scalable detector's AUPRC minus the
exact one's, paired by seed, with its 95% Student-t interval. docs/baselines.md quotes
``--seeds 1000-1002`` (development seeds: the substitution is a choice).
"""

from __future__ import annotations

import argparse
import logging

import pandas as pd
from sklearn.metrics import average_precision_score as auprc
from sklearn.metrics import roc_auc_score as auroc

from baselines.compare import exact_vs_scalable
from benchmarks.seeds import add_seed_arguments, seeds_from_args
from benchmarks.splits import make_pu_split

logger = logging.getLogger(__name__)

#: (dataset, anomaly ratio, normals before the split): about 20k training rows each
CASES = [("kddcup99", 0.02, 29_000), ("moons", 0.5, 14_300)]


def run(seed: int, cases=CASES) -> pd.DataFrame:
    """One row per (dataset, fit_on) for the splits of ``seed``."""
    rows = []
    for dataset, ratio, n_normal in cases:
        split = make_pu_split(dataset, anomaly_ratio=ratio, labelled_fraction=0.2, seed=seed,
                              n_normal=n_normal)
        for fit_on in ("all", "normals"):
            out = exact_vs_scalable(split.X_train, split.X_test, known_normal=split.known_normal,
                                    fit_on=fit_on, random_state=seed)
            rows.append({
                "seed": seed, "dataset": dataset, "fit_on": fit_on, "n_train": out["n_train"],
                "n_test": out["n_test"], "spearman": round(out["spearman"], 4),
                "exact_auroc": round(auroc(split.y_test, out["exact_scores"]), 4),
                "scalable_auroc": round(auroc(split.y_test, out["scalable_scores"]), 4),
                "exact_auprc": round(auprc(split.y_test, out["exact_scores"]), 4),
                "scalable_auprc": round(auprc(split.y_test, out["scalable_scores"]), 4),
                "exact_fit_seconds": round(out["exact_fit_seconds"], 2),
                "scalable_fit_seconds": round(out["scalable_fit_seconds"], 2),
            })
            logger.info("%s", rows[-1])
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_seed_arguments(parser, default=1)
    args = parser.parse_args(argv)
    seeds = seeds_from_args(args, parser)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    pd.set_option("display.width", 200)
    frame = pd.concat([run(seed) for seed in seeds], ignore_index=True)
    print(frame.to_string(index=False))
    print()
    print(agreement_summary(frame).to_string(index=False))


def agreement_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, fit_on) over the seeds: the lowest Spearman, and the scalable OCSVM's
    AUPRC minus the exact one's, paired by seed, with its 95% Student-t interval: a rank
    correlation near 1 can still leave the top of the ranking, which AUPRC weighs, apart."""
    from benchmarks.stats import mean_ci

    rows = []
    for (dataset, fit_on), g in frame.groupby(["dataset", "fit_on"], sort=False):
        mean, _, low, high = mean_ci(g["scalable_auprc"] - g["exact_auprc"], bounded=False)
        rows.append({"dataset": dataset, "fit_on": fit_on, "seeds": len(g),
                     "lowest spearman": g["spearman"].min(),
                     "auprc scalable - exact": f"{mean:+.4f}" + (
                         "" if pd.isna(low) else f" [{low:+.4f}, {high:+.4f}]")})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    main()
