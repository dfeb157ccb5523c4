"""Sweep config validation: every bad input is refused before any cell runs, with a clear message."""

import re
from pathlib import Path

import pytest
from helpers import PLUGIN

from benchmarks.cells import derive_seed
from benchmarks.config import ConfigError, load_config, parse_config
from benchmarks.splits import PRESETS


def base(**over):
    raw = {
        "seeds": [0, 1],
        "anomaly_ratios": [0.2],
        "labelled_fractions": [0.5],
        "plugins": [PLUGIN],
        "datasets": [{"dataset": "moons", "split": {"n_normal": 200}}],
        "detectors": ["t-centroid"],
    }
    raw.update(over)
    return raw


def test_valid_config_expands_to_the_product():
    cfg = parse_config(base(detectors=["t-centroid", "t-oracle"], labelled_fractions=[0.2, 1.0]))
    cells = cfg.cells()
    assert len(cells) == 1 * 2 * 2 * 2  # ratio x fractions x seeds x detectors
    assert {c.labelled_fraction for c in cells} == {0.2, 1.0}


@pytest.mark.parametrize("over, match", [
    ({"bogus": 1}, r"config: unknown key\(s\) \['bogus'\]"),
    ({"datasets": [{"dataset": "moons", "splitt": {}}]}, r"datasets\[0\]: unknown key\(s\) \['splitt'\]"),
    ({"detectors": [{"name": "t-centroid", "param": {}}]}, r"detectors\[0\]: unknown key\(s\) \['param'\]"),
    ({"datasets": ["no-such-data"]}, r"unknown dataset 'no-such-data'; known datasets: moons"),
    ({"datasets": [{"preset": "moons-papr"}]}, r"unknown preset 'moons-papr'"),
    ({"detectors": ["no-such-detector"]}, r"detectors\[0\]: unknown detector 'no-such-detector'; known"),
    ({"detectors": [{"name": "t-centroid", "params": {"nope": 1}}]}, r"cannot build detector 't-centroid'.*nope"),
    ({"anomaly_ratios": []}, r"anomaly_ratios is empty"),
    ({"labelled_fractions": []}, r"labelled_fractions is empty"),
    ({"seeds": []}, r"seeds must be a non-empty list"),
    ({"datasets": []}, r"datasets must be a non-empty list"),
    ({"detectors": []}, r"detectors must be a non-empty list"),
    ({"anomaly_ratios": [0.0]}, r"anomaly_ratios must be in \(0, 1\); got 0.0"),
    ({"anomaly_ratios": [1.0]}, r"anomaly_ratios must be in \(0, 1\); got 1.0"),
    ({"anomaly_ratios": [-0.1]}, r"anomaly_ratios must be in \(0, 1\)"),
    ({"anomaly_ratios": ["a"]}, r"anomaly_ratios must hold numbers"),
    ({"labelled_fractions": [0]}, r"labelled_fractions must be in \(0, 1\]; got 0"),
    ({"labelled_fractions": [1.5]}, r"labelled_fractions must be in \(0, 1\]; got 1.5"),
    ({"anomaly_ratios": [0.1, 0.1]}, r"duplicate values"),
    ({"seeds": [-1]}, r"seeds must be non-negative integers"),
    ({"seeds": 0}, r"seeds: a count must be >= 1"),
    ({"n_jobs": 0}, r"n_jobs must be a positive integer or -1"),
    ({"time_limit": -5}, r"time_limit must be a positive number"),
    ({"plugins": ["/no/such/plugin.py"]}, r"plugins: file .* not found"),
    ({"datasets": [{"dataset": "moons", "split": {"dedupe": 1}}]},
     r"split dedupe must be one of \[True, False\]; got 1"),
    ({"detectors": ["t-centroid", {"name": "t-centroid", "params": {"quantile": []}}]},
     r"detectors\[1\]: params: quantile is an empty grid"),
    ({"plugins": ["no_such_module_xyz"]}, r"cannot import module 'no_such_module_xyz'"),
    ({"datasets": [{"dataset": "moons", "split": {"anomaly_ratio": 0.1}}]}, r"unknown split argument\(s\) \['anomaly_ratio'\].*axes"),
    ({"datasets": [{"dataset": "moons", "split": {"n_normals": 3}}]}, r"unknown split argument\(s\) \['n_normals'\]"),
    ({"datasets": [{"preset": "moons-paper", "anomaly_ratios": [0.1]}]}, r"preset 'moons-paper' fixes its anomaly ratio"),
    ({"datasets": [{"preset": "moons-paper", "dataset": "moons"}]}, r"exactly one of 'preset' or 'dataset'"),
    ({"datasets": ["moons", "moons"]}, r"duplicate dataset label\(s\) \['moons'\]"),
    ({"detectors": ["t-centroid", "t-centroid"]}, r"duplicate detector label\(s\)"),
    ({"detectors": [{"params": {}}]}, r"missing key 'name'"),
    ({"datasets": ["file:/no/such/file.csv"]}, r"data file '/no/such/file.csv' not found"),
    # a value of the wrong kind is named, not a TypeError from deep inside
    ({"datasets": [{"preset": ["moons-paper"]}]}, r"preset must be a preset's name"),
    ({"detectors": [{"name": ["t-centroid"]}]}, r"name must be a registry name"),
    ({"datasets": [{"dataset": "file", "dataset_params": {"path": 5}}]},
     r"dataset_params path must be a string"),
    ({"detectors": [{"name": "t-centroid", "params": {"quantile": [0.9, 0.9]}}]},
     r"params: quantile lists 0.9 more than once"),
    ({"datasets": [{"dataset": "moons", "anomaly_ratios": None}]},
     r"anomaly_ratios is null; give a list, or remove the key"),
    ({"description": None}, r"description must be a string; got None"),
])
def test_bad_config_is_refused(over, match):
    with pytest.raises(ConfigError, match=match):
        parse_config(base(**over))


def test_a_key_yaml_read_as_a_value_is_named_with_why():
    """YAML reads ``on:`` as True: the key is named, with the reason, not a TypeError from
    sorting it beside the string keys."""
    raw = {**base(), True: 1, "nmae": "x"}
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['nmae', True\].*YAML reads on"):
        parse_config(raw)


def test_a_plugin_path_that_is_no_python_file_is_named(tmp_path):
    """Python finds no loader for such a file; the config names it instead of a traceback."""
    notes = tmp_path / "plugin_notes"
    notes.write_text("not python\n")
    with pytest.raises(ConfigError, match=r"plugins: '.*plugin_notes' is not a Python file"):
        parse_config(base(plugins=[str(notes)]))


def test_missing_axes_for_a_plain_dataset():
    raw = base()
    del raw["anomaly_ratios"]
    with pytest.raises(ConfigError, match=r"dataset 'moons' needs anomaly_ratios"):
        parse_config(raw)


def test_missing_required_keys():
    for key in ("datasets", "detectors", "seeds"):
        raw = base()
        del raw[key]
        with pytest.raises(ConfigError, match=f"missing required key '{key}'"):
            parse_config(raw)


def test_a_preset_fixes_ratio_and_fraction_and_ignores_the_axes():
    cfg = parse_config(base(datasets=["moons-paper", {"dataset": "moons"}],
                            anomaly_ratios=[0.1, 0.2]))
    cells = cfg.cells()
    preset_cells = [c for c in cells if c.preset == "moons-paper"]
    assert {c.anomaly_ratio for c in preset_cells} == {PRESETS["moons-paper"]["anomaly_ratio"]}
    assert {c.labelled_fraction for c in preset_cells} == {PRESETS["moons-paper"]["labelled_fraction"]}
    assert len(preset_cells) == 2  # seeds only
    assert len([c for c in cells if c.preset is None]) == 4  # 2 ratios x 2 seeds
    kw = preset_cells[0].split_kwargs()
    assert kw["dataset"] == "moons" and kw["test_size"] == PRESETS["moons-paper"]["test_size"]
    assert kw["dataset_params"] == PRESETS["moons-paper"]["dataset_params"]


def test_preset_overrides_and_label():
    cfg = parse_config(base(datasets=[{"preset": "kddcup99-low", "label": "kdd-small",
                                       "split": {"n_normal": 3000}}]))
    cell = cfg.cells()[0]
    assert cell.dataset == "kdd-small" and cell.preset == "kddcup99-low"
    assert cell.split_params["n_normal"] == 3000
    assert cell.split_params["test_size"] == PRESETS["kddcup99-low"]["test_size"]


def test_seeds_keys_and_labels():
    cfg = parse_config(base(detectors=["t-centroid", {"name": "t-centroid", "params":
                                                      {"quantile": 0.9}}]))
    a, b = [c for c in cfg.cells() if c.seed == 0]
    assert b.detector == "t-centroid(quantile=0.9)"
    assert a.split_seed == b.split_seed  # the split never depends on the detector
    assert a.model_seed != b.model_seed and a.key != b.key
    assert a.split_seed == derive_seed(a.dataset_name, a.dataset_params_json, a.split_json,
                                       a.anomaly_ratio, a.labelled_fraction, a.seed)
    assert a.model_seed == derive_seed(a.split_seed, a.detector_name, a.detector_params_json)
    # numpy scalars on the axes draw the splits of the Python numbers the key reads
    import dataclasses

    import numpy as np
    numpy_axes = dataclasses.replace(a, anomaly_ratio=np.float64(a.anomaly_ratio),
                                     labelled_fraction=np.float64(a.labelled_fraction),
                                     seed=np.int64(a.seed))
    assert (numpy_axes.key, numpy_axes.split_seed, numpy_axes.model_seed) == \
        (a.key, a.split_seed, a.model_seed)
    # a display label is not part of the cache key
    relabelled = parse_config(base(detectors=[{"name": "t-centroid", "label": "centroid"}]))
    c = [x for x in relabelled.cells() if x.seed == 0][0]
    assert c.detector == "centroid" and c.key == a.key
    # seeds as a count
    assert parse_config(base(seeds=3)).seeds == (0, 1, 2)


def test_test_params_are_merged_under_params():
    from benchmarks.registry import get_spec

    cfg = parse_config(base(detectors=[{"name": "t-centroid", "test_params": True}]))
    assert cfg.detectors[0].params == {}  # t-centroid has no test params
    tiny = get_spec("iforest").test_params
    assert tiny == {"n_estimators": 20}  # a detector that has some: the merge is exercised

    def params(**entry):
        return parse_config(base(detectors=[{"name": "iforest", **entry}])).detectors[0].params

    assert params() == {} and params(test_params=False) == {}
    assert params(test_params=True) == tiny
    # merged under params: a key of both takes the user's value, the others are kept
    assert params(test_params=True, params={"threshold_quantile": 0.9}) == {
        "n_estimators": 20, "threshold_quantile": 0.9}
    assert params(test_params=True, params={"n_estimators": 7}) == {"n_estimators": 7}
    with pytest.raises(ConfigError, match="test_params must be true or false"):
        parse_config(base(detectors=[{"name": "t-centroid", "test_params": "yes"}]))


def test_user_file_relative_to_the_config_folder(tmp_path):
    (tmp_path / "data.csv").write_text("a,b,y\n1,2,0\n3,4,1\n")
    (tmp_path / "sweep.yaml").write_text(
        "seeds: [0]\nanomaly_ratios: [0.2]\nlabelled_fractions: [0.5]\n"
        f"plugins: [{PLUGIN}]\n"
        "datasets:\n  - dataset: file:data.csv\n    dataset_params: {label_column: y}\n"
        "detectors: [t-centroid]\n")
    cfg = load_config(tmp_path / "sweep.yaml")
    assert cfg.name == "sweep"
    assert cfg.datasets[0].dataset == f"file:{(tmp_path / 'data.csv').resolve()}"


def test_a_kdd_file_is_resolved_and_keyed_by_its_content(tmp_path):
    """A file given to the bundled KDD loader is found from the config's folder and its
    digest joins the cells' key, as a user's file does; the full file without a path (an
    environment variable or a download, which no key records) is refused."""
    import hashlib

    data = tmp_path / "kdd.gz"
    data.write_bytes(b"not read while parsing")

    def kdd(**params):
        raw = base(datasets=[{"dataset": "kddcup99", "dataset_params": params}])
        return parse_config(raw, base_dir=tmp_path).datasets[0].dataset_params

    got = kdd(path="kdd.gz")
    assert got["path"] == str(data.resolve())
    assert got["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    with pytest.raises(ConfigError, match="data file 'missing.gz' not found"):
        kdd(path="missing.gz")
    with pytest.raises(ConfigError, match="full: true needs dataset_params path"):
        kdd(full=True)
    assert kdd() == {}  # the bundled file: nothing to resolve


def test_the_same_user_file_in_two_folders_is_the_same_dataset(tmp_path):
    """Seeds and cache keys follow the file's content, not its path: a copy of the data and
    config elsewhere (another clone) draws the same splits and model seeds and reuses the
    same cells; a changed file is another dataset."""
    cells = {}
    for folder, extra in (("one", ""), ("two", ""), ("three", "5,6,0\n")):
        where = tmp_path / folder
        where.mkdir()
        (where / "data.csv").write_text("a,b,y\n1,2,0\n3,4,1\n" + extra)
        (where / "sweep.yaml").write_text(
            "seeds: [0]\nanomaly_ratios: [0.2]\nlabelled_fractions: [0.5]\n"
            f"plugins: [{PLUGIN}]\n"
            "datasets:\n  - dataset: file:data.csv\n    dataset_params: {label_column: y}\n"
            "detectors: [t-centroid]\n")
        cells[folder] = load_config(where / "sweep.yaml").cells()[0]
    one, two, three = cells["one"], cells["two"], cells["three"]
    assert one.dataset_name != two.dataset_name   # the paths differ ...
    assert (one.split_seed, one.model_seed, one.key) == (two.split_seed, two.model_seed,
                                                         two.key)   # ... the data do not
    assert one.split_key == two.split_key
    assert one.split_seed != three.split_seed and one.key != three.key


def test_load_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("seeds: [0\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(listy)


def test_shipped_configs_are_valid():
    folder = Path(__file__).resolve().parent.parent / "benchmarks" / "configs"
    configs = sorted(folder.glob("*.yaml"))
    for path in configs:
        cfg = load_config(path)
        assert cfg.cells(), path


def test_editing_a_detector_source_changes_its_cache_keys(tmp_path):
    from benchmarks.fingerprint import _digest_sources

    plugin = tmp_path / "plug.py"
    plugin.write_text(Path(PLUGIN).read_text().replace('register("t-', 'register("u-'))
    raw = base(plugins=[PLUGIN, str(plugin)], detectors=["u-centroid", "t-centroid"])
    first = {c.detector: c.key for c in parse_config(raw).cells() if c.seed == 0}
    plugin.write_text(plugin.read_text() + "\n# an edit\n")
    _digest_sources.cache_clear()
    second = {c.detector: c.key for c in parse_config(raw).cells() if c.seed == 0}
    assert first["u-centroid"] != second["u-centroid"]  # its source changed
    assert first["t-centroid"] == second["t-centroid"]  # another package's did not
    cell = parse_config(raw).cells()[0]
    assert "+" in cell.version  # "<package version>+<code fingerprint>"


@pytest.mark.parametrize("split, message", [
    ({"test_size": 2.0}, "split test_size must be a number in (0, 1)"),
    ({"n_normal": -5}, "split n_normal must be an integer >= 2"),
    ({"n_normal": "abc"}, "split n_normal must be an integer >= 2"),
    ({"scale": "zscore"}, "split scale must be one of"),
    ({"pca": 0}, "split pca must be"),
])
def test_impossible_split_values_are_refused_before_any_cell_runs(split, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(base(datasets=[{"dataset": "moons", "split": split}]))


@pytest.mark.parametrize("params, message", [({"n_samples": -10}, "at least 1"),
                                             ({"noise": float("nan")}, "finite number")])
def test_impossible_dataset_params_are_refused(params, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(base(datasets=[{"dataset": "moons", "dataset_params": params}]))
