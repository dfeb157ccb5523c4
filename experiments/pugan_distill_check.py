"""Does the distilled scorer rank like its teacher on the regression reference's cells?

Usage::

    python experiments/pugan_distill_check.py --dataset kdd-low-20k \
        --params "{'student_steps': 1055}"

Rebuilds the ``pugan-distilled`` cells of ``benchmarks/configs/reference.yaml`` on development
seeds (or those of one dataset label, e.g. ``kdd-low-20k``), with the harness's own split and
model seeds for them, fits the
detector, and prints, on the cell's test records, the student's AUROC and AUPRC beside those of
its teacher (the encoder path of the *same* fit, its two terms combined with the detector's
standardisation, which the student's scores calibrated), their Spearman correlation and the
student's held-out fidelity. ``params`` (a Python dict) overrides detector parameters, e.g.
``"{'student_steps': 1055}"``, about the update count that 30 epochs gave on kdd-low-20k.

Why it exists: the reference's ``pugan-encoder`` and ``pugan-distilled`` cells have different
model seeds (the harness derives them from the detector name), so their difference mixes GAN
luck with distillation error; this script separates the two.
"""

from __future__ import annotations

import argparse
import dataclasses

from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, roc_auc_score

from benchmarks.config import load_config
from benchmarks.registry import make_detector
from benchmarks.regression import DEFAULT_CONFIG
from benchmarks.seeds import add_seed_arguments, dict_literal, seeds_from_args
from benchmarks.splits import make_pu_split


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default=None, help="one dataset label of the reference config")
    ap.add_argument("--params", type=dict_literal, default={},
                    help="detector parameter overrides as a Python dict literal")
    add_seed_arguments(ap)
    args = ap.parse_args(argv)
    config = dataclasses.replace(load_config(DEFAULT_CONFIG), seeds=seeds_from_args(args, ap))
    label, override = args.dataset, args.params
    distilled = [c for c in config.cells() if c.detector_name == "pugan-distilled"]
    check_label(label, distilled, ap)
    cells = [c for c in distilled if label in (None, c.dataset)]
    for c in cells:
        s = make_pu_split(**c.split_kwargs())
        det = make_detector(c.detector_name, random_state=c.model_seed,
                            **{**c.detector_params, **override})
        det.fit(s.X_train, known_normal=s.known_normal)
        student = det.decision_function(s.X_test)
        teacher = det.score_components(s.X_test, inversion="encoder").combined
        y = s.y_test
        print(f"{c.dataset} seed {c.seed}: teacher AUROC {roc_auc_score(y, teacher):.3f} AUPRC "
              f"{average_precision_score(y, teacher):.3f} | student AUROC "
              f"{roc_auc_score(y, student):.3f} AUPRC {average_precision_score(y, student):.3f} | "
              f"Spearman {spearmanr(teacher, student)[0]:.4f}, held-out fidelity "
              f"{det.student_fidelity_:.4f}", flush=True)
    return 0


def check_label(label, cells, parser) -> None:
    """Refuse a ``--dataset`` that names none of the reference's distilled cells (exit 2,
    listing the labels): it would otherwise match nothing, print nothing and succeed."""
    labels = sorted({c.dataset for c in cells})
    if label is not None and label not in labels:
        parser.error(f"unknown dataset label {label!r}; the reference config's labels with "
                     f"pugan-distilled cells: {', '.join(labels)}")


if __name__ == "__main__":
    raise SystemExit(main())
