"""Grids in a config, `pugan-bench tune` on development seeds, and tuned entries reading the
choice back: the same machinery for every detector."""


import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import PLUGIN

from benchmarks.cli import main
from benchmarks.config import ConfigError, parse_config
from benchmarks.seeds import DEV_SEEDS, REPORT_SEEDS, SeedError, check_dev_seeds, parse_seeds
from benchmarks.tuning import choose, read_tuning, read_tunings


def raw(**over):
    out = {
        "seeds": [1000, 1001],
        "anomaly_ratios": [0.2],
        "labelled_fractions": [0.5],
        "plugins": [PLUGIN],
        "datasets": [{"dataset": "moons", "split": {"n_normal": 200}, "label": "m"}],
        "detectors": [{"name": "t-centroid", "params": {"quantile": [0.9, 0.95], "jitter": [0.0, 5.0]}}],
    }
    out.update(over)
    return out


def test_seed_sets_are_disjoint_and_report_seeds_are_refused():
    assert not set(DEV_SEEDS) & set(REPORT_SEEDS)
    assert check_dev_seeds([1000, 1003]) == (1000, 1003)
    with pytest.raises(SeedError, match=r"seed\(s\) \[0\] are report seeds"):
        check_dev_seeds([0, 1000])
    assert check_dev_seeds([0], allow_report=True) == (0,)
    assert parse_seeds("1000-1002,7") == (1000, 1001, 1002, 7)


def test_a_list_in_params_is_a_grid_with_one_labelled_entry_per_point():
    cfg = parse_config(raw())
    labels = [d.label for d in cfg.detectors]
    assert labels == ["t-centroid[quantile=0.9,jitter=0.0]", "t-centroid[quantile=0.9,jitter=5.0]",
                      "t-centroid[quantile=0.95,jitter=0.0]", "t-centroid[quantile=0.95,jitter=5.0]"]
    assert {d.group for d in cfg.detectors} == {"t-centroid"}
    assert len(cfg.cells()) == 4 * 2
    params = {(d.params["quantile"], d.params["jitter"]) for d in cfg.detectors}
    assert params == {(0.9, 0.0), (0.9, 5.0), (0.95, 0.0), (0.95, 5.0)}
    with pytest.raises(ConfigError, match="empty grid"):
        parse_config(raw(detectors=[{"name": "t-centroid", "params": {"quantile": []}}]))


def test_choose_keeps_the_best_mean_among_fully_finished_points(caplog):
    cfg = parse_config(raw())
    rows = []
    scores = {0: [0.5, 0.7], 1: [0.9, 0.95], 2: [0.99, None], 3: [0.9, 0.95]}
    for i, det in enumerate(cfg.detectors):
        for seed, v in zip(cfg.seeds, scores[i], strict=True):
            rows.append({"dataset": "m", "detector": det.label, "seed": seed,
                         "status": "ok" if v is not None else "failed", "auprc": v})
    chosen = choose(pd.DataFrame(rows), cfg)["m"]["t-centroid"]
    # point 2 has the best single score but one failed cell: not eligible; 1 and 3 tie: the
    # earlier point wins
    assert chosen["params"] == cfg.detectors[1].params
    assert chosen["auprc"] == pytest.approx(0.925)
    assert [g["n_ok"] for g in chosen["grid"]] == [2, 2, 1, 2]
    # the point left out is said, not dropped in silence
    assert f"m / t-centroid: grid point {cfg.detectors[2].params} left out of the choice: " \
        "1 of 2 seeds finished ok" in caplog.text


def test_a_later_point_lower_by_less_than_the_rounding_step_does_not_win():
    cfg = parse_config(raw(detectors=[{"name": "t-centroid", "params": {"quantile": [0.9, 0.95]}}]))
    means = [0.1234564, 0.1234562]  # both write as 0.123456
    rows = [{"dataset": "m", "detector": det.label, "seed": seed, "status": "ok", "auprc": v}
            for det, v in zip(cfg.detectors, means, strict=True) for seed in cfg.seeds]
    chosen = choose(pd.DataFrame(rows), cfg)["m"]["t-centroid"]
    assert chosen["params"] == cfg.detectors[0].params
    assert chosen["auprc"] == 0.123456


@pytest.mark.parametrize("axes, named", [
    ({"anomaly_ratios": [0.1, 0.2]}, r"anomaly_ratios \[0.1, 0.2\]"),
    ({"labelled_fractions": [0.2, 0.5]}, r"labelled_fractions \[0.2, 0.5\]")])
def test_a_dataset_with_several_ratios_or_fractions_is_refused_not_left_without_a_choice(
        tmp_path, axes, named):
    cfg = parse_config(raw(**axes))
    rows = [{"dataset": "m", "detector": c.detector, "seed": c.seed, "status": "ok",
             "auprc": 0.5} for c in cfg.cells()]
    with pytest.raises(ConfigError, match=rf"dataset 'm' has several {named}"):
        choose(pd.DataFrame(rows), cfg)
    # the command refuses before any cell runs
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump(raw(**axes)))
    rc = main(["tune", str(grid), "--out", str(tmp_path / "sweep"), "--write",
               str(tmp_path / "t.yaml"), "--no-progress", "-q"])
    assert rc == 2 and not (tmp_path / "sweep").exists() and not (tmp_path / "t.yaml").exists()


def test_tune_refuses_report_seeds(tmp_path, capsys):
    """Exit 2 alone is any bad input; the message must say that these are report seeds and
    how to opt in, and nothing may be run or written."""
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(raw(seeds=[0, 1])))
    rc = main(["tune", str(path), "--out", str(tmp_path / "out"), "--write",
               str(tmp_path / "t.yaml"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and not (tmp_path / "t.yaml").exists() and not (tmp_path / "out").exists()
    assert "pugan-bench tune: error: seed(s) [0, 1] are report seeds" in err, err
    assert "--allow-report-seeds" in err, err


def test_tune_writes_choices_that_a_tuned_entry_reads(tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump(raw()))
    out = tmp_path / "tuning.yaml"
    rc = main(["tune", str(grid), "--out", str(tmp_path / "sweep"), "--write", str(out),
               "--n-jobs", "1", "--no-progress", "-q"])
    assert rc == 0
    doc = read_tuning(out)
    assert doc["criterion"] == "auprc" and doc["seeds"] == [1000, 1001]
    assert doc["grid_points"] == {"t-centroid": 4}
    choice = doc["choices"]["m"]["t-centroid"]
    assert len(choice["grid"]) == 4 and all(g["n_ok"] == 2 for g in choice["grid"])
    best = max(g["mean"] for g in choice["grid"])
    assert choice["auprc"] == best
    # the chosen setting is the best point's (the first of equal ones), not merely its score
    assert choice["params"] == next(g["params"] for g in choice["grid"] if g["mean"] == best)
    # the code the grid ran: what the rows recorded, the detector's fingerprint included
    rows = pd.read_csv(tmp_path / "sweep" / "results.csv")
    assert doc["code_versions"] == {"t-centroid": sorted(set(rows["code_version"]))}
    assert "+" in doc["code_versions"]["t-centroid"][0]
    # choosing again from the committed rows (a fresh clone has no cells/) runs nothing
    before = out.read_text()
    shutil.rmtree(tmp_path / "sweep" / "cells")
    rc = main(["tune", str(grid), "--out", str(tmp_path / "sweep"), "--write", str(out),
               "--n-jobs", "1", "--no-progress", "-q", "--keep-rows"])
    assert rc == 0 and out.read_text() == before
    runs = (tmp_path / "sweep" / "runs.jsonl").read_text().splitlines()
    assert len(runs) == 1  # the second call ran no cell, so it logged no run
    # a report config: a fixed entry beside the tuned one, on report seeds
    report = raw(seeds=[0, 1], tuning=str(out), detectors=[
        {"name": "t-centroid", "label": "fixed", "params": {"quantile": 0.5}},
        {"name": "t-centroid", "tuned": True}])
    cfg = parse_config(report, base_dir=tmp_path)
    tuned = [c for c in cfg.cells() if c.detector == "t-centroid (tuned)"]
    assert len(tuned) == 2 and all(c.detector_params == choice["params"] for c in tuned)


def test_tuned_entries_fail_clearly_without_a_choice(tmp_path):
    with pytest.raises(ConfigError, match="need a top-level 'tuning:'"):
        parse_config(raw(detectors=[{"name": "t-centroid", "tuned": True}]))
    bad = tmp_path / "t.yaml"
    bad.write_text("choices:\n  other-data:\n    t-centroid: {params: {quantile: 0.9}}\n")
    with pytest.raises(ConfigError, match=r"no setting of 't-centroid' for dataset\(s\) \['m'\]"):
        parse_config(raw(tuning=str(bad), detectors=[{"name": "t-centroid", "tuned": True}]))
    bad.write_text("- not a tuning file\n")
    with pytest.raises(ConfigError, match="not a tuning file"):
        parse_config(raw(tuning=str(bad), detectors=[{"name": "t-centroid", "tuned": True}]))


def test_a_tuning_file_is_read_as_strictly_as_a_config(tmp_path):
    """A tuning file decides the settings of the tuned entries, so a repeated key (where the
    plain YAML loader keeps the last value without a word), bad YAML and bytes that are not
    UTF-8 are refused by name, as in a sweep config."""
    from benchmarks.tuning import read_tuning

    path = tmp_path / "t.yaml"
    path.write_text("choices:\n  m: {}\nchoices:\n  n: {}\n")
    with pytest.raises(ConfigError, match=r"duplicate key 'choices' \(line 3\)"):
        read_tuning(path)
    path.write_text("choices: {m: [\n")
    with pytest.raises(ConfigError, match=r"t\.yaml: not valid YAML: .* at line 2"):
        read_tuning(path)
    path.write_bytes("choices: {caf\u00e9: {}}\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"t\.yaml: not UTF-8 text .*save the tuning file"):
        read_tuning(path)


def test_a_tuned_entry_layers_test_params_then_the_choice_then_its_own_params(tmp_path):
    """The registry's tiny test parameters lie under the tuned choice, and an entry's own
    params over both: a smoke config may shrink a model, never undo what tuning chose
    unless it says so."""
    from benchmarks.registry import get_spec

    assert get_spec("iforest").test_params == {"n_estimators": 20}  # the layer under test
    tuning = tmp_path / "t.yaml"

    def params(choice: str, **entry) -> dict:
        tuning.write_text(f"seeds: [1000]\nchoices:\n  m:\n    iforest: {{params: {choice}}}\n")
        cfg = parse_config(raw(seeds=[0], tuning=str(tuning),
                               detectors=[{"name": "iforest", "tuned": True, **entry}]))
        return cfg.detectors[0].per_dataset["m"]

    assert params("{threshold_quantile: 0.9}") == {"threshold_quantile": 0.9}
    assert params("{threshold_quantile: 0.9}", test_params=True) == {
        "n_estimators": 20, "threshold_quantile": 0.9}
    assert params("{n_estimators: 50}", test_params=True) == {"n_estimators": 50}
    assert params("{n_estimators: 50, threshold_quantile: 0.9}", test_params=True,
                  params={"threshold_quantile": 0.95}) == {
        "n_estimators": 50, "threshold_quantile": 0.95}
    # what the entry itself set is kept apart, for the settings table to name as such
    cfg = parse_config(raw(seeds=[0], tuning=str(tuning), detectors=[
        {"name": "iforest", "tuned": True, "test_params": True,
         "params": {"threshold_quantile": 0.95}}]))
    assert cfg.detectors[0].overrides == {"threshold_quantile": 0.95}
    assert cfg.detectors[0].params == {"n_estimators": 20, "threshold_quantile": 0.95}


def test_a_tuned_entry_that_lands_on_another_entrys_setting_shares_its_cell(tmp_path, caplog):
    import logging

    from benchmarks.harness import run_sweep

    tuning = tmp_path / "t.yaml"
    tuning.write_text("seeds: [1000]\nchoices:\n  m:\n    t-centroid: {params: {quantile: 0.9}}\n")
    cfg = parse_config(raw(seeds=[0], tuning=str(tuning), detectors=[
        {"name": "t-centroid", "label": "fixed", "params": {"quantile": 0.9}},
        {"name": "t-centroid", "tuned": True}]))
    with caplog.at_level(logging.INFO, logger="benchmarks"):
        frame = run_sweep(cfg, tmp_path / "sweep", n_jobs=1, progress=False, isolate=False)
    assert sorted(frame["detector"]) == ["fixed", "t-centroid (tuned)"]
    assert frame["cell_id"].nunique() == 1 and (frame["status"] == "ok").all()
    # the start line counts the cell once, and nothing of an empty folder as cached
    assert "1 cells, 0 cached, 1 to run" in caplog.text
    assert len(list((tmp_path / "sweep" / "cells").glob("*.json"))) == 1
    # two fixed entries naming the same setting are still a mistake
    with pytest.raises(ConfigError, match="two entries describe the same cell"):
        parse_config(raw(detectors=[{"name": "t-centroid", "label": "a"},
                                    {"name": "t-centroid", "label": "b"}])).cells()


def test_a_detector_skipped_at_every_point_keeps_its_first_point_with_a_note():
    cfg = parse_config(raw())
    rows = [{"dataset": "m", "detector": det.label, "seed": seed, "status": "skipped",
             "auprc": None} for det in cfg.detectors for seed in cfg.seeds]
    chosen = choose(pd.DataFrame(rows), cfg)["m"]["t-centroid"]
    assert chosen["params"] == cfg.detectors[0].params and chosen["auprc"] is None
    assert "skipped" in chosen["note"]
    # one failed point among skipped ones is not "skipped everywhere": no choice at all
    rows[0]["status"] = "failed"
    assert "m" not in choose(pd.DataFrame(rows), cfg)


def test_several_tuning_files_merge_and_a_dataset_tuned_twice_is_refused(tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("criterion: auprc\nseeds: [1000]\n"
                     "choices:\n  m:\n    t-centroid: {params: {quantile: 0.9}, auprc: 0.5}\n")
    second.write_text("criterion: f1\nseeds: [1001]\n"
                      "choices:\n  n:\n    t-centroid: {params: {quantile: 0.7}, f1: 0.4}\n")
    both = read_tunings([first, second])
    assert both["choices"]["m"]["t-centroid"]["file"] == str(first)
    assert both["choices"]["n"]["t-centroid"]["seeds"] == [1001]
    cfg = parse_config(raw(seeds=[0, 1], tuning=[str(first), str(second)],
                           datasets=[{"dataset": "moons", "label": "m"},
                                     {"dataset": "moons", "label": "n"}],
                           detectors=[{"name": "t-centroid", "tuned": True}]))
    params = {c.dataset: c.detector_params["quantile"] for c in cfg.cells()}
    assert params == {"m": 0.9, "n": 0.7}
    second.write_text(first.read_text())
    with pytest.raises(ConfigError, match="'m' is tuned in two files"):
        read_tunings([first, second])
    with pytest.raises(ConfigError, match="a tuning file or a list"):
        parse_config(raw(tuning=[], detectors=[{"name": "t-centroid", "tuned": True}]))


@pytest.mark.parametrize("where", ["folder", "under-a-file"])
def test_tune_refuses_an_unwritable_tuning_path_before_any_cell_runs(tmp_path, capsys, where):
    """The file is written after the whole grid; a bad path must be said before it runs."""
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump(raw()))
    (tmp_path / "a-file").write_text("x")
    target = {"folder": tmp_path, "under-a-file": tmp_path / "a-file" / "t.yaml"}[where]
    rc = main(["tune", str(grid), "--out", str(tmp_path / "sweep"), "--write", str(target),
               "--no-progress", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and not (tmp_path / "sweep").exists(), err
    assert f"pugan-bench tune: error: --write {target}:" in err, err
    assert "Traceback" not in err


def test_tune_fails_naming_the_pairs_without_a_choice_and_writes_nothing(tmp_path, capsys):
    """A detector whose every grid point failed would leave the file without its choice, and
    the report config reading it would fail far from the cause."""
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump(raw(seeds=[1000], detectors=[
        {"name": "t-centroid", "params": {"quantile": [0.9, 0.95]}},
        {"name": "t-raise", "params": {"quantile": [0.9, 0.95]}}])))
    out = tmp_path / "tuning.yaml"
    rc = main(["tune", str(grid), "--out", str(tmp_path / "sweep"), "--write", str(out),
               "--n-jobs", "1", "--no-progress", "-q"])
    captured = capsys.readouterr()
    assert rc == 2 and not out.exists(), captured
    assert "tuning written" not in captured.out
    err = captured.err
    assert "pugan-bench tune: error: tuning: 1 dataset/detector pair(s) got no choice" in err
    assert "dataset 'm', detector 't-raise': 2 failed" in err, err
    assert "deliberate failure in fit" in err, err
    assert str(tmp_path / "sweep" / "results.csv") in err
    assert "'t-centroid'" not in err


def test_a_tuning_file_is_never_left_half_written(tmp_path, monkeypatch):
    """The file is written after hours of grid cells; a write cut short (a full disk, a
    kill) must leave the previous file whole, not a shorter one that still reads as valid."""
    from helpers import fill_disk_midway

    from benchmarks.config import parse_config
    from benchmarks.tuning import write_tuning

    cfg = parse_config(raw(), base_dir=tmp_path)
    path = tmp_path / "tuning.yaml"
    first = {"m": {"t-centroid": {"params": {"quantile": 0.9}, "auprc": 0.5, "grid": []}}}
    write_tuning(path, first, config=cfg, criterion="auprc")
    before = path.read_bytes()
    fill_disk_midway(monkeypatch)
    second = {d: {"t-centroid": {"params": {"quantile": 0.5}, "auprc": 0.6, "grid": []}}
              for d in ("m", "n", "o", "p")}
    with pytest.raises(OSError):
        write_tuning(path, second, config=cfg, criterion="auprc")
    assert path.read_bytes() == before


def test_a_config_may_not_run_a_tuned_entry_on_the_seeds_that_chose_it(tmp_path):
    """A choice is the best of a grid on its tuning seeds: judged on them it looks better than
    it is. The tuning file records those seeds, and a config that runs them is refused."""
    tuning = tmp_path / "t.yaml"
    tuning.write_text("seeds: [1000, 1001]\n"
                      "choices:\n  m:\n    t-centroid: {params: {quantile: 0.9}}\n")
    tuned = [{"name": "t-centroid", "tuned": True}]
    with pytest.raises(ConfigError, match=r"'t-centroid' on 'm' was tuned on seed\(s\) \[1001\]"):
        parse_config(raw(seeds=[1001, 1002], tuning=str(tuning), detectors=tuned))
    cfg = parse_config(raw(seeds=[1002, 1003], tuning=str(tuning), detectors=tuned))
    assert cfg.detectors[0].per_dataset["m"] == {"quantile": 0.9}
    # a fixed entry beside it is no tuned choice: the same seeds are fine for it
    parse_config(raw(seeds=[1000], tuning=str(tuning),
                     detectors=[{"name": "t-centroid", "params": {"quantile": 0.5}}]))


@pytest.mark.parametrize("seeds", ["1000", "'1000-1002'", "[1000, x]", "[true]"])
def test_a_tuning_file_whose_seeds_are_not_a_list_of_integers_is_named(tmp_path, seeds):
    """The seeds decide which of a config's seeds may judge a choice: a number or a range
    written as text would be read as something else (or as letters), so it is refused."""
    tuning = tmp_path / "t.yaml"
    tuning.write_text(f"seeds: {seeds}\nchoices:\n  m:\n    t-centroid: "
                      "{params: {quantile: 0.9}}\n")
    with pytest.raises(ConfigError, match=r"t\.yaml: seeds must be a list of integers"):
        parse_config(raw(seeds=[0], tuning=str(tuning),
                         detectors=[{"name": "t-centroid", "tuned": True}]))


def test_unequal_tuning_budgets_are_refused_where_they_are_made_and_where_read(tmp_path, capsys):
    """Every detector gets the same number of grid points: a larger grid finds a luckier
    point on the same development seeds."""
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump(raw(seeds=[1000], detectors=[
        {"name": "t-centroid", "params": {"quantile": [0.8, 0.9, 0.95]}},
        {"name": "iforest", "params": {"n_estimators": [50]}}])))
    assert main(["tune", str(grid), "--out", str(tmp_path / "sweep"), "--write",
                 str(tmp_path / "t.yaml"), "--no-progress", "-q"]) == 2
    assert "same budget" in capsys.readouterr().err and not (tmp_path / "sweep").exists()
    tuning = tmp_path / "t.yaml"
    tuning.write_text("seeds: [1000]\nchoices:\n  m:\n"
                      "    t-centroid: {params: {quantile: 0.9}, grid: [a, b, c]}\n"
                      "    iforest: {params: {n_estimators: 50}, grid: [a]}\n")
    with pytest.raises(ConfigError, match="unequal budgets"):
        parse_config(raw(seeds=[0], tuning=str(tuning), detectors=[
            {"name": "t-centroid", "tuned": True}, {"name": "iforest", "tuned": True}]))


@pytest.mark.parametrize("seeds_line, message", [("", "records no seeds"),
                                                  ("seeds: [0, 1]\n", "report seed")])
def test_a_choice_without_seeds_or_on_report_seeds_is_refused(tmp_path, seeds_line, message):
    tuning = tmp_path / "t.yaml"
    tuning.write_text(seeds_line + "choices:\n  m:\n    t-centroid: {params: {quantile: 0.9}}\n")
    with pytest.raises(ConfigError, match=message):
        parse_config(raw(seeds=[5], tuning=str(tuning),
                         detectors=[{"name": "t-centroid", "tuned": True}]))


def test_a_choice_runs_only_on_the_data_and_detector_it_was_made_on(tmp_path):
    """The file keys choices by dataset label and detector key; it records what each was
    made on, and a sweep that gives the label to other data, or the key to another detector,
    is refused rather than reported as tuned."""
    from benchmarks.tuning import write_tuning

    grid = parse_config(raw(), base_dir=tmp_path)
    path = tmp_path / "tuning.yaml"
    write_tuning(path, {"m": {"t-centroid": {"params": {"quantile": 0.9}, "auprc": 0.5,
                                             "grid": []}}}, config=grid, criterion="auprc")
    tuned = [{"name": "t-centroid", "tuned": True}]
    same = parse_config(raw(seeds=[1002], tuning=str(path), detectors=tuned))
    assert same.detectors[0].per_dataset["m"] == {"quantile": 0.9}
    other_data = [{"dataset": "moons", "split": {"n_normal": 300}, "label": "m"}]
    with pytest.raises(ConfigError, match=r"chose 't-centroid' for dataset 'm' as .*n_normal.: "
                                          r"200.* but this config's 'm' is .*n_normal.: 300"):
        parse_config(raw(seeds=[1002], tuning=str(path), detectors=tuned, datasets=other_data))
    other_detector = [{"name": "t-oracle", "tuned": "t-centroid"}]
    with pytest.raises(ConfigError, match="on detector 't-centroid', but this entry is "
                                          "'t-oracle'"):
        parse_config(raw(seeds=[1002], tuning=str(path), detectors=other_detector))
    with pytest.raises(ConfigError, match=r"anomaly_ratios.: \[0.2\].* but this config's 'm' "
                                          r"is .*anomaly_ratios.: \[0.3\]"):
        parse_config(raw(seeds=[1002], tuning=str(path), detectors=tuned,
                         anomaly_ratios=[0.3]))


def test_a_choice_made_on_a_file_holds_for_the_same_file_in_another_folder(tmp_path):
    """A user's file counts by its content, as its cells' keys count it: a clone or a moved
    folder is the same data."""
    from benchmarks.tuning import write_tuning

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((300, 2)), columns=["a", "b"])
    frame["label"] = (np.arange(300) < 40).astype(int)
    (tmp_path / "A").mkdir()
    frame.to_csv(tmp_path / "A" / "data.csv", index=False)
    data = [{"dataset": "file:data.csv", "label": "mine"}]
    grid = parse_config(raw(datasets=data), base_dir=tmp_path / "A")
    path = tmp_path / "tuning.yaml"
    write_tuning(path, {"mine": {"t-centroid": {"params": {"quantile": 0.9}, "auprc": 0.5,
                                                "grid": []}}}, config=grid, criterion="auprc")
    shutil.copytree(tmp_path / "A", tmp_path / "B")
    moved = parse_config(raw(seeds=[1002], datasets=data, tuning=str(path),
                             detectors=[{"name": "t-centroid", "tuned": True}]),
                         base_dir=tmp_path / "B")
    assert moved.detectors[0].per_dataset["mine"] == {"quantile": 0.9}
    assert str(tmp_path) not in path.read_text()  # no machine's folder in the file


def test_a_point_whose_seeds_finished_without_a_score_is_said_left_out(caplog):
    cfg = parse_config(raw())
    rows = [{"dataset": "m", "detector": det.label, "seed": seed, "status": "ok",
             "auprc": float("nan") if i == 0 else 0.5}
            for i, det in enumerate(cfg.detectors) for seed in cfg.seeds]
    chosen = choose(pd.DataFrame(rows), cfg)["m"]["t-centroid"]
    assert chosen["params"] == cfg.detectors[1].params
    assert f"grid point {cfg.detectors[0].params} left out of the choice: its mean auprc is " \
        "undefined (a seed gave no score)" in caplog.text
