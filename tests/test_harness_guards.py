"""Guards of the harness: plugin cache keys, read-only split arrays, a scheduler that cannot
be reached, a damaged results.csv, out-of-range limits and seeds, an interrupted run's log."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import PLUGIN, sweep_raw

from benchmarks.config import parse_config

#: a plugin whose factory returns the built-in isolation forest's class, under the built-in's
#: own name (override) and under a name of its own
OVERRIDE_PLUGIN = """\
from benchmarks.registry import register
from baselines.pyod_adapters import PyODDetector


@register("iforest", supervision="unsupervised", override=True)
@register("my-iforest", supervision="unsupervised")
def _iforest(random_state=None, **params):
    return PyODDetector("IForest", random_state=random_state, model_params=params)
"""


@pytest.fixture
def saved_registry():
    """The registry as it was, restored after the test (a plugin here replaces a built-in)."""
    import benchmarks.registry as registry
    from benchmarks.plugins import import_plugins

    import_plugins([PLUGIN])  # the built-ins and the test detectors registered first: their
    saved = dict(registry._REGISTRY)  # modules stay imported, so they would not come back
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved)


def iforest_keys(plugins, name="iforest") -> dict:
    """Cell key -> code version of a one-detector sweep over moons."""
    raw = sweep_raw([{"name": name, "params": {"n_estimators": 10}}], plugins=plugins)
    return {c.key: c.version for c in parse_config(raw).cells()}


def test_a_plugin_factory_of_a_built_in_class_has_cache_keys_of_its_own(tmp_path,
                                                                         saved_registry):
    from benchmarks.fingerprint import _digest_sources

    builtin = iforest_keys([PLUGIN])
    plugin = tmp_path / "over.py"
    plugin.write_text(OVERRIDE_PLUGIN)
    overridden = iforest_keys([PLUGIN, str(plugin)])
    own_name = iforest_keys([PLUGIN, str(plugin)], name="my-iforest")
    assert not set(builtin) & set(overridden)
    assert set(builtin.values()).isdisjoint(overridden.values())
    assert set(builtin.values()).isdisjoint(own_name.values())
    # editing the factory (another setting, here a comment) moves its keys
    plugin.write_text(OVERRIDE_PLUGIN.replace("    return", "    # contamination=0.2\n    return"))
    _digest_sources.cache_clear()
    edited = iforest_keys([PLUGIN, str(plugin)])
    assert not set(edited) & set(overridden)


def test_a_plugin_imports_a_module_beside_it_whose_class_is_in_its_keys(tmp_path,
                                                                       saved_registry,
                                                                       monkeypatch):
    """A plugin file's folder is on the import path, as with `python plugin.py`; a detector
    class defined in the module it imports is part of its cells' fingerprint."""
    import sys

    from benchmarks.fingerprint import _digest_sources

    monkeypatch.setattr(sys, "path", list(sys.path))  # the plugin's folder joins a copy
    helper = tmp_path / "pugan_test_helper_forest.py"
    helper.write_text("from baselines.pyod_adapters import PyODDetector\n\n\n"
                      "class HelperForest(PyODDetector):\n    pass\n")
    plugin = tmp_path / "uses_helper.py"
    plugin.write_text(
        "from benchmarks.registry import register\n"
        "from pugan_test_helper_forest import HelperForest\n\n\n"
        "@register('helper-iforest', supervision='unsupervised')\n"
        "def _forest(random_state=None, **params):\n"
        "    return HelperForest('IForest', random_state=random_state, model_params=params)\n")
    try:
        before = iforest_keys([PLUGIN, str(plugin)], name="helper-iforest")
        helper.write_text(helper.read_text() + "    # edited\n")
        _digest_sources.cache_clear()
        after = iforest_keys([PLUGIN, str(plugin)], name="helper-iforest")
    finally:
        sys.modules.pop("pugan_test_helper_forest", None)
    assert before and not set(before) & set(after)


def test_a_plugin_registration_setting_moves_its_keys(tmp_path, saved_registry):
    from benchmarks.registry import get_spec, register

    plugin = tmp_path / "mine.py"
    plugin.write_text(OVERRIDE_PLUGIN)
    before = iforest_keys([PLUGIN, str(plugin)], name="my-iforest")
    spec = get_spec("my-iforest")
    register("my-iforest", supervision="unsupervised", max_train_rows=50)(spec.factory)
    after = iforest_keys([PLUGIN, str(plugin)], name="my-iforest")
    assert not set(before) & set(after)


def test_a_built_in_and_its_override_do_not_share_cells_in_one_folder(tmp_path,
                                                                       saved_registry):
    from benchmarks.config import load_config
    from benchmarks.sweep import run_sweep

    out = tmp_path / "sweep"
    builtin = tmp_path / "builtin.yaml"
    _write(builtin, sweep_raw([{"name": "iforest", "params": {"n_estimators": 10}}]))
    first = run_sweep(load_config(builtin), out, n_jobs=1, isolate=False, progress=False)
    plugin = tmp_path / "over.py"
    plugin.write_text(OVERRIDE_PLUGIN)
    over = tmp_path / "over.yaml"
    _write(over, sweep_raw([{"name": "iforest", "params": {"n_estimators": 10}}],
                           plugins=[PLUGIN, str(plugin)]))
    second = run_sweep(load_config(over), out, n_jobs=1, isolate=False, progress=False)
    assert list(first["status"]) == list(second["status"]) == ["ok"]
    assert first["cell_id"][0] != second["cell_id"][0]
    assert len(list((out / "cells").glob("*.json"))) == 2  # the plugin's cell ran itself


def _write(path: Path, raw: dict) -> None:
    import yaml

    path.write_text(yaml.safe_dump(raw))


#: a detector that standardises its training rows in place: the caller's array changes
IN_PLACE_PLUGIN = """\
import numpy as np
from sklearn.base import BaseEstimator

from benchmarks.registry import register
from pugan.base import AnomalyDetectorMixin


class InPlaceStandardiser(AnomalyDetectorMixin, BaseEstimator):
    def __init__(self, *, quantile=0.9, random_state=None):
        self.quantile = quantile
        self.random_state = random_state

    def fit(self, X, y=None, *, known_normal=None):
        X -= X.mean(axis=0)
        X /= X.std(axis=0)
        self.n_features_in_ = X.shape[1]
        self.decision_scores_ = np.linalg.norm(X, axis=1)
        self.threshold_ = float(np.quantile(self.decision_scores_, self.quantile))
        self.labels_ = (self.decision_scores_ >= self.threshold_).astype(int)
        return self

    def decision_function(self, X):
        return np.linalg.norm(np.asarray(X, dtype=float), axis=1)


@register("t-in-place", supervision="unsupervised")
def _in_place(random_state=None, **params):
    return InPlaceStandardiser(random_state=random_state, **params)
"""


def test_a_detector_writing_into_x_without_isolation_leaves_the_cached_split_intact(tmp_path):
    import numpy as np

    from benchmarks import cell_runner
    from benchmarks.splits import make_pu_split

    plugin = tmp_path / "in_place.py"
    plugin.write_text(IN_PLACE_PLUGIN)
    raw = sweep_raw([{"name": "t-in-place", "params": {"quantile": [0.8, 0.9]}}],
                    plugins=[str(plugin)])
    config = parse_config(raw)
    cells = config.cells()
    assert len({c.split_key for c in cells}) == 1 < len(cells)  # the cells share one split
    for cell in cells:
        rec = cell_runner.run_cell(cell, isolate=False, plugins=config.plugins)
        assert rec["status"] == "ok", rec.get("error")
    cached = cell_runner._get_split(cells[0])
    fresh = make_pu_split(**cells[0].split_kwargs())
    np.testing.assert_array_equal(cached.X_train, fresh.X_train)


def _folder_with_a_kept_row(tmp_path) -> tuple[Path, Path]:
    """A sweep config and a folder holding its results.csv but no cells/ (a fresh clone)."""
    import shutil

    from benchmarks.config import load_config
    from benchmarks.sweep import run_sweep

    cfg = tmp_path / "s.yaml"
    _write(cfg, sweep_raw(["t-centroid"], plugins=[PLUGIN]))
    out = tmp_path / "sweep"
    run_sweep(load_config(cfg), out, n_jobs=1, isolate=False, progress=False)
    shutil.rmtree(out / "cells")
    return cfg, out


@pytest.mark.timeout(120)
def test_an_unreachable_scheduler_leaves_the_folder_as_it_was(tmp_path, monkeypatch, capsys):
    import benchmarks.sweep as sweep
    from benchmarks.cli import main

    monkeypatch.setattr(sweep, "SCHEDULER_TIMEOUT", "2s")
    cfg, out = _folder_with_a_kept_row(tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code = main(["-q", "run", str(cfg), "--out", str(out), "--backend", "dask",
                 "--scheduler", "tcp://127.0.0.1:9", "--no-progress"])
    assert code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no cells/, same bytes


def test_a_cluster_that_fails_to_start_writes_nothing_at_the_close(tmp_path, monkeypatch):
    import benchmarks.sweep as sweep
    from benchmarks.config import load_config

    cfg, out = _folder_with_a_kept_row(tmp_path)
    (out / "results.csv").write_text((out / "results.csv").read_text().replace(",ok,", ",failed,"))
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def no_cluster(scheduler, n_jobs):
        raise OSError("the cluster did not start")

    monkeypatch.setattr(sweep, "_dask_client", no_cluster)
    with pytest.raises(OSError, match="did not start"):
        sweep.run_sweep(load_config(cfg), out, backend="dask", progress=False)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before  # results.csv, config.yaml and run.log as they were


def test_an_unreadable_results_csv_is_named_in_a_warning(tmp_path, caplog):
    from benchmarks.results import previous_records

    path = tmp_path / "results.csv"
    path.write_bytes(b"cell_id,status\nabc,ok\n\xff\xfe\x00broken\n")
    with caplog.at_level("WARNING", logger="benchmarks.results"):
        assert previous_records(path) == {}
    assert str(path) in caplog.text and "cannot be read" in caplog.text
    with pytest.raises(ValueError, match="cannot be read.*without --keep-rows"):
        previous_records(path, strict=True)


def test_keep_rows_stops_on_an_unreadable_results_csv(tmp_path, capsys):
    from benchmarks.cli import main

    cfg, out = _folder_with_a_kept_row(tmp_path)
    damaged = (out / "results.csv").read_bytes() + b"\xff\xfe broken\n"
    (out / "results.csv").write_bytes(damaged)
    code = main(["-q", "run", str(cfg), "--out", str(out), "--keep-rows", "--no-progress"])
    assert code == 2
    assert "results.csv cannot be read" in capsys.readouterr().err
    assert (out / "results.csv").read_bytes() == damaged
    assert not (out / "cells").exists()


@pytest.mark.parametrize("time_limit", [2_147_484, 1e9])
def test_a_time_limit_beyond_the_wait_an_isolated_cell_can_have_is_refused(time_limit):
    from benchmarks.config import ConfigError, with_time_limit

    with pytest.raises(ConfigError, match="time_limit must be at most 2147483 seconds"):
        parse_config(sweep_raw(["t-centroid"], time_limit=time_limit))
    config = parse_config(sweep_raw(["t-centroid"], time_limit=2_147_483))
    assert config.time_limit == 2_147_483
    with pytest.raises(ConfigError, match="--time-limit must be at most 2147483 seconds"):
        with_time_limit(config, time_limit)


def test_the_time_limit_option_names_the_bound_and_exits_2(tmp_path, capsys):
    from benchmarks.cli import main

    cfg = tmp_path / "s.yaml"
    _write(cfg, sweep_raw(["t-centroid"]))
    code = main(["run", str(cfg), "--out", str(tmp_path / "o"), "--time-limit", "3e6",
                 "--no-progress"])
    assert code == 2
    assert "--time-limit must be at most 2147483 seconds" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("seed", [2**32, 2**63])
def test_a_seed_beyond_numpys_range_is_refused(seed):
    from benchmarks.config import ConfigError

    with pytest.raises(ConfigError, match=r"seeds must be at most 4294967295 \(2\*\*32 - 1"):
        parse_config(sweep_raw(["t-centroid"], seeds=(0, seed)))
    assert parse_config(sweep_raw(["t-centroid"], seeds=(2**32 - 1,))).seeds == (2**32 - 1,)


def test_the_summary_line_of_an_interrupted_run_says_so():
    import pandas as pd

    from benchmarks.sweep import summary_line

    frame = pd.DataFrame({"status": ["ok", "failed"]})
    line = summary_line("s", frame, 5, interrupted=True, utilisation="u")
    assert line.startswith("sweep 's' interrupted: 2 of 5 cells have a result (1 ok, 1 failed)")
    assert "done" not in line
    assert summary_line("s", frame, 2, interrupted=False, utilisation="u") == \
        "sweep 's' done: 1 ok, 1 failed; u"
    # two labels naming one cell (one cell_id): a cell counts once, as the start line does
    shared = pd.DataFrame({"status": ["ok", "ok", "failed"], "cell_id": ["a", "a", "b"]})
    assert summary_line("s", shared, 3, interrupted=True, utilisation="u").startswith(
        "sweep 's' interrupted: 2 of 3 cells have a result (1 ok, 1 failed)")


def test_an_interrupted_run_logs_interrupted_not_done(tmp_path, monkeypatch):
    import benchmarks.sweep as sweep
    from benchmarks.config import load_config

    cfg = tmp_path / "s.yaml"
    _write(cfg, sweep_raw(["t-centroid"], seeds=(0, 1, 2)))
    real = sweep._dispatch

    def stop_after_one(pending, *args, **kwargs):
        real(pending[:1], *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "_dispatch", stop_after_one)
    out = tmp_path / "sweep"
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(load_config(cfg), out, n_jobs=1, isolate=False, progress=False)
    last = (out / "run.log").read_text().splitlines()[-1]
    assert "sweep 't' interrupted: 1 of 3 cells have a result (1 ok)" in last
    # the interrupt carries the way back; a forced run resumes without --force, which
    # would otherwise compute the kept cell again
    import pickle

    from benchmarks.errors import ResumableInterrupt

    with pytest.raises(ResumableInterrupt) as stopped:
        sweep.run_sweep(load_config(cfg), out, n_jobs=1, isolate=False, progress=False,
                        force=True)
    assert stopped.value.resume == sweep.FORCED_COMMAND
    assert stopped.value.cells == out / "cells"
    copy = pickle.loads(pickle.dumps(stopped.value))
    assert str(copy) == str(stopped.value) == (
        f"interrupted; finished cells are kept in {out / 'cells'}; resume with the same "
        "command without --force")


def test_a_plugins_rows_are_current_to_the_stale_check(tmp_path, saved_registry):
    """The sweep's keys and the report's stale check fingerprint a plugin's detector the same
    way (by its registered name), so its fresh rows are not called stale."""
    from benchmarks.config import load_config
    from benchmarks.report import load_results, mark_stale
    from benchmarks.sweep import run_sweep

    plugin = tmp_path / "over.py"
    plugin.write_text(OVERRIDE_PLUGIN)
    config = tmp_path / "over.yaml"
    _write(config, sweep_raw([{"name": "my-iforest", "params": {"n_estimators": 10}}],
                             plugins=[PLUGIN, str(plugin)]))
    run_sweep(load_config(config), tmp_path / "sweep", n_jobs=1, isolate=False, progress=False)
    marked = mark_stale(load_results(tmp_path / "sweep"))
    assert len(marked) == 1 and not marked["stale"].any()
