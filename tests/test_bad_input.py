"""Bad configs, data files and model files: each one a clear error naming the problem."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import PLUGIN

from benchmarks.config import MAX_SEEDS, ConfigError, load_config, parse_config
from benchmarks.datasets import DatasetError
from benchmarks.datasets.core import sha256_of
from benchmarks.datasets.userfile import load_file
from benchmarks.harness import run_sweep
from benchmarks.yamlfile import MAX_YAML_NODES


def base(**over):
    raw = {"seeds": [0], "anomaly_ratios": [0.2], "labelled_fractions": [0.5],
           "plugins": [PLUGIN], "datasets": [{"dataset": "moons", "split": {"n_normal": 200}}],
           "detectors": ["t-centroid"]}
    raw.update(over)
    return raw


def _user_csv(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    n = 400
    y = (rng.random(n) < 0.3).astype(int)
    X = rng.standard_normal((n, 3)) + (y[:, None] * 3 if seed == 0 else 0)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["label"] = y
    frame.to_csv(path, index=False)
    return path


# --- cache keys follow the data and the code -------------------------------------------------

def test_replacing_a_user_file_reruns_its_cells(tmp_path):
    data = _user_csv(tmp_path / "mine.csv", seed=0)
    raw = base(datasets=[{"dataset": "file:mine.csv", "split": {"n_normal": 150}}])
    (tmp_path / "cfg.yaml").write_text(__import__("yaml").safe_dump(raw))
    first = run_sweep(load_config(tmp_path / "cfg.yaml"), tmp_path / "out", progress=False)
    _user_csv(data, seed=1)  # same path, other content: anomalies no longer separable
    second = run_sweep(load_config(tmp_path / "cfg.yaml"), tmp_path / "out", progress=False)
    assert first["cell_id"].item() != second["cell_id"].item()
    assert first["auroc"].item() > 0.9 and second["auroc"].item() < 0.8


def test_a_user_file_path_is_taken_from_the_config_folder_only(tmp_path, monkeypatch):
    (tmp_path / "cfgdir").mkdir()
    _user_csv(tmp_path / "mine.csv", seed=0)  # in the working folder, not beside the config
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfgdir" / "c.yaml").write_text(
        "seeds: [0]\nanomaly_ratios: [0.2]\nlabelled_fractions: [0.5]\n"
        "datasets: [{dataset: 'file:mine.csv'}]\ndetectors: [iforest]\n")
    with pytest.raises(ConfigError, match="config's folder"):
        load_config(tmp_path / "cfgdir" / "c.yaml")


def test_an_upper_case_sha256_is_accepted(tmp_path):
    data = _user_csv(tmp_path / "mine.csv", seed=0)
    digest = sha256_of(data).upper()
    assert load_file(data, sha256=digest).n_samples == 400
    cfg = parse_config(base(datasets=[{"dataset": f"file:{data}",
                                       "dataset_params": {"sha256": digest}}]),
                       base_dir=tmp_path)
    assert cfg.datasets[0].dataset_params["sha256"] == digest.lower()


def test_the_code_fingerprint_covers_the_threshold_rule_and_the_wrappers(monkeypatch):
    import benchmarks.fingerprint as fingerprint
    from benchmarks.registry import make_detector

    det = make_detector("iforest", random_state=0)
    before = fingerprint.code_fingerprint(det)
    root = Path(fingerprint.__file__).resolve().parent.parent
    for changed in (root / "pugan" / "base.py", root / "benchmarks" / "detectors.py"):
        real = fingerprint._digest_sources.__wrapped__

        def digest(path, changed=changed, real=real):
            extra = "edited" if Path(path) == changed else ""
            return real(path) + extra

        monkeypatch.setattr(fingerprint, "_digest_sources", digest)
        assert fingerprint.code_fingerprint(det) != before, changed
        monkeypatch.undo()


# --- configs ------------------------------------------------------------------------------

@pytest.mark.parametrize("limit", [math.inf, math.nan])
def test_non_finite_time_limits_are_refused(limit):
    with pytest.raises(ConfigError, match="time_limit"):
        parse_config(base(time_limit=limit))


def test_unknown_dataset_params_are_refused():
    with pytest.raises(ConfigError, match=r"unknown dataset_params \['nosie'\].*noise"):
        parse_config(base(datasets=[{"dataset": "moons", "dataset_params": {"nosie": 0.1}}]))


@pytest.mark.parametrize("params, named", [
    ({"noise": "0.1"}, r"'noise' of dataset 'moons' must be a number; got '0.1'"),
    ({"noise": True}, r"'noise' of dataset 'moons' must be a number; got True"),
    ({"n_samples": "1e4"}, r"'n_samples' of dataset 'moons' must be an integer; got '1e4'"),
    ({"n_samples": 1000.0}, r"'n_samples' of dataset 'moons' must be an integer; got 1000.0"),
])
def test_dataset_params_of_the_wrong_type_are_refused(params, named):
    with pytest.raises(ConfigError, match=r"datasets\[0\]: dataset_params " + named):
        parse_config(base(datasets=[{"dataset": "moons", "dataset_params": params}]))


@pytest.mark.parametrize("key", ["feature_columns", "categorical"])
def test_a_string_for_a_list_of_columns_is_refused(tmp_path, key):
    _user_csv(tmp_path / "mine.csv", seed=0)
    (tmp_path / "c.yaml").write_text(
        "seeds: [0]\nanomaly_ratios: [0.2]\nlabelled_fractions: [0.5]\n"
        f"datasets: [{{dataset: 'file:mine.csv', dataset_params: {{{key}: abc}}}}]\n"
        "detectors: [iforest]\n")
    with pytest.raises(ConfigError, match=rf"dataset_params '{key}' of dataset 'file:.*mine"
                                          r"\.csv' must be a list such as \[a, b\]; got 'abc'"):
        load_config(tmp_path / "c.yaml")
    listed = parse_config(base(datasets=[{"dataset": "file:mine.csv",
                                          "dataset_params": {key: ["a", "b"]}}]),
                          base_dir=tmp_path)
    assert listed.datasets[0].dataset_params[key] == ["a", "b"]


def test_duplicate_yaml_keys_are_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("seeds: [0]\nseeds: [1]\nanomaly_ratios: [0.2]\nlabelled_fractions: [0.5]\n"
                    "datasets: [moons]\ndetectors: [iforest]\n")
    with pytest.raises(ConfigError, match=r"duplicate key 'seeds' \(line 2\)"):
        load_config(path)


@pytest.mark.timeout(60)  # expanding the bomb would take far longer: a hang fails here
def test_an_alias_bomb_fails_fast(tmp_path):
    """Nine levels of nine aliases expand to 9**9 values: refused from the node count
    before anything is expanded, with the limit and the way out in the message."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append("datasets: *a8\nseeds: [0]\ndetectors: [iforest]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=(
            rf"bomb\.yaml: the YAML's aliases \(&/\*\) expand it by more than {MAX_YAML_NODES} "
            r"values; write it out plainly")):
        load_config(path)


def test_only_what_aliases_add_counts_toward_the_bound(tmp_path, monkeypatch):
    """The files the suite writes itself (a tuning file, a sweep's resolved config) spell out
    every grid point: however long, without aliases they read; a merge key reads too."""
    import benchmarks.yamlfile as yamlfile

    monkeypatch.setattr(yamlfile, "MAX_YAML_NODES", 50)
    path = tmp_path / "long.yaml"
    path.write_text("items: [" + ", ".join(str(i) for i in range(200)) + "]\n"
                    "base: &b {k: 1, j: 2}\nmerged: {<<: *b, k: 3}\n")
    doc = yamlfile.read_yaml_file(path, "")
    assert len(doc["items"]) == 200 and doc["merged"] == {"k": 3, "j": 2}
    path.write_text("a: &a [" + ", ".join(["x"] * 30) + "]\nb: [*a, *a]\n")
    with pytest.raises(ConfigError, match="aliases .* expand it by more than 50 values"):
        yamlfile.read_yaml_file(path, "")
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    with pytest.raises(ConfigError, match=r"folder\.yaml: cannot be read"):
        yamlfile.read_yaml_file(folder, "")


@pytest.mark.timeout(60)  # building a billion seeds' cells would not finish: a hang fails here
def test_huge_seed_counts_fail_fast():
    with pytest.raises(ConfigError, match=(
            rf"seeds: a count of 1000000000 is more than {MAX_SEEDS}; a sweep that large is "
            "almost certainly a typo")):
        parse_config(base(seeds=10**9))


def test_n_jobs_far_above_the_cores_is_refused(tmp_path):
    import os

    cfg = parse_config(base())
    with pytest.raises(ConfigError, match="far above"):
        run_sweep(cfg, tmp_path / "out", n_jobs=1000 * (os.cpu_count() or 1), progress=False)


def test_a_plugin_that_fails_to_import_exits_2(tmp_path, capsys):
    from benchmarks.cli import main

    plugin = tmp_path / "broken.py"
    plugin.write_text("raise RuntimeError('boom at import')\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"plugins: ['{plugin}']\nseeds: [0]\nanomaly_ratios: [0.2]\n"
                   "labelled_fractions: [0.5]\ndatasets: [moons]\ndetectors: [iforest]\n")
    assert main(["validate", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "broken.py" in err and "boom at import" in err


# --- data files ---------------------------------------------------------------------------

def test_duplicated_column_names_are_an_error(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,label,label\n1,0,0\n2,1,1\n3,0,0\n")
    with pytest.raises(DatasetError, match=r"duplicated column name\(s\) \['label'\]"):
        load_file(path)


def test_header_only_and_label_only_files(tmp_path):
    header = tmp_path / "h.csv"
    header.write_text("a,b,label\n")
    with pytest.raises(DatasetError, match="no rows"):
        load_file(header)
    label_only = tmp_path / "l.csv"
    label_only.write_text("label\n0\n1\n0\n")
    with pytest.raises(DatasetError, match="no feature columns"):
        load_file(label_only)


def test_one_dimensional_x_in_an_npz(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.arange(5.0), label=np.array([0, 1, 0, 0, 1]))
    with pytest.raises(DatasetError, match="must be 2-D"):
        load_file(path)


def test_values_that_would_overflow_when_scaled_name_the_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,big,label\n1,1e300,0\n2,3,1\n3,4,0\n")
    with pytest.raises(DatasetError, match="column 'big'.*overflow"):
        load_file(path)


def test_pugan_load_of_truncated_or_foreign_files(tmp_path):
    from pugan import PUGAN

    truncated = tmp_path / "t.pt"
    truncated.write_bytes(b"PK\x03\x04 not a whole zip")
    foreign = tmp_path / "f.pt"
    foreign.write_text("hello, not a model")
    for path in (truncated, foreign):
        with pytest.raises(ValueError, match="not a readable PUGAN file"):
            PUGAN.load(path)


def test_validate_names_unfillable_blocks_the_count_and_a_time(tmp_path, capsys):
    """A block the data cannot fill is what ``run`` records as skipped cells: validate names
    it and warns, and the config is still valid (the shipped benchmark has such blocks)."""
    from benchmarks.cli import main

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((200, 2)), columns=["a", "b"])
    frame["label"] = (np.arange(200) < 10).astype(int)  # 10 anomalies
    frame.to_csv(tmp_path / "few.csv", index=False)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("seeds: 3\nanomaly_ratios: [0.05, 0.9]\nlabelled_fractions: [0.5]\n"
                   "datasets: [{dataset: 'file:few.csv'}]\ndetectors: [iforest, pugan]\n")
    assert main(["validate", str(cfg)]) == 0
    out, err = capsys.readouterr()
    assert "-> 12 cells" in out and "estimated time: about" in out
    assert "skipped: file:few.csv at anomaly ratio 0.9" in err and "anomalies" in err
    assert "1 (dataset, ratio, fraction) block(s) cannot be filled" in err
    assert "ratio 0.05" not in err and "error" not in err


def test_validate_fails_on_a_split_that_run_would_fail(tmp_path, capsys):
    """A split that fails for another reason than too little data (here one class only) is a
    failed cell in ``run``: validate exits 2 naming it."""
    from benchmarks.cli import main

    pd.DataFrame({"a": range(50), "label": 0}).to_csv(tmp_path / "one.csv", index=False)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("seeds: 1\nanomaly_ratios: [0.1]\nlabelled_fractions: [0.5]\n"
                   "datasets: [{dataset: 'file:one.csv'}]\ndetectors: [iforest]\n")
    assert main(["validate", str(cfg)]) == 2
    out, err = capsys.readouterr()
    assert "infeasible: file:one.csv at anomaly ratio 0.1" in err and "one class only" in err
    assert "1 cells, but 1 split(s) cannot be made" in err and "skipped:" not in err
    assert "valid" not in out  # never "valid" and then exit 2


@pytest.mark.parametrize("written", ["adbench:6_cardio", "adbench:Cardio", "adbench:6_CARDIO"])
def test_a_bundled_adbench_file_by_any_name_its_loader_takes_is_one_dataset(written):
    """Any case, and the file's full stem, as the loader and docs/datasets.md take them; the
    entry keeps one name, so its cells share the cache keys of ``adbench:cardio``."""
    raw = base(datasets=[{"dataset": written}])
    assert parse_config(raw).datasets[0].dataset == "adbench:cardio"
    assert parse_config(raw).cells()[0].key == \
        parse_config(base(datasets=[{"dataset": "adbench:cardio"}])).cells()[0].key
    with pytest.raises(ConfigError, match="unknown dataset 'adbench:7_cardio'"):
        parse_config(base(datasets=[{"dataset": "adbench:7_cardio"}]))


def test_a_file_named_npz_that_is_not_a_zip_archive_is_refused(tmp_path):
    (tmp_path / "fake.npz").write_text("a,b,label\n1,2,0\n")
    for entry in ({"dataset": "file:fake.npz"},
                  {"dataset": "adbench", "dataset_params": {"path": "fake.npz"}}):
        with pytest.raises(ConfigError, match=r"datasets\[0\]: data file '.*fake\.npz' is not "
                                              r"an \.npz archive"):
            parse_config(base(datasets=[entry]), base_dir=tmp_path)
    np.savez(tmp_path / "real.npz", X=np.zeros((4, 2)), label=np.array([0, 0, 1, 1]))
    assert parse_config(base(datasets=[{"dataset": "file:real.npz"}]), base_dir=tmp_path)


def test_validate_names_anomaly_values_and_the_labels_when_none_match(tmp_path, capsys):
    from benchmarks.cli import main

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((200, 2)), columns=["a", "b"])
    frame["label"] = np.where(np.arange(200) < 20, "attack", "ok")
    frame.to_csv(tmp_path / "words.csv", index=False)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("seeds: 1\nanomaly_ratios: [0.05]\nlabelled_fractions: [0.5]\n"
                   "datasets: [{dataset: 'file:words.csv'}]\ndetectors: [iforest]\n")
    assert main(["validate", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "one class only" in err
    assert ("anomaly_values is (1,) (the default) and label column 'label' holds 'attack', "
            "'ok': set anomaly_values" in err)


def test_validate_says_when_the_anomaly_value_is_text_and_the_labels_numbers(tmp_path,
                                                                            capsys):
    """'1' against 1 looks alike on screen; the hint says which is text."""
    from benchmarks.cli import main

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((200, 2)), columns=["a", "b"])
    frame["y"] = (np.arange(200) < 20).astype(int)
    frame.to_csv(tmp_path / "ints.csv", index=False)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("seeds: 1\nanomaly_ratios: [0.05]\nlabelled_fractions: [0.5]\n"
                   "datasets: [{dataset: 'file:ints.csv', dataset_params: {label_column: y, "
                   "anomaly_values: ['1']}}]\ndetectors: [iforest]\n")
    assert main(["validate", str(cfg)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert ("label column 'y' holds 0, 1 (1 as text against the column's numbers: write them "
            "as the file holds them)") in err
    # labels equal to the values in force are no mismatch of kinds: all anomalies, say
    frame["y"] = 1.0
    frame.to_csv(tmp_path / "ints.csv", index=False)
    cfg.write_text(cfg.read_text().replace("anomaly_values: ['1']", "anomaly_values: [1]"))
    assert main(["validate", str(cfg)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "holds 1.0: set anomaly_values" in err and "against the column's" not in err


@pytest.mark.parametrize("params, named", [
    ({"n_bags": -3}, r"n_bags must be an integer >= 1; got -3"),
    ({"hidden": "abc"}, r"hidden must be an integer >= 1; got 'abc'"),
    ({"lam": 2.0}, r"lam must be a number in \[0.0, 1.0\]; got 2.0"),
])
def test_pugan_parameter_values_are_checked_at_config_time(params, named):
    with pytest.raises(ConfigError, match=r"detectors\[0\]: bad parameter value for detector "
                                          r"'pugan': " + named):
        parse_config(base(detectors=[{"name": "pugan", "params": params}]))


def test_one_class_adapter_parameter_values_are_checked_at_config_time():
    with pytest.raises(ConfigError, match=r"bad parameter value for detector 'iforest': "
                                          r"threshold_quantile == 1.5, must be <= 1.0"):
        parse_config(base(detectors=[{"name": "iforest",
                                      "params": {"threshold_quantile": 1.5}}]))


def test_a_cuda_device_is_left_to_the_machine_that_runs_the_cells():
    cfg = parse_config(base(detectors=[{"name": "pugan", "params": {"device": "cuda"}}]))
    assert cfg.detectors[0].params == {"device": "cuda"}
    with pytest.raises(ConfigError, match="device must be 'cpu' or 'cuda"):
        parse_config(base(detectors=[{"name": "pugan", "params": {"device": "tpu"}}]))


def test_validate_warns_about_a_large_sweep(tmp_path, capsys):
    from benchmarks.cli import main

    cfg = tmp_path / "c.yaml"
    cfg.write_text("seeds: 6000\nanomaly_ratios: [0.2]\nlabelled_fractions: [0.5]\n"
                   "datasets: [{dataset: moons, split: {n_normal: 200}}]\n"
                   "detectors: [iforest, knn-normals]\n")
    assert main(["validate", str(cfg)]) == 0
    assert "12000 cells is a large sweep" in capsys.readouterr().err


def test_a_plugin_replaces_a_built_in_name_only_with_override(tmp_path):
    from benchmarks.registry import get_spec

    body = ("from benchmarks.registry import register\n"
            "from baselines.pyod_adapters import PyODDetector\n"
            "register('iforest', supervision='unsupervised'{extra})(\n"
            "    lambda random_state=None, **p: PyODDetector('IForest', "
            "random_state=random_state, **p))\n")
    quiet = tmp_path / "quiet.py"
    quiet.write_text(body.format(extra=""))
    with pytest.raises(ConfigError, match="'iforest' is already registered by "
                                          "benchmarks.detectors.*override=True"):
        parse_config(base(plugins=[PLUGIN, str(quiet)]))
    assert get_spec("iforest").factory.__module__ == "benchmarks.detectors"
    loud = tmp_path / "loud.py"
    loud.write_text(body.format(extra=", override=True"))
    import benchmarks.registry as registry

    saved = dict(registry._REGISTRY)
    try:
        parse_config(base(plugins=[PLUGIN, str(loud)]))
        assert get_spec("iforest").factory.__module__.startswith("pugan_bench_plugin_")
    finally:
        registry._REGISTRY.clear()
        registry._REGISTRY.update(saved)


def test_validate_warns_of_n_jobs_far_above_the_cores_and_run_refuses(tmp_path, capsys):
    """The config is valid (one meant for a cluster is checked on a laptop), so validate
    says so with a warning rather than "valid" and then an error; a local run refuses it."""
    from benchmarks.cli import main

    cfg = tmp_path / "c.yaml"
    cfg.write_text("n_jobs: 100000\nseeds: 1\nanomaly_ratios: [0.2]\nlabelled_fractions: [0.5]\n"
                   "datasets: [{dataset: moons, split: {n_normal: 200}}]\ndetectors: [iforest]\n")
    assert main(["validate", str(cfg)]) == 0
    out, err = capsys.readouterr()
    assert "valid;" in out
    assert "warning: n_jobs=100000 is far above" in err and "a local `run` refuses it" in err
    assert main(["run", str(cfg), "--out", str(tmp_path / "out")]) == 2
    assert "n_jobs=100000 is far above" in capsys.readouterr().err


# --- command-line options and files checked before any work -----------------------------------

def test_a_config_that_is_not_utf8_is_named(tmp_path, capsys):
    from benchmarks.cli import main

    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\u00e9\nseeds: [0]\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_config(path)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"pugan-bench validate: error: {path}: not UTF-8 text" in err, err


@pytest.mark.parametrize("threads", ["0", "-2"])
def test_threads_per_cell_below_one_is_refused(tmp_path, capsys, threads):
    """Zero used to mean the default without a word, and a negative count reached libgomp."""
    from benchmarks.cli import main

    (tmp_path / "cfg.yaml").write_text(__import__("yaml").safe_dump(base()))
    rc = main(["run", str(tmp_path / "cfg.yaml"), "--out", str(tmp_path / "out"),
               "--threads-per-cell", threads, "--no-progress", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and not (tmp_path / "out").exists(), err
    assert f"pugan-bench run: error: --threads-per-cell must be >= 1; got {threads}" in err
    with pytest.raises(ValueError, match="threads_per_cell must be an integer >= 1"):
        run_sweep(load_config(tmp_path / "cfg.yaml"), tmp_path / "out", progress=False,
                  threads_per_cell=int(threads))


@pytest.mark.parametrize("options, named", [
    (["--sizes", "0"], r"--sizes must be integers >= 100 \(training rows\); got \[0\]"),
    (["--sizes", "5000", "-3"], r"--sizes must be integers >= 100 .*got \[-3\]"),
    (["--sizes", "100", "--max-fit-seconds", "0"], r"--max-fit-seconds must be > 0; got 0.0"),
    (["--sizes", "100", "--max-fit-seconds", "nan"], r"--max-fit-seconds must be > 0; got nan"),
    (["--sizes", "2000", "5000", "2000"], r"--sizes names \[2000\] more than once")])
def test_scale_curve_options_are_checked_before_any_fit(tmp_path, capsys, options, named):
    import re

    from benchmarks.cli import main

    out = tmp_path / "scale.csv"
    rc = main(["scale-curves", *options, "--detectors", "iforest", "--out", str(out),
               "--figure", str(tmp_path / "fig"), "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists(), err
    assert re.search("pugan-bench scale-curves: error: " + named, err), err


def test_a_scale_curve_detector_named_twice_is_refused():
    from benchmarks.perf.scale_curves import check_options

    with pytest.raises(ValueError, match=r"--detectors names \['pugan'\] more than once"):
        check_options([2000], 300.0, ["pugan", "iforest", "pugan"])


def test_a_parameter_check_that_wants_data_is_left_to_fit():
    """A plugin's own ``_check_params(X, y)`` is not the data-free check: calling it without
    arguments would blame a TypeError on the parameters."""
    from benchmarks.config import _check_param_values

    class WantsData:
        def _check_params(self, X, y):
            raise AssertionError("called without its data")

    class DataFree:
        def _check_params(self, strict=True):
            raise ValueError("k must be positive")

    _check_param_values(WantsData(), "plugin", "detectors[0]")
    with pytest.raises(ConfigError, match="bad parameter value for detector 'plugin': k must"):
        _check_param_values(DataFree(), "plugin", "detectors[0]")


def test_a_split_with_every_attribute_categorical_and_dropped_names_it(tmp_path):
    """Dropping the categorical columns (the default) of a file that has nothing else would
    hand the scaler zero attributes; the split refuses it by dataset and columns instead."""
    from benchmarks.splits import SplitError, make_pu_split

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"proto": rng.choice(["tcp", "udp"], 400),
                          "flag": rng.choice(["SF", "S0", "REJ"], 400)})
    frame["label"] = (rng.random(400) < 0.3).astype(int)
    frame.to_csv(tmp_path / "cats.csv", index=False)
    ds = load_file(tmp_path / "cats.csv", categorical=["proto", "flag"])
    with pytest.raises(SplitError, match=r"no attribute left once its categorical columns "
                                         r"\['proto', 'flag'\] are dropped.*'onehot'"):
        make_pu_split(ds, 0.2, 0.5, seed=0)
    assert make_pu_split(ds, 0.2, 0.5, seed=0, categorical="onehot").X_train.shape[1] == 5


@pytest.mark.parametrize("labels, shown", [([0, 0, 0.6, 1, 1, 0], "0.6"),
                                           ([0, 1, 1.7, 0, 1, 0], "1.7"),
                                           ([0, 1, np.nan, 0, 1, 0], "nan"),
                                           ([0, 1, "x", 0, 1, 0], "'x'")])
def test_labels_other_than_0_and_1_are_refused_before_any_rounding(labels, shown):
    """A cast to integers first turned 0.6 into a normal and 1.7 into an anomaly unseen."""
    from benchmarks.datasets.base import make_dataset

    X = np.arange(12.0).reshape(6, 2)
    with pytest.raises(DatasetError, match=rf"labels must be 0 \(normal\) or 1 \(anomaly\); "
                                           rf"got {shown} \(data row 2, counted from 0\)$"):
        make_dataset("t", X, labels)
    assert make_dataset("t", X, [0, 1, 1.0, 0, True, 0]).y.tolist() == [0, 1, 1, 0, 1, 0]


def test_a_split_with_fewer_rows_than_pca_components_is_infeasible_by_name():
    from benchmarks.splits import SplitInfeasible, make_pu_split

    with pytest.raises(SplitInfeasible, match=r"pca=6 components need at least as many training "
                                              r"rows; the split has \d+: raise n_normal"):
        make_pu_split("kddcup99", 0.3, 0.5, 0, n_normal=5)


def test_numpy_loader_parameters_load_like_lists(tmp_path):
    """np.unique(labels) is a natural anomaly_values; it used to fail as an unhashable key."""
    from benchmarks.datasets import load_dataset

    path = _user_csv(tmp_path / "mine.csv", seed=0)
    as_list = load_dataset(f"file:{path}", anomaly_values=[1])
    for given in (np.array([1]), np.int64(1), {1}, frozenset([1]), (1,)):
        ds = load_dataset(f"file:{path}", anomaly_values=given)
        np.testing.assert_array_equal(ds.y, as_list.y)
