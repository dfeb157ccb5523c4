"""The sweep harness: run every cell of a config, isolated, cached, in parallel.

The documented entry points, importable from here::

    from benchmarks.config import load_config
    from benchmarks.harness import run_sweep
    run_sweep(load_config("benchmarks/configs/smoke.yaml"), "results/smoke", n_jobs=2)

The work is done by one module per job:

- :mod:`benchmarks.sweep`: the sweep driver (:func:`run_sweep`): pending cells, dispatch
  through joblib (loky or Dask), each record stored as it arrives;
- :mod:`benchmarks.scheduling`: the order pending cells start in (longest expected first);
- :mod:`benchmarks.cell_runner`: one cell in a worker (:func:`run_cell`): its split, the skip
  rules, fit and score, its record;
- :mod:`benchmarks.isolation`: a call in a child process (forkserver or subprocess) under a
  time limit, killed with its process group, its output captured;
- :mod:`benchmarks.cache`: the cell files of a sweep folder (:func:`read_cell_scores`);
- :mod:`benchmarks.results`: the results frame, results.csv and results.parquet.
"""

from __future__ import annotations

from benchmarks.cache import read_cell_scores
from benchmarks.cell_runner import run_cell
from benchmarks.sweep import run_sweep

__all__ = ["read_cell_scores", "run_cell", "run_sweep"]
