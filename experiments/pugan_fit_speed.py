"""PU-GAN's fit time and test AUPRC on development seeds, one thread, for before/after checks.

Usage::

    python experiments/pugan_fit_speed.py [--preset kddcup99-low] [--seeds 1000-1004]
        [--threads 1] [--param name=value ...] [--split-param name=value ...]
        [--out results/speed/fit.csv]
        [--allow-report-seeds]

For each seed: the preset's split, a ``PUGAN(random_state=seed, n_jobs=threads, **params)`` fit
timed stage by stage (:func:`benchmarks.perf.pugan_profile.profile_fit`: the ``<stage>_s``
columns are process CPU seconds on one thread and wall seconds with more, where CPU time would
sum the threads; the whole fit in both, ``fit_wall_s`` and ``fit_cpu_s``), and the test AUPRC
of its scores. Prints one row per seed, then the mean AUPRC with
a 95% t confidence interval over the seeds (:func:`benchmarks.stats.mean_ci`; one seed gives
none) and the mean fit time, and appends the rows to
``--out`` (CSV) when given. Development seeds only (:data:`benchmarks.seeds.DEV_SEEDS`): a
report seed is refused unless ``--allow-report-seeds``. Run it on two checkouts (or with two
``--param`` settings) to compare fit time and AUPRC before and after a change.
"""

from __future__ import annotations

import argparse
import ast
import csv
import math
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score

from benchmarks.perf.pugan_profile import STAGES, profile_fit
from benchmarks.seeds import add_seed_arguments, seeds_from_args
from benchmarks.splits import preset_split
from benchmarks.stats import mean_ci


def _param(text: str) -> tuple[str, object]:
    name, _, value = text.partition("=")
    if not name or not _:
        raise argparse.ArgumentTypeError(f"--param wants name=value; got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def auprc_summary(values) -> str:
    """The mean AUPRC and its 95% interval over seeds; one seed has no spread, so no interval
    (a zero-width one would claim a certainty that one seed cannot give)."""
    m, _, lo, hi = mean_ci(values)
    interval = f"95% CI {lo:.4f} to {hi:.4f}" if math.isfinite(lo) else "one seed: no interval"
    return f"AUPRC mean {m:.4f} ({interval}) over {len(values)} seeds"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="kddcup99-low")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--param", action="append", default=[], type=_param,
                    help="a PUGAN parameter, name=value (repeatable)")
    ap.add_argument("--split-param", action="append", default=[], type=_param,
                    help="a preset override, name=value (e.g. pca=40 for 40 attributes)")
    ap.add_argument("--label", default="", help="a name for this run in the CSV")
    ap.add_argument("--out", type=Path, default=None)
    add_seed_arguments(ap, default=5)
    args = ap.parse_args(argv)
    seeds = seeds_from_args(args, ap)
    params = dict(args.param)
    rows = []
    for seed in seeds:
        s = preset_split(args.preset, seed, **dict(args.split_param))
        wall, cpu = time.perf_counter(), time.process_time()
        # stage seconds: CPU on one thread, wall with more (CPU time would sum the threads)
        times, det = profile_fit(s.X_train, s.known_normal, cpu=args.threads == 1,
                                 random_state=seed, n_jobs=args.threads, **params)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        auprc = float(average_precision_score(s.y_test, det.decision_function(s.X_test)))
        row = {"label": args.label, "preset": args.preset, "seed": seed,
               "attributes": s.X_train.shape[1], "split_params": repr(dict(args.split_param)),
               "threads": args.threads, "params": repr(params), "fit_wall_s": round(wall, 2),
               "fit_cpu_s": round(cpu, 2), "auprc": round(auprc, 5),
               "gan_epochs": sum(1 for h in det.history_ if "d_loss" in h),
               **{f"{k}_s": round(times[k], 2) for k in STAGES}}
        rows.append(row)
        print(", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    print(f"{auprc_summary([r['auprc'] for r in rows])}; fit "
          f"{np.mean([r['fit_wall_s'] for r in rows]):.1f} s wall, "
          f"{np.mean([r['fit_cpu_s'] for r in rows]):.1f} s CPU on average")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        new = not args.out.exists()
        with args.out.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            if new:
                w.writeheader()
            w.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
