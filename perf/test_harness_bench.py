"""The harness's own cost per cell: a sweep of trivial cells (``perf-trivial``, microseconds of
fit and scoring) run isolated (one forkserver child per cell, the default) and in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench_sizes import ROUNDS

from benchmarks.config import parse_config
from benchmarks.harness import run_sweep

N_CELLS = 20
#: the ``perf-trivial`` detector, loaded as a plugin file
TRIVIAL = str(Path(__file__).with_name("trivial.py"))


def _config():
    return parse_config({
        "name": "perf-harness", "seeds": N_CELLS, "anomaly_ratios": [0.1],
        "labelled_fractions": [0.5], "plugins": [TRIVIAL],
        "datasets": [{"dataset": "moons", "split": {"n_normal": 500},
                      "dataset_params": {"n_samples": 2000}}],
        "detectors": ["perf-trivial"],
    })


@pytest.mark.parametrize("isolate", [True, False], ids=["isolated", "in-process"])
def test_harness_overhead_per_cell(benchmark, tmp_path, isolate):
    config = _config()
    benchmark.group = "harness"
    benchmark.extra_info.update(cells=N_CELLS, isolate=isolate, n_jobs=1)
    runs = iter(range(10**6))

    def sweep():
        return run_sweep(config, tmp_path / f"run{next(runs)}", n_jobs=1, force=True,
                         isolate=isolate, progress=False)

    frame = benchmark.pedantic(sweep, rounds=max(ROUNDS, 2), iterations=1, warmup_rounds=0)
    assert (frame["status"] == "ok").all() and len(frame) == N_CELLS
    benchmark.extra_info["seconds_per_cell"] = benchmark.stats.stats.mean / N_CELLS
