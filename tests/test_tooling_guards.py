"""Guards of the suite's tools: each test below fails if its tool goes back to accepting an
input that makes it print, write or choose something other than what was asked."""

import argparse
import importlib.util
import json
import logging
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str):
    """An experiment script as a module (experiments/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"guarded_{name}",
                                                  ROOT / "experiments" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- compare_tunings ----------------------------------------------------------------------

def _tuning(path: Path, *, criterion="auprc", seeds=(1000, 1001, 1002), std=0.01) -> str:
    grid = [{"params": {"k": k}, "mean": m, "std": std, "n_ok": len(seeds)}
            for k, m in ((1, 0.9), (5, 0.8))]
    path.write_text(yaml.safe_dump({
        "criterion": criterion, "seeds": list(seeds),
        "choices": {"moons": {"knn": {"params": {"k": 1}, criterion: 0.9, "grid": grid}}}}))
    return str(path)


def test_compare_tunings_refuses_tunings_chosen_on_different_criteria(tmp_path, capsys):
    """One column head names one metric: B's AUROC must not be shown as AUPRC."""
    compare = load_script("compare_tunings").main
    a = _tuning(tmp_path / "a.yaml")
    b = _tuning(tmp_path / "b.yaml", criterion="auroc")
    assert compare([a, b, "--detector", "knn"]) == 2
    assert "different criteria (A on auprc, B on auroc)" in capsys.readouterr().err


def test_compare_tunings_says_when_the_seeds_differ_and_prints_na_for_one_seed(tmp_path,
                                                                                capsys):
    """A one-seed tuning has no spread (std None): "n/a", not a TypeError."""
    compare = load_script("compare_tunings").main
    a = _tuning(tmp_path / "a.yaml")
    b = _tuning(tmp_path / "b.yaml", seeds=(1000,), std=None)
    assert compare([a, b, "--detector", "knn"]) == 0
    out = capsys.readouterr().out
    assert "| moons | k 1 | **0.900 ± 0.010** | **0.900 ± n/a** |" in out
    assert "the seeds differ" in out


# --- ablation -----------------------------------------------------------------------------

def test_an_empty_preset_list_is_refused_before_any_file_is_touched(tmp_path, monkeypatch,
                                                                    capsys):
    import benchmarks.ablation as ablation

    monkeypatch.setattr(ablation, "run", lambda *a, **k: pytest.fail("ran with no preset"))
    out = tmp_path / "ablation"
    out.mkdir()
    (out / "ablation.csv").write_text("the committed table\n")
    args = SimpleNamespace(presets=",", seeds=None, allow_report_seeds=False, out=str(out),
                           reports=str(tmp_path / "reports"), n_jobs=1)
    monkeypatch.setattr(ablation, "seeds_from_args", lambda args: [1000])
    assert ablation.run_command(args) == 2
    assert "no preset given" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no preset given"):
        ablation.write_ablation([], [1000], out=out, reports=tmp_path / "reports")
    assert (out / "ablation.csv").read_text() == "the committed table\n"


def test_a_misspelt_or_repeated_ablation_preset_is_refused_before_any_fit(monkeypatch):
    import benchmarks.ablation as ablation

    monkeypatch.setattr(ablation, "Parallel", lambda **k: pytest.fail("fitted"))
    with pytest.raises(ValueError, match=r"unknown preset\(s\) 'nope' in --presets"):
        ablation.run(["moons-paper", "nope"], [1000])
    with pytest.raises(ValueError, match="names 'moons-paper' more than once"):
        ablation.run(["moons-paper", "moons-paper"], [1000])


def test_a_table_that_cannot_be_summarised_writes_neither_file(tmp_path, monkeypatch):
    """The markdown is built first: a frame summary() cannot read, or no frame at all, leaves
    the CSV as it was."""
    import benchmarks.ablation as ablation

    out = tmp_path / "ablation"
    out.mkdir()
    (out / "ablation.csv").write_text("the committed table\n")
    for frame, error in ((pd.DataFrame(), ValueError), (pd.DataFrame({"x": [1]}), KeyError)):
        monkeypatch.setattr(ablation, "run", lambda *a, f=frame, **k: f)
        with pytest.raises(error):
            ablation.write_ablation(["d"], [1000], out=out, reports=tmp_path / "reports")
        assert (out / "ablation.csv").read_text() == "the committed table\n"
        assert not (tmp_path / "reports" / "ablation.md").exists()


# --- cell cache ---------------------------------------------------------------------------

def _ok_record(**extra) -> dict:
    from benchmarks.metrics import METRIC_COLUMNS

    return {"status": "ok", **{m: 0.9 for m in METRIC_COLUMNS}, **extra}


def test_a_cell_file_copied_under_another_cells_name_is_not_trusted(tmp_path, caplog):
    from benchmarks.cache import CellCache

    cache = CellCache(tmp_path)
    cache.put("aaaa", _ok_record(key="aaaa"))
    shutil.copy(cache.path("aaaa"), cache.path("bbbb"))
    with caplog.at_level(logging.WARNING, logger="benchmarks.cache"):
        assert cache.get("bbbb") is None
    assert "its key is 'aaaa', not the cell 'bbbb'" in caplog.text
    assert cache.get("aaaa")["key"] == "aaaa"
    cache.put("cccc", _ok_record(cell_id="dddd"))   # a carried row names its cell by cell_id
    assert cache.get("cccc") is None


def test_carried_rows_stored_under_their_own_cell_still_count(tmp_path):
    """rerun's copy_without and keep_rows_as_cells store results.csv rows (``cell_id``)
    under that same key: they must stay valid."""
    from benchmarks.cache import CellCache

    cache = CellCache(tmp_path)
    cache.put("eeee", _ok_record(cell_id="eeee"))
    cache.put("ffff", _ok_record())   # a record naming no cell is judged by its contents
    assert cache.get("eeee")["cell_id"] == "eeee"
    assert cache.get("ffff") is not None


def test_a_scores_file_of_another_cell_is_refused(tmp_path):
    from benchmarks.cache import CellCache

    cache = CellCache(tmp_path)
    cache.put_scores("aaaa", {"score": np.r_[0.1, 0.9], "y_test": [0, 1], "label": [0, 1]})
    shutil.copy(cache.scores_path("aaaa"), cache.scores_path("bbbb"))
    assert len(cache.get_scores("aaaa")) == 2
    with pytest.raises(ValueError, match="scores of cell 'aaaa', not of 'bbbb'"):
        cache.get_scores("bbbb")


# --- tuning ties --------------------------------------------------------------------------

def _tie_config(tmp_path):
    from benchmarks.config import load_config

    path = tmp_path / "tie.yaml"
    path.write_text(yaml.safe_dump({
        "name": "tie", "seeds": [1000, 1001, 1002], "anomaly_ratios": [0.2],
        "labelled_fractions": [0.5],
        "datasets": [{"dataset": "moons", "split": {"n_normal": 300},
                      "dataset_params": {"n_samples": 1000}}],
        "detectors": [{"name": "iforest", "params": {"n_estimators": [50, 100, 200]}}]}))
    return load_config(path)


def _tie_rows(config, values) -> pd.DataFrame:
    labels = [d.label for d in config.detectors]
    return pd.DataFrame([{"dataset": "moons", "detector": label, "seed": seed,
                          "status": "ok", "auprc": v}
                         for label, vals in zip(labels, values, strict=True)
                         for seed, v in zip(config.seeds, vals, strict=True)])


def test_a_tie_goes_to_the_earlier_grid_point_in_any_row_order(tmp_path):
    """Equal scores summed in another order differ in the last bit: the choice must not."""
    from benchmarks.tuning import choose

    config = _tie_config(tmp_path)
    frame = _tie_rows(config, [[0.1, 0.2, 0.3], [0.3, 0.2, 0.1], [0.0] * 3])
    for ascending in (True, False):
        rows = frame.sort_values(["detector", "seed"], ascending=[True, ascending])
        assert choose(rows, config)["moons"]["iforest"]["params"] == {"n_estimators": 50}


def test_a_later_point_that_is_really_higher_still_wins(tmp_path):
    from benchmarks.tuning import choose

    config = _tie_config(tmp_path)
    frame = _tie_rows(config, [[0.5] * 3, [0.5] * 2 + [0.500001], [0.0] * 3])
    assert choose(frame, config)["moons"]["iforest"]["params"] == {"n_estimators": 100}


# --- seed lists ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "problem"), [
    ("1000,1000", "more than once"), ("1000-1002,1001", "more than once"),
    ("-3", "negative"), ("1004-1000", "runs backwards"), ("5--3", "negative"),
    ("1000-99999", "holds 99000 seeds, more than 10000"),
    ("0-9999,10000-10005", "holds more than 10000 seeds"),
    ("5000000000", "above 4294967295"), ("1000,abc", "'abc' is not an integer"),
    ("1000-10x", "'1000-10x' is not an integer")])
def test_a_seed_list_that_does_not_say_what_it_seems_is_refused(text, problem):
    from benchmarks.seeds import parse_seeds

    with pytest.raises(ValueError, match=problem):
        parse_seeds(text)


def test_a_refused_seed_list_is_named_by_the_scripts_parser(capsys):
    from benchmarks.seeds import add_seed_arguments, parse_seeds

    assert parse_seeds("1000-1002, 1005") == (1000, 1001, 1002, 1005)
    parser = argparse.ArgumentParser()
    add_seed_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--seeds", "1004-1000"])
    assert "runs backwards" in capsys.readouterr().err


# --- detector contract --------------------------------------------------------------------

class _Centre:
    """A minimal detector that keeps the contract; the subclasses below each break it."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def get_params(self, deep=True):
        return {"random_state": self.random_state}

    def set_params(self, **params):
        self.random_state = params.get("random_state", self.random_state)
        return self

    def fit(self, X, y=None, *, known_normal=None):
        self.center_ = X[known_normal].mean(0)
        self.n_features_in_ = X.shape[1]
        self.seen_ = {"calls": 0}
        self.log_ = []
        self.decision_scores_ = self._score(X)
        self.threshold_ = float(np.quantile(self.decision_scores_[known_normal], 0.99))
        self.labels_ = self.decision_scores_ >= self.threshold_
        return self

    def _score(self, X):
        if X.shape[1] != self.n_features_in_:
            raise ValueError("wrong number of features")
        return np.linalg.norm(X - self.center_, axis=1)

    def decision_function(self, X):
        return self._score(X)

    def predict(self, X):
        return (self.decision_function(X) >= self.threshold_).astype(int)


class _CountsCalls(_Centre):
    def decision_function(self, X):
        self.seen_["calls"] += 1
        return self._score(X)


class _LogsCalls(_Centre):
    def decision_function(self, X):
        self.log_.append(len(X))
        return self._score(X)


class _EmptyPredict(_Centre):
    def predict(self, X):
        return np.zeros(0, int)


def test_the_contract_passes_a_detector_that_keeps_it():
    from benchmarks.contract import check_detector

    check_detector(_Centre(random_state=0))


@pytest.mark.parametrize("cls", [_CountsCalls, _LogsCalls])
def test_a_decision_function_writing_into_a_container_breaks_the_contract(cls):
    from benchmarks.contract import ContractError, check_detector

    with pytest.raises(ContractError, match="decision_function writes to the detector"):
        check_detector(cls(random_state=0))


def test_a_wrong_shaped_predict_breaks_the_contract():
    from benchmarks.contract import ContractError, check_detector

    with pytest.raises(ContractError, match="predict does not give one label per row"):
        check_detector(_EmptyPredict(random_state=0))


def test_fitted_state_treats_nan_as_unchanged():
    from benchmarks.contract import fitted_state

    det = SimpleNamespace(a=float("nan"), b=np.array([np.nan]), c={"x": [float("nan")]})
    before = fitted_state(det)
    det.c["x"][0] = float("nan")  # another NaN object: the same value
    assert fitted_state(det) == before


def test_fitted_state_leaves_loggers_modules_and_pandas_caches_alone():
    """Using a held logger, module or pandas index fills their own caches: no state write."""
    import logging

    import pandas as pd

    from benchmarks.contract import fitted_state

    det = SimpleNamespace(log_=logging.getLogger("contract-test"), xp_=np,
                          index_=pd.Index(["x", "y"]), s_=pd.Series([1.0], index=["x"]))
    before = fitted_state(det)
    det.log_.debug("scored")
    det.index_.get_loc("x")
    det.s_.loc["x"]
    assert fitted_state(det) == before
    det.s_.loc["x"] = 2.0
    assert fitted_state(det) != before


def test_a_tie_within_float_noise_goes_to_the_earliest_point_in_any_order():
    from benchmarks.tuning import _first_of_the_best

    a, b, c = ({"p": name} for name in "abc")
    means = [1.0, 1.0 + 0.9e-12, 1.0 + 1.8e-12]  # a~b and b~c, but not a~c
    assert _first_of_the_best(list(zip([a, b, c], means, strict=True))) is b
    assert _first_of_the_best([(a, 0.5), (b, 0.5 + 1e-3)]) is b
    assert _first_of_the_best([]) is None


# --- split_overlap ------------------------------------------------------------------------

def test_split_overlap_builds_the_split_a_sweeps_cell_draws(monkeypatch):
    """The audit must look at the splits the tuning and the report fit: drawn from the
    seed each cell derives, not from the raw seed."""
    from benchmarks.config import load_config

    module = load_script("split_overlap")
    seen = []
    monkeypatch.setattr(module, "make_pu_split", lambda **kw: seen.append(kw) or kw)
    module.sweep_split("kddcup99-low", 1000, "dev")
    module.sweep_split("kddcup99-low-2pct", 3, "report")
    cells = {(c.dataset, c.seed): c for name in ("tune-paper.yaml", "tune-paper-2pct.yaml",
                                                 "paper.yaml")
             for c in load_config(ROOT / "benchmarks" / "configs" / name).cells()}
    assert seen[0]["seed"] == cells["kddcup99-low", 1000].split_seed != 1000
    assert seen[1]["seed"] == cells["kddcup99-low-2pct", 3].split_seed != 3
    with pytest.raises(ValueError, match="runs 'moons'"):
        module.sweep_split("moons", 1000, "dev")


# --- make bench-compare -------------------------------------------------------------------

def _saved_run(storage: Path, folder: str, name: str, when: str) -> Path:
    path = storage / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"datetime": when, "benchmarks": []}))
    return path


def test_the_two_newest_runs_are_chosen_by_their_time_not_their_counter(tmp_path, capsys):
    from benchmarks.perf.summary import main

    old = _saved_run(tmp_path, "Linux-CPython-3.11-64bit", "0007_old.json",
                     "2024-01-01T00:00:00")
    new = _saved_run(tmp_path, "Linux-CPython-3.12-64bit", "0001_new.json",
                     "2024-06-01T00:00:00")
    newest = _saved_run(tmp_path, "Linux-CPython-3.12-64bit", "0002_newest.json",
                        "2024-07-01T00:00:00")
    assert main(["--storage", str(tmp_path), "--newest", "2"]) == 0
    assert capsys.readouterr().out.split() == [str(new), str(newest)]
    old.unlink(), new.unlink()
    assert main(["--storage", str(tmp_path), "--newest", "2"]) == 2
    assert "1 saved benchmark run(s)" in capsys.readouterr().err


def test_make_bench_compare_asks_the_summary_for_the_newest_runs():
    recipe = (ROOT / "Makefile").read_text().split("bench-compare:", 2)[-1].split("\n\n")[0]
    assert "benchmarks.perf.summary --storage .benchmarks --newest 2" in recipe
    assert "sort -t/" not in recipe


# --- pugan_distill_check ------------------------------------------------------------------

def test_an_unknown_dataset_label_is_named_with_the_valid_ones(capsys):
    module = load_script("pugan_distill_check")
    with pytest.raises(SystemExit) as exit_:
        module.main(["--dataset", "kdd-low-20K"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "unknown dataset label 'kdd-low-20K'" in err and "kdd-low-20k" in err
