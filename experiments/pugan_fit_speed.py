"""PU-GAN's fit time and test AUPRC on development seeds, one thread, for before/after checks.

Usage::

    python experiments/pugan_fit_speed.py [--preset kddcup99-low] [--seeds 1000-1004]
        [--threads 1] [--param name=value ...] [--split-param name=value ...]
        [--out results/speed/fit.csv]
        [--allow-report-seeds]
    python experiments/pugan_fit_speed.py --compare BEFORE.csv AFTER.csv

For each seed: the preset's split, a ``PUGAN(random_state=seed, n_jobs=threads, **params)`` fit
timed stage by stage (:func:`benchmarks.perf.pugan_profile.profile_fit`: the ``<stage>_s``
columns are process CPU seconds on one CPU thread, and wall seconds with more threads, where
CPU time would sum them, or on a GPU; the whole fit in both, ``fit_wall_s`` and
``fit_cpu_s``), and the test AUPRC
of its scores. Prints one row per seed, then the mean AUPRC with
a 95% t confidence interval over the seeds (:func:`benchmarks.stats.mean_ci`; one seed gives
none) and the mean fit time, and appends the rows to
``--out`` (CSV) when given. Development seeds only (:data:`benchmarks.seeds.DEV_SEEDS`): a
report seed is refused unless ``--allow-report-seeds``. Run it on two checkouts (or with two
``--param`` settings) to compare fit time and AUPRC before and after a change; an untimed
short fit with the same settings comes first, so that the first seed's time does not carry
the imports and most of the kernels' first builds, which every later seed skips.

``--compare BEFORE.csv AFTER.csv`` pairs two such files by seed and prints the speed-up
(BEFORE's fit time over AFTER's: CPU seconds on one thread, wall seconds with more threads or
with a ``device='cuda'`` parameter in either run) and the
AUPRC difference (AFTER minus BEFORE), each as its mean over the seeds with the 95% Student-t
interval, unclipped, and the Wilcoxon signed-rank p of the AUPRC differences (which cannot fall
below 0.05 with fewer than six pairs, so it is named undecidable there). Each file must hold one
run (``--out`` appends, so one file may hold several: one label, preset, split, parameters and
thread count), both the same preset, split and threads, and the same seeds.
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
from benchmarks.stats import MIN_WILCOXON_PAIRS, mean_ci, wilcoxon_p


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


def warm_up(split, params: dict, threads: int) -> None:
    """One untimed short fit of the same networks on the same split (one epoch of a few
    batches, two bagging rounds, a short student): the imports and oneDNN's first builds of
    most kernel shapes fall here, not on the first timed seed. It is an aid to the timing, so
    a warm-up that fails is said and skipped; the timed fits say what is wrong."""
    from pugan import PUGAN

    short = {**params, "n_epochs": 1, "encoder_epochs": 1, "max_gan_rows": 256, "n_bags": 2,
             "early_stopping": None, "student_steps": 10}
    try:
        PUGAN(random_state=0, n_jobs=threads, **short).fit(split.X_train,
                                                            known_normal=split.known_normal)
    except Exception as exc:  # noqa: BLE001 - reported, and the timed fits go on
        print(f"warm-up fit skipped ({type(exc).__name__}: {exc}); the first seed's time "
              "includes the imports and kernel builds", flush=True)


#: what one run of the script writes the same on every row
RUN_COLUMNS = ("label", "preset", "split_params", "attributes", "threads", "params")
#: what two runs must share for their pairs to measure one change
SAME_IN_BOTH = ("preset", "split_params", "attributes", "threads")


def on_gpu(params) -> bool:
    """Whether a run's PUGAN parameters (a dict, or its repr as the CSV's ``params`` holds it)
    put the fit on a GPU. Its time is then on the device, where the host's CPU seconds count
    only the launches and the waits, so it is timed by the wall clock, as a run on several
    threads is."""
    return "cuda" in str(params)


def one_cpu_thread(both) -> bool:
    """Whether both runs' work is the process's CPU seconds: one thread, on the CPU."""
    gpu = any(on_gpu(v) for c in ("params_before", "params_after") if c in both
              for v in both[c])
    return bool((both["threads_before"] == 1).all()) and not gpu


def compare(before: Path, after: Path) -> str:
    """The paired summary of two runs' CSVs (module docstring), as printed lines."""
    import pandas as pd

    a, b = (pd.read_csv(p) for p in (before, after))
    for name, frame in ((before, a), (after, b)):
        if frame["seed"].duplicated().any():
            raise SystemExit(f"{name} holds a seed twice: compare one run of each")
        mixed = [c for c in RUN_COLUMNS if c in frame and frame[c].astype(str).nunique() > 1]
        if mixed:
            raise SystemExit(f"{name} holds more than one run (several values of "
                             f"{', '.join(mixed)}): compare one run of each")
    differ = [c for c in SAME_IN_BOTH if c in a and c in b
              and set(a[c].astype(str)) != set(b[c].astype(str))]
    if differ:
        raise SystemExit(f"{before} and {after} differ in {', '.join(differ)}: their times and "
                         "AUPRCs do not measure one change")
    unpaired = sorted(set(a["seed"]) ^ set(b["seed"]))
    if unpaired:
        raise SystemExit(f"seeds {unpaired} are in one file only: compare the same seeds")
    both = a.merge(b, on="seed", suffixes=("_before", "_after"))
    clock = "fit_cpu_s" if one_cpu_thread(both) else "fit_wall_s"
    finite = np.isfinite(both[[f"{clock}_before", f"{clock}_after", "auprc_before",
                               "auprc_after"]].to_numpy(dtype=float)).all(axis=1)
    dropped = int((~finite).sum())
    both = both[finite]
    if len(both) < 2:
        raise SystemExit(f"{len(both)} seed(s) with finite times and AUPRCs in both files: "
                         "a paired interval needs two")
    speedup = both[f"{clock}_before"] / both[f"{clock}_after"]
    diff = both["auprc_after"] - both["auprc_before"]
    lines = [f"seed {s}: {clock} {x:.1f} -> {y:.1f} ({r:.2f}x), AUPRC {p:.4f} -> {q:.4f}"
             for s, x, y, r, p, q in zip(both["seed"], both[f"{clock}_before"],
                                         both[f"{clock}_after"], speedup,
                                         both["auprc_before"], both["auprc_after"],
                                         strict=True)]
    m, _, lo, hi = mean_ci(speedup, bounded=False)
    lines.append(f"speed-up ({clock}, before / after): mean {m:.2f} [{lo:.2f}, {hi:.2f}] "
                 f"(95% t interval over {len(both)} seeds)"
                 + (f"; {dropped} seed(s) left out, not finite in both" if dropped else ""))
    m, _, lo, hi = mean_ci(diff, bounded=False)
    n_nonzero = int((diff != 0).sum())
    p = wilcoxon_p(diff.to_numpy())
    test = (f"Wilcoxon p = {p:.2g}" if n_nonzero >= MIN_WILCOXON_PAIRS else
            f"Wilcoxon p = {p:.2g}, which {n_nonzero} non-zero pairs cannot bring below 0.05")
    lines.append(f"AUPRC after - before: mean {m:+.4f} [{lo:+.4f}, {hi:+.4f}] (95% t interval), "
                 f"{test}")
    return "\n".join(lines)


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
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"),
                    help="pair two runs' CSVs by seed and summarise them; runs nothing")
    add_seed_arguments(ap, default=5)
    args = ap.parse_args(argv)
    if args.compare:
        print(compare(*args.compare))
        return 0
    seeds = seeds_from_args(args, ap)
    params = dict(args.param)
    warm_up(preset_split(args.preset, seeds[0], **dict(args.split_param)), params, args.threads)
    # stage seconds: CPU on one thread, wall with more (CPU time would sum the threads) or on
    # a GPU (where the host's CPU time counts the launches, not the work)
    cpu_clock = args.threads == 1 and not on_gpu(params)
    rows = []
    for seed in seeds:
        s = preset_split(args.preset, seed, **dict(args.split_param))
        wall, cpu = time.perf_counter(), time.process_time()
        times, det = profile_fit(s.X_train, s.known_normal, cpu=cpu_clock,
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
        if args.out is not None:  # each seed as it ends: a stopped run keeps the seeds it did
            append_row(args.out, row)
    print(f"{auprc_summary([r['auprc'] for r in rows])}; fit "
          f"{np.mean([r['fit_wall_s'] for r in rows]):.1f} s wall, "
          f"{np.mean([r['fit_cpu_s'] for r in rows]):.1f} s CPU on average")
    return 0


def append_row(path: Path, row: dict) -> None:
    """Append one seed's row to the CSV at ``path``, with a header when the file is new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    if not new:
        with path.open(newline="") as f:
            header = next(csv.reader(f), [])
        if header != list(row):
            raise SystemExit(f"{path} holds other columns ({', '.join(header)}) than this run "
                             "writes: give --out a new file")
    with path.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(row))
        if new:
            w.writeheader()
        w.writerow(row)


if __name__ == "__main__":
    raise SystemExit(main())
