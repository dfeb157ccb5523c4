"""Inputs the harness must refuse, or stops it must not call done: a results.csv with a row cut
short or a cell twice, a regression input lacking columns, a reference update without its
config, a sweep ended by an error, a reports folder that is a file, a list-valued detector
parameter given as a grid, and the small command-line faults (n_jobs 0, a rerun of a damaged
folder, a closed pipe)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import sweep_raw

from benchmarks.cli import main

ROOT = Path(__file__).resolve().parent.parent


def tiny_results(folder: Path, seeds=(0, 1)) -> Path:
    """A results.csv of one detector on one dataset, one ok row per seed."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [dict(dataset="moons", detector="det", anomaly_ratio=0.2, labelled_fraction=0.5,
                 seed=seed, status="ok", error="", precision=0.5, recall=0.5, f1=0.5 + seed / 10,
                 best_f1=0.6, auroc=0.9, auprc=0.8, cell_id=f"c{seed}") for seed in seeds]
    path = folder / "results.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def cut_last_row(path: Path) -> None:
    """Cut the file inside its last row, as a write stopped part way leaves it."""
    text = path.read_text()
    path.write_text(text[: text.rstrip("\n").rfind("\n") + 12])


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# --- a row cut short, a row without its cell -------------------------------------------------

def test_load_results_names_the_line_of_a_row_cut_short(tmp_path):
    from benchmarks.report import load_results

    path = tiny_results(tmp_path)
    cut_last_row(path)
    with pytest.raises(ValueError, match=rf"{path} is damaged: line 3 has \d+ field\(s\) where "
                                         r"the header has 14"):
        load_results(tmp_path)


def test_load_results_refuses_a_row_without_its_cell_id(tmp_path):
    from benchmarks.report import load_results

    path = tiny_results(tmp_path)
    path.write_text(path.read_text().replace(",c1\n", ",\n"))
    with pytest.raises(ValueError, match=rf"{path} is damaged: line 3 has no cell_id"):
        load_results(tmp_path)


def test_a_results_table_without_an_error_column_reports(tmp_path):
    """Table 2 reads the errors of cells that did not finish; a table written without the
    column records none, and used to stop the report with a bare KeyError."""
    from benchmarks.report import load_results, table2

    path = tiny_results(tmp_path)
    pd.read_csv(path).drop(columns=["error"]).to_csv(path, index=False)
    frame = load_results(tmp_path)
    assert (frame["error"] == "").all()
    assert len(table2(frame)) == 1


def test_a_line_of_spaces_costs_no_row(tmp_path):
    """pandas skips a line of spaces as blank: counting it as a row would put every later
    row's position one off, and the row after it would be dropped in its place."""
    from benchmarks.results import previous_records

    path = tiny_results(tmp_path, seeds=(0, 1, 2))
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:2] + ["   \n"] + lines[2:]))
    assert sorted(previous_records(path, strict=True)) == ["c0", "c1", "c2"]


def test_a_line_of_empty_fields_is_a_damaged_row_not_a_blank_line(tmp_path):
    """pandas reads ",,," as a row: it is named as damaged and left out, and a row cut short
    after it is left out in its own place, not kept in the empty row's."""
    from benchmarks.results import previous_records

    path = tiny_results(tmp_path, seeds=(0, 1, 2))
    lines = path.read_text().splitlines(keepends=True)
    empty = "," * (lines[0].count(",")) + "\n"
    path.write_text("".join(lines[:2] + [empty, lines[2][:12] + "\n", lines[3]]))
    assert sorted(previous_records(path)) == ["c0", "c2"]
    # a quoted empty field is a row to pandas too, not a blank line
    path.write_text("".join(lines[:2] + ['""\n', lines[2][:12] + "\n", lines[3]]))
    assert sorted(previous_records(path)) == ["c0", "c2"]


@pytest.mark.parametrize("column, text", [("auprc", "n/a"), ("seed", "1e400")])
def test_a_number_that_cannot_be_read_is_named_not_dropped(tmp_path, caplog, column, text):
    """A row whose number cannot be typed used to leave the kept rows without a word."""
    from benchmarks.results import previous_records

    path = tiny_results(tmp_path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[1, column] = text
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match=rf"line 3: column '{column}' holds '{re.escape(text)}', "
                                         r"which is not a number \(cell moons / det / "):
        previous_records(path, strict=True)
    assert sorted(previous_records(path)) == ["c0"]
    assert f"column '{column}' holds" in caplog.text


def test_report_of_a_row_cut_short_exits_2_in_one_line(tmp_path, capsys):
    path = tiny_results(tmp_path / "sweep")
    cut_last_row(path)
    assert main(["-q", "report", str(tmp_path / "sweep"), "--reports-dir",
                 str(tmp_path / "rep"), "--no-figures"]) == 2
    assert "line 3 has" in one_error_line(capsys.readouterr().err)


def test_previous_records_of_a_row_cut_short_warn_or_refuse(tmp_path, caplog):
    from benchmarks.results import previous_records

    path = tiny_results(tmp_path)
    assert set(previous_records(path)) == {"c0", "c1"}
    cut_last_row(path)
    with caplog.at_level("WARNING", logger="benchmarks.results"):
        assert set(previous_records(path)) == {"c0"}  # the whole row stays, the cut one goes
    assert str(path) in caplog.text and "line 3 has" in caplog.text
    with pytest.raises(ValueError, match=r"line 3 has .*without --keep-rows"):
        previous_records(path, strict=True)


def test_keep_rows_stops_on_a_row_cut_short_and_leaves_the_file(tmp_path, capsys):
    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml.safe_dump(sweep_raw(["t-centroid"])))
    path = tiny_results(tmp_path / "sweep")
    cut_last_row(path)
    damaged = path.read_bytes()
    assert main(["-q", "run", str(cfg), "--out", str(tmp_path / "sweep"), "--keep-rows",
                 "--no-progress"]) == 2
    assert "line 3 has" in one_error_line(capsys.readouterr().err)
    assert path.read_bytes() == damaged
    assert not (tmp_path / "sweep" / "cells").exists()


# --- a cell twice ------------------------------------------------------------------------------

def test_load_results_refuses_a_cell_with_two_rows(tmp_path):
    from benchmarks.report import load_results

    path = tiny_results(tmp_path)
    frame = pd.read_csv(path)
    pd.concat([frame, frame]).to_csv(path, index=False)
    with pytest.raises(ValueError, match=rf"{path} holds 2 row\(s\) that repeat a cell .*"
                                         r"dataset moons / detector det / .* / seed 0"):
        load_results(tmp_path)


def test_two_labels_of_one_cell_are_two_rows_not_a_repeat(tmp_path):
    """A tuned choice equal to another entry shares its cell_id under another label."""
    from benchmarks.report import load_results

    path = tiny_results(tmp_path)
    frame = pd.read_csv(path)
    pd.concat([frame, frame.assign(detector="det (tuned)")]).to_csv(path, index=False)
    assert len(load_results(tmp_path)) == 4


# --- regression inputs -------------------------------------------------------------------------

def reference_of(tmp_path: Path) -> Path:
    from benchmarks.regression import build_reference

    ref = tmp_path / "reference.csv"
    build_reference(pd.read_csv(tiny_results(tmp_path / "made")), version="0").to_csv(
        ref, index=False)
    return ref


def _drop_auprc(path: Path) -> None:
    pd.read_csv(path).drop(columns=["auprc"]).to_csv(path, index=False)


def _blank_a_seed(path: Path) -> None:
    path.write_text(path.read_text().replace("0.5,1,ok", "0.5,,ok"))


@pytest.mark.parametrize("damage, expected", [
    (_drop_auprc, "['auprc']"),
    (_blank_a_seed, "column 'seed' has no value in row 2"),
    (cut_last_row, "is damaged: line 3 has"),
])
def test_regression_check_of_results_it_cannot_use_exits_2_not_1(tmp_path, capsys, damage,
                                                                  expected):
    """Exit 1 means "a score regressed" to CI; a results file the check cannot read is a
    usage error (exit 2) naming the file and the fault, not a regression."""
    ref = reference_of(tmp_path)
    path = tiny_results(tmp_path / "run")
    damage(path)
    assert main(["-q", "regression", "check", "--reference", str(ref), "--results",
                 str(tmp_path / "run")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert str(path) in line and expected in line


def test_regression_update_without_its_config_writes_nothing(tmp_path, capsys):
    ref = reference_of(tmp_path)
    sidecar = ref.with_suffix(".json")
    sidecar.write_text('{"version": "old"}\n')
    before = ref.read_bytes(), sidecar.read_bytes()
    tiny_results(tmp_path / "run", seeds=(0, 1, 2))
    missing = tmp_path / "nosuch.yaml"
    assert main(["-q", "regression", "update", "--from-results", str(tmp_path / "run"),
                 "--reference", str(ref), "--config", str(missing)]) == 2
    assert f"config {missing} not found" in one_error_line(capsys.readouterr().err)
    assert (ref.read_bytes(), sidecar.read_bytes()) == before


# --- a sweep ended by an error ------------------------------------------------------------------

def test_the_summary_line_of_a_run_stopped_by_an_error_says_so():
    from benchmarks.sweep import summary_line

    frame = pd.DataFrame({"status": ["ok", "ok"]})
    line = summary_line("s", frame, 4, interrupted=False, error="RuntimeError: lost",
                        utilisation="u")
    assert line.startswith("sweep 's' stopped by an error (RuntimeError: lost): 2 of 4 cells "
                           "have a result (2 ok)")
    assert "done" not in line


def test_a_run_ended_by_an_error_is_not_logged_done(tmp_path, monkeypatch):
    import benchmarks.sweep as sweep
    from benchmarks.config import parse_config

    real, calls = sweep.run_cell, []

    def third_call_fails(cell, **kwargs):
        calls.append(cell)
        if len(calls) == 3:
            raise RuntimeError("the harness lost its way")
        return real(cell, **kwargs)

    monkeypatch.setattr(sweep, "run_cell", third_call_fails)
    out = tmp_path / "sweep"
    config = parse_config(sweep_raw(["t-centroid"], seeds=(0, 1, 2, 3)))
    with pytest.raises(RuntimeError, match="lost its way"):
        sweep.run_sweep(config, out, n_jobs=1, isolate=False, progress=False)
    last = (out / "run.log").read_text().splitlines()[-1]
    assert ("sweep 't' stopped by an error (RuntimeError: the harness lost its way): 2 of 4 "
            "cells have a result (2 ok)") in last
    run = json.loads((out / "runs.jsonl").read_text().splitlines()[-1])
    assert run["run"] == 2 and run["stopped"].startswith("error: RuntimeError")


# --- the reports folder ------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_a_reports_dir_that_is_or_lies_under_a_file_exits_2(tmp_path, capsys, where):
    tiny_results(tmp_path / "sweep")
    blocker = tmp_path / "taken"
    blocker.write_text("")
    reports = blocker if where == "a file" else blocker / "reports"
    assert main(["-q", "report", str(tmp_path / "sweep"), "--reports-dir", str(reports),
                 "--no-figures"]) == 2
    assert f"--reports-dir) {reports}" in one_error_line(capsys.readouterr().err)


# --- a detector parameter that takes a list ----------------------------------------------------

def test_a_flat_list_for_a_list_valued_parameter_is_refused():
    from benchmarks.config import ConfigError, parse_config

    entry = {"name": "autoencoder-normals", "params": {"hidden_neuron_list": [16, 8]}}
    with pytest.raises(ConfigError, match=r"hidden_neuron_list takes a list .* write "
                                          r"\[\[16, 8\]\] for the one value \[16, 8\]"):
        parse_config(sweep_raw([entry]))
    entry["params"]["hidden_neuron_list"] = [[16, 8]]
    (detector,) = parse_config(sweep_raw([entry])).detectors
    assert detector.params == {"hidden_neuron_list": [16, 8]}


def test_a_list_parameter_known_only_from_its_documentation_is_guarded_too():
    """DeepSVDD's ``hidden_neurons`` defaults to None; its docstring says it takes a list."""
    from benchmarks.config import ConfigError, _documented_list_type, parse_config

    entry = {"name": "deepsvdd-normals", "params": {"hidden_neurons": [16, 8]}}
    with pytest.raises(ConfigError, match=r"hidden_neurons takes a list \(documented as "
                                          r"'list, optional.*write \[\[16, 8\]\]"):
        parse_config(sweep_raw([entry]))
    entry["params"]["hidden_neurons"] = [[16, 8]]
    (detector,) = parse_config(sweep_raw([entry])).detectors
    assert detector.params == {"hidden_neurons": [16, 8]}
    doc = ("Parameters\n----------\nlayers : list of int\nrate : float, optional\n"
           "width : list or int, default=None\nshape : tuple | None\n"
           "order : str\n    ranks : list of names, in a description\nblank :\n    list\n")
    assert _documented_list_type(doc, "layers") == "list of int"
    assert _documented_list_type(doc, "shape") == "tuple | None"
    # a scalar offered beside the list, a line inside a description, no type: not a list
    for param in ("rate", "width", "ranks", "blank", "absent"):
        assert _documented_list_type(doc, param) == "", param
    # a grid of plain values for a parameter documented as a number stays a grid
    entry = {"name": "deepsvdd-normals", "params": {"epochs": [1, 2]}}
    assert len(parse_config(sweep_raw([entry])).detectors) == 2


@pytest.mark.parametrize("detector, params, refused", [
    ("iforest", {"n_estimators": -5}, "IsolationForest"),
    ("knn-normals", {"n_neighbors": 0}, "NearestNeighbors"),
    ("lof", {"metric": "no-such-metric"}, "LocalOutlierFactor"),
])
def test_values_scikit_learn_refuses_at_fit_are_refused_by_validate(detector, params, refused):
    """PyOD hands these to a scikit-learn estimator it builds only in fit: the config check
    asks scikit-learn at once, and valid values of the same parameters still pass."""
    from benchmarks.config import ConfigError, parse_config

    (key,) = params
    with pytest.raises(ConfigError, match=rf"detectors\[0\]: bad parameter value for detector "
                                          rf"'{detector}': PyOD \w+ passes {key} to "
                                          rf"scikit-learn's {refused}, which refuses it: .*{key}"):
        parse_config(sweep_raw([{"name": detector, "params": params}]))
    valid = {"n_estimators": 50, "n_neighbors": 3, "metric": "manhattan"}[key]
    assert parse_config(sweep_raw([{"name": detector, "params": {key: valid}}])).detectors


def test_pu_bagging_values_its_classifier_refuses_are_refused_by_validate():
    """The detector hands its parameters to PUBaggingClassifier in fit; the config check runs
    that classifier's own check now."""
    from benchmarks.config import ConfigError, parse_config

    for params, match in (({"n_estimators": -3}, "n_estimators == -3, must be >= 1"),
                          ({"p_fraction": 1.5}, "p_fraction == 1.5"),
                          ({"max_samples": True}, "max_samples must be an int")):
        with pytest.raises(ConfigError, match=rf"bad parameter value for detector "
                                              rf"'pu-bagging': {re.escape(match)}"):
            parse_config(sweep_raw([{"name": "pu-bagging", "params": params}]))
    entry = {"name": "pu-bagging", "params": {"n_estimators": 10, "p_fraction": 0.5}}
    assert parse_config(sweep_raw([entry])).detectors


def test_a_grid_of_plain_values_stays_a_grid():
    from benchmarks.config import parse_config

    entry = {"name": "iforest", "params": {"n_estimators": [10, 20]}}
    assert len(parse_config(sweep_raw([entry])).detectors) == 2


# --- small command-line faults -----------------------------------------------------------------

def test_n_jobs_zero_leaves_no_output_folder(tmp_path, capsys):
    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml.safe_dump(sweep_raw(["t-centroid"])))
    out = tmp_path / "out"
    assert main(["-q", "run", str(cfg), "--out", str(out), "--n-jobs", "0",
                 "--no-progress"]) == 2
    assert "n_jobs must be a positive integer" in one_error_line(capsys.readouterr().err)
    assert not out.exists()


def rerun_source(tmp_path: Path, config_text: str | None = None) -> Path:
    """A sweep folder for ``rerun``: a resolved config.yaml naming a real config."""
    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml.safe_dump(sweep_raw(["t-centroid"])))
    source = tmp_path / "source"
    tiny_results(source)
    (source / "config.yaml").write_text(config_text or yaml.safe_dump(
        {"source": str(cfg), "seeds": [0], "datasets": [], "detectors": []}))
    return source


def test_rerun_of_a_binary_results_csv_names_the_file(tmp_path, capsys):
    source = rerun_source(tmp_path)
    (source / "results.csv").write_bytes(b"\x89PNG\r\n\x1a\n\xe1\xff\x00")
    assert main(["-q", "rerun", str(source), str(tmp_path / "dest"), "--detector",
                 "t-centroid"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{source / 'results.csv'} cannot be read" in line
    assert not (tmp_path / "dest").exists()


def test_rerun_of_a_malformed_config_yaml_is_one_line(tmp_path, capsys):
    source = rerun_source(tmp_path, config_text="source: [1\n")
    assert main(["-q", "rerun", str(source), str(tmp_path / "dest"), "--detector",
                 "t-centroid"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{source / 'config.yaml'}: not valid YAML" in line and "line 2" in line


def test_a_closed_stdout_ends_the_command_quietly():
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks", "detectors"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the command prints
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""


def test_a_long_error_text_is_no_damage(tmp_path):
    """The csv module's default field limit is smaller than what pandas reads; a long error
    text in a whole row must not be called damage."""
    from benchmarks.results import damaged_row

    path = tmp_path / "results.csv"
    path.write_text("cell_id,status,error\nc0,failed,\"" + "x" * 200_000 + "\"\n")
    assert damaged_row(path) == ""
