"""The ``pugan-bench`` command line (also ``python -m benchmarks``).

    pugan-bench run CONFIG --out DIR [--n-jobs N] [--backend loky|dask] [--scheduler ADDR]
    pugan-bench report DIR [--reports-dir DIR] [--no-figures]
    pugan-bench detectors
    pugan-bench datasets
    pugan-bench validate CONFIG
    pugan-bench tune CONFIG --out DIR --write FILE [--criterion auprc] [--keep-rows]
    pugan-bench regression update|check [--config C] [--reference R] ...
    pugan-bench ablation [--presets P,Q] [--seeds S] [--allow-report-seeds] [--out DIR]
    pugan-bench scale-curves [--sizes N ...] [--detectors D ...] [--plot-only]
    pugan-bench rerun SOURCE DEST --detector LABEL [--dataset LABEL ...]
    pugan-bench moves BEFORE AFTER --detector LABEL [--dataset LABEL ...] [--append]
    pugan-bench stale [FOLDER ...]
    pugan-bench --version

Exit status: 0 when every cell is ok or skipped; 1 when any cell failed or timed out (unless
``run --allow-failures``) or the output folder could not be written; 2 for a bad command line,
config, data file or an unreachable Dask scheduler; 130 when interrupted; 141, silently, when
the reader of its output went away (``pugan-bench detectors | head``). ``regression check``
exits 1 on a regression and 2 without a reference (:mod:`benchmarks.regression`).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys

from benchmarks.cells import PROJECT_ROOT, code_version
from benchmarks.committed import COMMITTED_SWEEPS, is_committed_sweep

__all__ = ["main"]

log = logging.getLogger("benchmarks.cli")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pugan-bench",
        description="PU-GAN benchmark suite: run sweeps, build reports, list detectors.")
    p.add_argument("--version", action="version", version=f"%(prog)s {code_version()}")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    # the same flags after the command name (pugan-bench report DIR -q)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="debug logging")
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="warnings and errors only")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", parents=[common], help="run every cell of a sweep config (resumes; cached cells "
                                     "are not recomputed)")
    run.add_argument("config", help="sweep config (YAML), e.g. benchmarks/configs/paper.yaml")
    run.add_argument("--out", required=True, help="sweep folder: cells/ and results.csv go here")
    run.add_argument("--n-jobs", type=int, default=None,
                     help="cells in parallel (default: the config's n_jobs; -1 = all cores)")
    run.add_argument("--backend", choices=("loky", "dask"), default="loky",
                     help="joblib backend (default loky)")
    run.add_argument("--scheduler", default=None,
                     help="Dask scheduler address (tcp://host:8786); without it, --backend dask "
                          "starts a local cluster of --n-jobs workers")
    run.add_argument("--seeds", default=None, metavar="LIST",
                     help="run only these of the config's seeds (comma-separated, e.g. 0,1): "
                          "a first look whose cells the full run then reuses")
    run.add_argument("--time-limit", type=float, default=None,
                     help="seconds per cell process (start-up, fit and score), "
                     "overriding the config's time_limit")
    run.add_argument("--threads-per-cell", type=int, default=None,
                     help="BLAS/torch threads per cell (default: cores // n_jobs)")
    run.add_argument("--no-retry-failed", action="store_true",
                     help="keep cells recorded as failed/timeout instead of rerunning them")
    run.add_argument("--force", action="store_true", help="rerun every cell, ignoring the cache")
    run.add_argument("--keep-rows", action="store_true",
                     help="take the rows of OUT/results.csv whose cells are unchanged as their "
                          "results (a fresh clone has no cells/), so only changed or new cells "
                          "run")
    run.add_argument("--no-isolate", action="store_true",
                     help="run cells in the worker itself (debugging: no time limit, no crash "
                          "isolation; with one worker that is this command's own process, "
                          "which a cell that crashes ends)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--allow-failures", action="store_true",
                     help="exit with status 0 even when cells failed or timed out (they are "
                          "recorded in results.csv either way)")
    run.add_argument("--strict", action="store_true",
                     help="exit with status 1 when any cell failed or timed out (the default; "
                          "kept for old scripts; refused beside --allow-failures)")

    rep = sub.add_parser("report", parents=[common], help="tables and figures from DIR/results.csv alone")
    rep.add_argument("dir", help="a sweep folder holding results.csv")
    rep.add_argument("--reports-dir", default=None,
                     help="where markdown tables and figures/ go (default: DIR-reports beside "
                          "the sweep folder; the repository's reports/ for its committed "
                          "sweeps: " + ", ".join(COMMITTED_SWEEPS) + ")")
    rep.add_argument("--no-figures", action="store_true", help="tables only")
    rep.add_argument("--no-table1", action="store_true",
                     help="skip Table 1 even when the results include paper presets")
    rep.add_argument("--readme", default=None,
                     help="also rewrite the results block of this README (README.md)")
    rep.add_argument("--html", action="store_true",
                     help="also write one self-contained page, REPORTS/index.html, from every "
                          "sweep folder beside DIR (a folder of your own gets its own section)")

    sub.add_parser("detectors", parents=[common], help="list the registered detectors")
    sub.add_parser("datasets", parents=[common], help="list the datasets and the presets")

    val = sub.add_parser("validate", parents=[common], help="check a sweep config and count its cells")
    val.add_argument("config")

    tun = sub.add_parser("tune", parents=[common],
                         help="run a grid config on development seeds and write each "
                              "detector's best setting per dataset to a tuning file")
    tun.add_argument("config", help="a sweep config whose detector params hold grids (lists)")
    tun.add_argument("--out", required=True, help="sweep folder of the grid's cells")
    tun.add_argument("--write", required=True, help="the tuning file to write (YAML)")
    tun.add_argument("--criterion", default="auprc", help="metric to maximise (default auprc)")
    tun.add_argument("--n-jobs", type=int, default=None, help="cells in parallel")
    tun.add_argument("--no-progress", action="store_true", help="no progress bar")
    tun.add_argument("--keep-rows", action="store_true",
                     help="take the rows of OUT/results.csv whose cells are unchanged as their "
                          "results, so only changed or new grid cells run")
    tun.add_argument("--allow-report-seeds", action="store_true",
                     help="accept report seeds in the config (never for choosing a setting)")

    _add_regression(sub, common)
    _add_ablation(sub, common)
    _add_scale_curves(sub, common)
    _add_rerun(sub, common)
    _add_stale(sub, common)
    return p


def _add_regression(sub, common) -> None:
    reg = sub.add_parser("regression", parents=[common],
                         help="stored reference scores and the regression check "
                              "(make update-reference, make check-regression)")
    actions = reg.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help_ in (("update", "rerun the reference config and store the reference"),
                        ("check", "rerun the reference config in a fresh folder and compare")):
        s = actions.add_parser(name, parents=[common], help=help_)
        s.add_argument("--config", default=None,
                       help="sweep config of the reference cells (default "
                            "benchmarks/configs/reference.yaml in the repository)")
        s.add_argument("--reference", default=None,
                       help="reference CSV (default results/reference/reference.csv in the "
                            "repository); a .json sidecar goes beside it")
        s.add_argument("--n-jobs", type=int, default=None, help="cells in parallel")
        s.add_argument("--no-progress", action="store_true", help="no progress bar")
    upd, chk = actions.choices["update"], actions.choices["check"]
    upd.add_argument("--scratch", default=None,
                     help="folder for the run (default: a new temporary folder)")
    upd.add_argument("--from-results", default=None,
                     help="build the reference from DIR/results.csv instead of running")
    chk.add_argument("--out", default=None,
                     help="folder for the rerun (default: a new temporary folder); every cell is "
                          "recomputed even if the folder holds cells")
    chk.add_argument("--results", default=None,
                     help="compare DIR/results.csv instead of running")


def _add_ablation(sub, common) -> None:
    from benchmarks.seeds import add_seed_arguments

    abl = sub.add_parser("ablation", parents=[common],
                         help="PU-GAN ablation: what each stage adds, on the same splits and "
                              "seeds (make ablation)")
    abl.add_argument("--presets", default="moons-paper,kddcup99-low",
                     help="comma-separated presets (default %(default)s)")
    add_seed_arguments(abl)
    abl.add_argument("--out", default="results/ablation",
                     help="folder of ablation.csv (default %(default)s)")
    abl.add_argument("--reports", default="reports",
                     help="folder of ablation.md (default %(default)s)")
    abl.add_argument("--n-jobs", type=int, default=2,
                     help="(preset, seed) pairs in parallel (default %(default)s)")


def _add_scale_curves(sub, common) -> None:
    sc = sub.add_parser("scale-curves", parents=[common],
                        help="fit and score time against training size (make scale-curves)")
    sc.add_argument("--sizes", type=int, nargs="+", default=None,
                    help="training sizes, each at least 100 (default 2000 5000 10000 30000 "
                         "100000 300000 500000)")
    sc.add_argument("--detectors", nargs="+", default=None,
                    help="registry names (default iforest ocsvm-sgd knn-normals ocsvm "
                         "pu-bagging pugan)")
    sc.add_argument("--max-fit-seconds", type=float, default=300.0,
                    help="skip a size whose predicted fit time exceeds this (> 0; default 300)")
    sc.add_argument("--out", default=None,
                    help="the CSV (default results/scale/scale.csv in the repository)")
    sc.add_argument("--figure", default=None,
                    help="figure path without suffix: .png, .svg and the table .md are written "
                         "(default reports/figures/scale_curves in the repository)")
    sc.add_argument("--plot-only", action="store_true",
                    help="redraw the figure and its table from --out")


def _add_choice(parser, required: bool = True) -> None:
    """The cells a rerun or a comparison is about: detector labels, optionally datasets."""
    parser.add_argument("--detector", action="append", required=required,
                        help="a detector label as results.csv writes it (repeatable)")
    parser.add_argument("--dataset", action="append", default=[],
                        help="only its rows of this dataset label (repeatable; default all)")


def _add_rerun(sub, common) -> None:
    rr = sub.add_parser("rerun", parents=[common],
                        help="compute chosen cells of a sweep again on this machine, into a "
                             "copy of its folder, and compare their scores")
    rr.add_argument("source", help="a sweep folder (results.csv and config.yaml)")
    rr.add_argument("dest", help="a new folder for the copy")
    _add_choice(rr, required=False)
    rr.add_argument("--rows-from", action="append", default=[], metavar="FOLDER",
                    help="carry this sweep folder's ok rows of current cells into the copy in "
                         "place of the source's (repeatable; the last given wins); with it, "
                         "--detector may be left out and nothing is computed")
    rr.add_argument("--n-jobs", type=int, default=None,
                    help="cells in parallel (default: the config's n_jobs; -1 = all cores)")
    rr.add_argument("--time-limit", type=float, default=None,
                    help="seconds per cell process (start-up, fit and score), overriding "
                    "the sweep's")
    mv = sub.add_parser("moves", parents=[common],
                        help="compare chosen cells of two folders of one sweep, paired by "
                             "seed within each condition (as rerun's moves.csv)")
    mv.add_argument("before", help="the sweep folder the cells came from")
    mv.add_argument("after", help="a folder with the same cells computed again")
    _add_choice(mv)
    mv.add_argument("--out", default=None, help="the CSV to write (default AFTER/moves.csv)")
    mv.add_argument("--append", action="store_true",
                    help="keep the CSV's rows of other conditions (replace only the chosen)")


#: the paper tunings' sweep folders and the make target that fills them; with the committed
#: sweeps after them, the order `make refresh-results` fills them in (the paper run reads the
#: tunings' choices)
TUNING_SWEEPS = {"results/tune-paper": "make tune", "results/tune-paper-2pct": "make tune"}


def _add_stale(sub, common) -> None:
    st = sub.add_parser("stale", parents=[common],
                        help="the rows of sweep folders that come from code changed since, and "
                             "the cell seconds they took: what a refresh costs")
    st.add_argument("folders", nargs="*",
                    help="sweep folders (default: the committed sweeps and the paper tunings)")


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _seed_subset(text: str, seeds: tuple[int, ...]) -> tuple[int, ...]:
    """``--seeds 0,1`` or ``0-2`` as a tuple, each one a seed of the config (another seed
    would be a different experiment, not a first look at this one), read as every other
    seed option reads (:func:`benchmarks.seeds.parse_seeds`: a seed given twice is refused)."""
    from benchmarks.seeds import parse_seeds

    try:
        chosen = parse_seeds(text)
    except ValueError as exc:
        raise ValueError(f"--seeds takes comma-separated integers or ranges: {exc}") from None
    outside = sorted(set(chosen) - set(seeds))
    if not chosen or outside:
        raise ValueError(f"--seeds must name seeds of the config {list(seeds)}; got {text!r}")
    return chosen


def _cmd_run(args) -> int:
    from benchmarks.config import load_config, with_time_limit
    from benchmarks.sweep import run_sweep

    # `kill PID` stops a sweep like Ctrl-C: workers are shut down and results.csv is written
    # from the finished cells (kill -9 loses only results.csv, which the next run rebuilds)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)

    # checked here, before the config: zero would otherwise fall back to the default and a
    # negative count would reach the thread libraries, which only warn
    if args.threads_per_cell is not None and args.threads_per_cell < 1:
        raise ValueError(f"--threads-per-cell must be >= 1; got {args.threads_per_cell}")
    for one, other in (("strict", "allow_failures"), ("force", "keep_rows")):
        if getattr(args, one) and getattr(args, other):  # one of them would be ignored
            raise ValueError(f"--{one.replace('_', '-')} and --{other.replace('_', '-')} "
                             "contradict each other: give one")
    config = load_config(args.config)
    if args.seeds is not None:
        config = dataclasses.replace(config, seeds=_seed_subset(args.seeds, config.seeds))
    config = with_time_limit(config, args.time_limit)
    frame = run_sweep(config, args.out, n_jobs=args.n_jobs, backend=args.backend,
                      scheduler=args.scheduler, retry_failed=not args.no_retry_failed,
                      force=args.force, isolate=not args.no_isolate,
                      threads_per_cell=args.threads_per_cell, progress=not args.no_progress,
                      keep_rows=args.keep_rows)
    counts = frame["status"].value_counts().to_dict() if len(frame) else {}
    n_cells = len(config.cells())
    missing = n_cells - len(frame)
    print(f"{n_cells} cells: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in
                                            ("ok", "failed", "timeout", "skipped"))
          + (f", {missing} without a result" if missing else "")
          + f"; results in {args.out}/results.csv")
    bad = counts.get("failed", 0) + counts.get("timeout", 0) + missing
    if bad and not args.allow_failures:
        print(f"pugan-bench run: {bad} cell(s) failed or timed out (see the error column of "
              "results.csv); --allow-failures exits 0 anyway", file=sys.stderr)
        return 1
    return 0


def _cmd_report(args) -> int:
    from benchmarks.report import report

    reports_dir = _check_folder_path(_reports_dir(args.dir, args.reports_dir),
                                     "the reports folder (--reports-dir)")
    paths = report(args.dir, reports_dir=reports_dir, figures=not args.no_figures,
                   with_table1=False if args.no_table1 else None, readme=args.readme)
    if args.html:
        from pathlib import Path

        from benchmarks.html_report import write_html_report

        folder = Path(args.dir).resolve()
        own = None if is_committed_sweep(folder) else folder.name
        paths.append(write_html_report(folder.parent, reports_dir, own_sweep=own))
    for p in paths:
        print(p)
    return 0


def _reports_dir(sweep_dir: str, given: str | None):
    """Where ``report`` writes: ``given``; else reports/ for a committed sweep; else beside it.

    Why: a user's own sweep folder (even one named ``paper``) must never overwrite the
    repository's committed tables.
    """
    from pathlib import Path

    if given is not None:
        return Path(given)
    folder = Path(sweep_dir).resolve()
    if is_committed_sweep(folder):
        return PROJECT_ROOT / "reports"
    return folder.parent / f"{folder.name}-reports"


def _check_folder_path(folder, what: str):
    """``folder``, or a ValueError naming it when it, or a folder above it, is a file: no
    folder can be made there, and the report would end in a traceback after its first
    tables were written."""
    from pathlib import Path

    folder = Path(folder)
    for path in (folder, *folder.parents):
        if path.exists() and not path.is_dir():
            where = "is a file" if path == folder else f"is under {path}, which is a file"
            raise ValueError(f"{what} {folder} {where}: give a folder")
    return folder


def _cmd_datasets(args) -> int:
    from benchmarks.datasets import available_datasets
    from benchmarks.splits import PRESETS

    print("datasets (use 'dataset: NAME' with anomaly_ratios and labelled_fractions):")
    for name in available_datasets():
        print(f"  {name}")
    print("  file:<path>  a user's CSV/Parquet/NPZ (dataset_params: label_column, ...)")
    print("presets (use 'preset: NAME'; each fixes its ratio and fraction):")
    width = max(len(name) for name in PRESETS)
    for name, p in PRESETS.items():
        dedupe = ", duplicate records dropped" if p.get("dedupe") else ""
        print(f"  {name:{width}s} {p['dataset']}, anomaly ratio {p['anomaly_ratio']:g}, "
              f"labelled fraction {p['labelled_fraction']:g}{dedupe}")
    return 0


def _cmd_detectors(args) -> int:
    from benchmarks.registry import registry_table

    table = registry_table()
    if table.empty:
        print("no detectors registered")
        return 0
    import pandas as pd

    with pd.option_context("display.max_colwidth", 70, "display.width", 200):
        print(table.to_string(index=False))
    return 0


#: above this many cells, validate warns that the sweep is large
LARGE_SWEEP_CELLS = 10_000


def _cmd_validate(args) -> int:
    from benchmarks.config import check_n_jobs, load_config
    from benchmarks.errors import ConfigError
    from benchmarks.isolation import available_cores

    config = load_config(args.config)
    cells = config.cells()
    # "valid" only once every split has been made: a split that cannot be made exits 2 below
    counts = (f"{len(config.datasets)} dataset entr"
              f"{'y' if len(config.datasets) == 1 else 'ies'}, {len(config.detectors)} "
              f"detector(s), {len(config.seeds)} seed(s) -> {len(cells)} cells")
    if config.n_jobs != -1:
        # a warning here: the config is valid, and one meant for a cluster is checked on a
        # laptop; `run` without --scheduler refuses it
        try:
            check_n_jobs(config.n_jobs, available_cores())
        except ConfigError as exc:
            print(f"warning: {exc} (a local `run` refuses it)", file=sys.stderr)
    if len(cells) > LARGE_SWEEP_CELLS:
        print(f"warning: {len(cells)} cells is a large sweep (above {LARGE_SWEEP_CELLS}); "
              "check the axes and the seeds", file=sys.stderr)
    unfilled, problems = _check_splits(cells)
    for line in unfilled:
        print(f"skipped: {line}", file=sys.stderr)
    if unfilled:
        print(f"warning: {len(unfilled)} (dataset, ratio, fraction) block(s) cannot be filled "
              "by their data; `run` records their cells as skipped", file=sys.stderr)
    for line in problems:
        print(f"infeasible: {line}", file=sys.stderr)
    if problems:
        print(f"pugan-bench validate: error: {args.config}: {counts}, but "
              f"{len(problems)} split(s) cannot be made; see above", file=sys.stderr)
        return 2
    print(f"{args.config}: valid; {counts}")
    print(_time_estimate(cells, config.n_jobs if config.n_jobs > 0 else available_cores()))
    return 0


def _check_splits(cells) -> tuple[list[str], list[str]]:
    """Build one split per (dataset, ratio, fraction), as ``run`` will: the blocks the data
    cannot fill (``SplitInfeasible``: too few anomalies or normals, which ``run`` records as
    skipped cells) and the splits that fail otherwise (an unreadable file, one class only,
    which ``run`` records as failed), each line naming the block and what it lacks.

    The sizes of a split (anomalies needed and available) do not depend on the seed, so one
    seed answers for all.
    """
    from benchmarks.splits import SplitInfeasible, make_pu_split

    seen, unfilled, problems = set(), [], []
    for cell in cells:
        what = (cell.dataset, cell.dataset_name, cell.dataset_params_json, cell.split_json,
                cell.anomaly_ratio, cell.labelled_fraction)
        if what in seen:
            continue
        seen.add(what)
        where = (f"{cell.dataset} at anomaly ratio {cell.anomaly_ratio:g}, labelled fraction "
                 f"{cell.labelled_fraction:g}")
        try:
            make_pu_split(**cell.split_kwargs())
        except SplitInfeasible as exc:
            unfilled.append(f"{where}: {exc}")
        except Exception as exc:
            problems.append(f"{where}: {exc}{_label_hint(cell, exc)}")
    return unfilled, problems


def _label_hint(cell, exc) -> str:
    """For a user's file that came out with one class only: the ``anomaly_values`` in force
    and the labels the file holds, since a mismatch of the two (``1`` against ``attack``, or
    the number 1 against the text ``"1"``) is the usual cause and the loader's message names
    neither. The labels are read by the loader's own reader, so they are the values it
    compared; "" for any other failure, or when the file cannot be read again.
    """
    import inspect
    import json
    from pathlib import Path

    from benchmarks.datasets.userfile import _read, load_file

    name = cell.dataset_name
    if not (name == "file" or name.startswith("file:")) or "one class only" not in str(exc):
        return ""
    given = json.loads(cell.dataset_params_json)
    defaults = {k: p.default for k, p in inspect.signature(load_file).parameters.items()}
    params = {**defaults, **given}
    column = params["label_column"]
    try:
        labels = _read(Path(name.split(":", 1)[1] if ":" in name else params["path"]),
                       column)[column]
    except Exception:
        return ""
    held = labels.dropna().unique().tolist()
    found = sorted({repr(v) for v in held})
    shown = ", ".join(found[:10]) + (f", ... ({len(found)} distinct)" if len(found) > 10 else "")
    default = "" if "anomaly_values" in given else " (the default)"
    wanted = params["anomaly_values"]
    wanted = list(wanted) if isinstance(wanted, list | tuple | set) else [wanted]
    # the text "1" against the number 1 (or 1.0): alike on screen, unequal to the loader
    alike = [str(w) for w in wanted if w not in held and _as_other_type(w, held)]
    kinds = (f" ({', '.join(alike)} as {_kind(wanted)} against the column's {_kind(held)}: "
             "write them as the file holds them)" if alike else "")
    return (f"; anomaly_values is {params['anomaly_values']!r}{default} and label column "
            f"{column!r} holds {shown}{kinds}: set anomaly_values to the label(s) that mean "
            "anomaly")


def _as_other_type(label, held) -> bool:
    """Whether ``label`` is among ``held`` as the same number written as text or as a number
    (``"1"`` against ``1`` or ``1.0``)."""
    for value in held:
        if isinstance(label, str) == isinstance(value, str):
            continue
        try:
            if float(label) == float(value):
                return True
        except (TypeError, ValueError):
            continue
    return False


def _kind(values) -> str:
    """"text" or "numbers": what a list of labels holds, as a user would tell them apart."""
    return "text" if all(isinstance(v, str) for v in values) else "numbers"


#: sweeps whose recorded cell times inform validate's estimate
TIMED_SWEEPS = ("results/paper/results.csv", "results/imbalance/results.csv")


def _time_estimate(cells, n_jobs: int) -> str:
    """An estimate from the cell times recorded in the committed sweeps.

    Each cell takes the median time of the closest recorded cells: same detector and preset,
    else same detector and dataset, else same detector.
    """
    from pathlib import Path

    import pandas as pd

    root = Path(__file__).resolve().parent.parent
    frames = [pd.read_csv(root / f, usecols=["detector_name", "dataset_name", "preset",
                                             "cell_seconds"], keep_default_na=False)
              for f in TIMED_SWEEPS if (root / f).is_file()]
    timed = pd.concat(frames) if frames else pd.DataFrame(
        columns=["detector_name", "dataset_name", "preset", "cell_seconds"])
    # a cell that left no time (a worker lost each time) is blank there: no estimate from it
    timed["cell_seconds"] = pd.to_numeric(timed["cell_seconds"], errors="coerce")
    timed = timed.dropna(subset=["cell_seconds"])
    levels = [timed[timed["preset"] != ""].groupby(["detector_name", "preset"]),
              timed.groupby(["detector_name", "dataset_name"]), timed.groupby("detector_name")]
    medians = [g["cell_seconds"].median().to_dict() for g in levels]

    def guess(cell):
        for table, key in zip(medians, ((cell.detector_name, cell.preset or ""),
                                        (cell.detector_name, cell.dataset_name),
                                        cell.detector_name), strict=True):
            if key in table:
                return table[key]
        return None

    times = [guess(c) for c in cells]
    known = [t for t in times if t is not None]
    unknown = sorted({c.detector_name for c, t in zip(cells, times, strict=True) if t is None})
    if not known:
        return (f"estimated time: none; no cell time is recorded for {', '.join(unknown)} in "
                f"{', '.join(TIMED_SWEEPS)}")
    seconds = sum(known) / max(1, n_jobs)
    text = (f"estimated time: about {_duration(seconds)} with n_jobs={n_jobs} for "
            f"{len(known)} of {len(cells)} cells (from the cell times recorded in "
            f"{', '.join(TIMED_SWEEPS)} on the machine that ran them; an order of magnitude)")
    if unknown:
        text += f"; no recorded time for {', '.join(unknown)}"
    return text


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _cmd_tune(args) -> int:
    from benchmarks.config import load_config
    from benchmarks.tuning import tune

    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    config = load_config(args.config)
    path = tune(config, args.out, args.write, criterion=args.criterion,
                allow_report_seeds=args.allow_report_seeds, n_jobs=args.n_jobs,
                progress=not args.no_progress, keep_rows=args.keep_rows)
    print(f"tuning written to {path}")
    return 0


def _cmd_regression(args) -> int:
    from benchmarks import regression

    args.config = args.config or str(regression.DEFAULT_CONFIG)
    args.reference = args.reference or str(regression.DEFAULT_REFERENCE)
    if args.action == "update":
        return regression.update_command(args)
    return regression.check_command(args)


def _cmd_ablation(args) -> int:
    from benchmarks.ablation import run_command

    return run_command(args)


def _cmd_rerun(args) -> int:
    from benchmarks.rerun import run_command

    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)  # as `run`: the finished cells stay
    return run_command(args)


def _cmd_moves(args) -> int:
    from benchmarks.rerun import moves_command

    return moves_command(args)


def _cmd_scale_curves(args) -> int:
    from benchmarks.perf import scale_curves as sc

    _, measured = sc.run_scale_curves(
        args.detectors or sc.DETECTORS, args.sizes or sc.SIZES,
        max_fit_seconds=args.max_fit_seconds, out=args.out or sc.DEFAULT_OUT,
        figure=args.figure or sc.DEFAULT_FIGURE, plot_only=args.plot_only)
    if measured is None:   # --plot-only: nothing was fitted by this run
        return 0
    failed = sc.failed_rows(measured)
    if failed:   # the CSV and figure are written, but a fit raised: say so in the status
        print(f"pugan-bench scale-curves: error: {len(failed)} fit(s) failed: "
              + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


def _cmd_stale(args) -> int:
    """Print, per folder, its stale rows and their cell seconds, then the sum and the wall time
    it comes to on this machine's cores; exit 0 (a report, not a check: the tests check)."""
    from pathlib import Path

    from benchmarks.committed import sweep_command
    from benchmarks.isolation import available_cores
    from benchmarks.report import stale_cost

    named = bool(args.folders)
    folders = args.folders or [str(PROJECT_ROOT / f) for f in (*TUNING_SWEEPS,
                                                                *COMMITTED_SWEEPS)]
    total_rows, total_seconds, read = 0, 0.0, 0
    for folder in folders:
        if not (Path(folder) / "results.csv").is_file():
            if named:
                raise FileNotFoundError(f"{folder} holds no results.csv: name a sweep folder")
            continue
        cost = stale_cost(folder)
        shown = Path(folder).resolve()
        rel = (shown.relative_to(PROJECT_ROOT).as_posix() if shown.is_relative_to(PROJECT_ROOT)
               else str(folder))
        again = TUNING_SWEEPS.get(rel) or sweep_command(folder)
        if cost["stale"]:
            print(f"{rel}: {cost['stale']} of {cost['rows']} rows stale "
                  f"({', '.join(cost['detectors'])}); they took {cost['cell_seconds']:,.0f} "
                  f"cell seconds; again with `{again}`")
        else:
            print(f"{rel}: all {cost['rows']} rows current")
        total_rows += cost["stale"]
        total_seconds += cost["cell_seconds"]
        read += 1
    if not read:  # "nothing stale" would claim what no file was read for
        raise FileNotFoundError(f"no committed sweep folder under {PROJECT_ROOT}: name the "
                                "sweep folders to check")
    cores = available_cores()
    print(f"in all: {total_rows} stale rows, {total_seconds:,.0f} cell seconds, about "
          f"{total_seconds / cores / 3600:.1f} h on this machine's {cores} core(s) (the rows' "
          "own times, on the machines that made them: an estimate)")
    return 0


COMMANDS = {"run": _cmd_run, "report": _cmd_report, "detectors": _cmd_detectors,
            "datasets": _cmd_datasets, "validate": _cmd_validate, "tune": _cmd_tune,
            "regression": _cmd_regression, "ablation": _cmd_ablation,
            "scale-curves": _cmd_scale_curves, "rerun": _cmd_rerun,
            "moves": _cmd_moves, "stale": _cmd_stale}


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``pugan-bench``; returns the exit status."""
    args = _parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    from benchmarks.errors import OutputFolderError, ResumableInterrupt

    try:
        status = COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed reader is met here, not while exiting
        return status
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except OutputFolderError as exc:
        print(f"pugan-bench {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError) as exc:  # ConfigError is a ValueError
        print(f"pugan-bench {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        if isinstance(exc, ResumableInterrupt):
            print(exc, file=sys.stderr)
        elif args.command == "rerun":  # stopped before any cell ran
            print(f"interrupted before any cell ran; remove {args.dest} (rerun refuses a DEST "
                  "that exists) and give the same command again", file=sys.stderr)
        else:  # a command that keeps nothing when stopped
            print("interrupted", file=sys.stderr)
        return 130


#: the exit status of a command whose output was closed (128 + SIGPIPE, as a shell says)
BROKEN_PIPE_STATUS = 141


def _quiet_broken_pipe() -> int:
    """The reader of stdout went away (``pugan-bench detectors | head``): stop without a
    traceback. stdout is pointed at devnull so that flushing it at exit raises nothing."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor under stdout (a test's capture)
        pass
    return BROKEN_PIPE_STATUS


if __name__ == "__main__":
    sys.exit(main())
