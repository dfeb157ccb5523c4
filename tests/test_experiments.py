"""Experiment scripts choose on development seeds: each defaults to them and refuses a report
seed unless told explicitly. ``pugan-bench ablation`` follows the same rule."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import benchmarks.ablation as ablation
from benchmarks.cli import main as cli_main
from benchmarks.seeds import DEV_SEEDS, SeedError

FOLDER = Path(__file__).resolve().parents[1] / "experiments"
#: scripts that fit nothing and take no seeds: they read files other commands wrote
#: scripts without the development-seed gate: they read committed results or tunings, or
#: audit the two seed sets against each other, and choose nothing
READERS = {"cell_costs", "compare_tunings", "scorecard_swap", "split_overlap"}
SCRIPTS = sorted(p.stem for p in FOLDER.glob("*.py") if p.stem not in READERS)
REQUIRED = {"pugan_eval": ["kddcup99-low"]}  # positional arguments some scripts need


def load(name: str):
    """An experiment script as a module (the folder is not a package: nothing installs it)."""
    spec = importlib.util.spec_from_file_location(f"experiment_{name}", FOLDER / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_are_scripts_to_check():
    assert len(SCRIPTS) >= 5


def stop(seen):
    """The scripts' gate replaced: record what it was asked, then stop before any work."""
    def gate(args, parser=None):
        seen["seeds"] = args.seeds
        raise SeedError("stopped by the test")
    return gate


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_refuses_report_seeds_and_defaults_to_development_seeds(name, monkeypatch,
                                                                       capsys):
    module = load(name)
    seen = {}
    monkeypatch.setattr(module, "seeds_from_args", stop(seen))
    with pytest.raises(SeedError, match="stopped by the test"):
        module.main(REQUIRED.get(name, []))
    assert set(seen["seeds"]) <= set(DEV_SEEDS)
    monkeypatch.undo()
    # the refusal is the parser's: usage and one line naming the seeds, exit 2, no traceback
    with pytest.raises(SystemExit) as refused:
        module.main([*REQUIRED.get(name, []), "--seeds", "0"])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert "error: seed(s) [0] are report seeds" in err and "Traceback" not in err, err


def test_ablation_command_refuses_report_seeds_and_defaults_to_development_seeds(
        monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr(ablation, "seeds_from_args", stop(seen))
    assert cli_main(["ablation"]) == 2  # a SeedError is a ValueError: exit 2, message on stderr
    assert "stopped by the test" in capsys.readouterr().err
    assert set(seen["seeds"]) <= set(DEV_SEEDS)
    monkeypatch.undo()
    assert cli_main(["ablation", "--seeds", "0"]) == 2
    assert "report seeds" in capsys.readouterr().err


def test_pugan_eval_names_best_f1_the_oracle():
    """Its threshold is chosen with the test labels: every printed line says so."""
    row = {"inversion": "encoder", "score": "combined", "score_seconds": 1.0, "auroc": 0.9,
           "auprc": 0.8, "f1": 0.7, "best_f1": 0.75}
    line = load("pugan_eval")._line(1000, row, 100)
    assert "best_f1_oracle 0.7500" in line and "f1_best" not in line


def test_pugan_fit_speed_gives_no_interval_for_one_seed(monkeypatch, capsys):
    """One seed has no spread: the summary must not print an interval of zero width, and
    with several seeds its interval is the suite's (benchmarks.stats.mean_ci)."""
    from types import SimpleNamespace

    import numpy as np

    from benchmarks.stats import mean_ci

    module = load("pugan_fit_speed")
    y = np.r_[np.zeros(8, int), np.ones(2, int)]
    split = SimpleNamespace(X_train=np.zeros((10, 2)), known_normal=np.ones(10, bool),
                            X_test=np.zeros((10, 2)), y_test=y)
    monkeypatch.setattr(module, "preset_split", lambda preset, seed, **kw: split)

    def fake_fit(X, known, *, random_state, **params):
        scores = np.r_[np.zeros(8), np.ones(2)] + (random_state % 2) * np.r_[1, np.zeros(9)]
        det = SimpleNamespace(decision_function=lambda X: scores, history_=[{"d_loss": 1}])
        return {k: 0.0 for k in module.STAGES}, det

    monkeypatch.setattr(module, "profile_fit", fake_fit)
    monkeypatch.setattr(module, "warm_up", lambda *args: None)
    assert module.main(["--seeds", "1000"]) == 0
    out = capsys.readouterr().out
    assert "one seed: no interval" in out and "95% CI" not in out
    assert module.main(["--seeds", "1000,1001"]) == 0
    _, _, low, high = mean_ci([1.0, round(2 / 3, 5)])  # the two seeds' AUPRC
    assert f"95% CI {low:.4f} to {high:.4f}" in capsys.readouterr().out


def test_pugan_fit_speed_compares_two_runs_paired_by_seed(tmp_path, capsys):
    """The speed-up and the AUPRC difference over seeds, paired, with unclipped t intervals (a
    ratio above 1 and a negative difference are both outside [0, 1]), and a Wilcoxon p that
    five pairs cannot bring below 0.05, said so."""
    import numpy as np

    from benchmarks.stats import mean_ci

    module = load("pugan_fit_speed")
    seeds = [1000, 1001, 1002, 1003, 1004]
    before = pd.DataFrame({"seed": seeds, "threads": 1, "fit_wall_s": 1.0,
                           "fit_cpu_s": [130.0, 124.0, 127.0, 131.0, 128.0],
                           "auprc": [0.03, 0.0575, 0.0922, 0.0534, 0.0237]})
    after = before.assign(fit_cpu_s=[90.0, 76.0, 76.0, 78.0, 79.0],
                          auprc=[0.0293, 0.0148, 0.0786, 0.082, 0.0336])
    before.to_csv(tmp_path / "b.csv", index=False)
    after.sample(frac=1, random_state=0).to_csv(tmp_path / "a.csv", index=False)  # any order
    assert module.main(["--compare", str(tmp_path / "b.csv"), str(tmp_path / "a.csv")]) == 0
    out = capsys.readouterr().out
    m, _, lo, hi = mean_ci(before["fit_cpu_s"] / after["fit_cpu_s"], bounded=False)
    assert hi > 1 and f"mean {m:.2f} [{lo:.2f}, {hi:.2f}] (95% t interval over 5 seeds)" in out
    m, _, lo, hi = mean_ci(np.subtract(after["auprc"], before["auprc"]), bounded=False)
    assert lo < 0 and f"mean {m:+.4f} [{lo:+.4f}, {hi:+.4f}]" in out
    assert "which 5 non-zero pairs cannot bring below 0.05" in out
    # refused: unpaired seeds, a file holding two runs, runs that differ in threads
    after.iloc[:3].to_csv(tmp_path / "few.csv", index=False)
    with pytest.raises(SystemExit, match=r"seeds \[1003, 1004\] are in one file only"):
        module.compare(tmp_path / "b.csv", tmp_path / "few.csv")
    before.assign(params=["{}"] * 3 + ["{'hidden': 400}"] * 2).to_csv(tmp_path / "two.csv",
                                                                        index=False)
    with pytest.raises(SystemExit, match="holds more than one run .*params"):
        module.compare(tmp_path / "two.csv", tmp_path / "a.csv")
    after.assign(threads=2).to_csv(tmp_path / "t2.csv", index=False)
    with pytest.raises(SystemExit, match="differ in threads"):
        module.compare(tmp_path / "b.csv", tmp_path / "t2.csv")
    # a fit on a GPU is timed by the wall clock: the host's CPU seconds are launches and waits
    before.assign(params="{}", fit_wall_s=[60.0] * 5).to_csv(tmp_path / "cpu.csv", index=False)
    after.assign(params="{'device': 'cuda'}", fit_wall_s=[20.0] * 5).to_csv(
        tmp_path / "gpu.csv", index=False)
    assert "fit_wall_s 60.0 -> 20.0 (3.00x)" in module.compare(tmp_path / "cpu.csv",
                                                              tmp_path / "gpu.csv")
    # a seed whose fit failed (NaN) is left out, and said
    after.assign(auprc=[np.nan, *after["auprc"][1:]]).to_csv(tmp_path / "nan.csv", index=False)
    text = module.compare(tmp_path / "b.csv", tmp_path / "nan.csv")
    assert "over 4 seeds); 1 seed(s) left out, not finite in both" in text


def test_pugan_fit_speed_warm_up_fits_what_the_timed_fits_fit(capsys):
    """The untimed fit takes the settings a timed fit does, windows and the distilled scorer
    included, on the whole split; one that fails is said, not fatal."""
    from types import SimpleNamespace

    import numpy as np

    module = load("pugan_fit_speed")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 3))
    known = np.zeros(400, bool)
    known[:120] = True
    split = SimpleNamespace(X_train=X, known_normal=known)
    for params in ({"window": 50, "train_on": "p"}, {"inversion": "distilled"}, {}):
        module.warm_up(split, {"hidden": 8, "g_layers": 1, **params}, 1)
    assert "skipped" not in capsys.readouterr().out
    module.warm_up(split, {"hidden": 0}, 1)
    assert "warm-up fit skipped (ValueError: hidden must be an integer" in capsys.readouterr().out


def test_compare_tunings_matches_points_and_says_where_choices_differ(tmp_path, capsys):
    """Two tunings of one grid side by side; a parameter that one tuning alone sets must be
    named to leave out, or the points would never match."""
    import yaml

    def tuning(path, chosen, means, extra=None):
        grid = [{"params": {"k": k, **(extra or {})}, "mean": m, "std": 0.01, "n_ok": 3}
                for k, m in zip((1, 5), means, strict=True)]
        path.write_text(yaml.safe_dump({
            "criterion": "auprc", "seeds": [1000, 1001, 1002],
            "choices": {"moons": {"knn": {"params": {"k": chosen, **(extra or {})},
                                          "auprc": max(means), "grid": grid}}}}))
        return str(path)

    a = tuning(tmp_path / "a.yaml", 1, (0.9, 0.8))
    b = tuning(tmp_path / "b.yaml", 5, (0.7, 0.85), {"precision": "float32"})
    compare = load("compare_tunings").main
    assert compare([a, b, "--detector", "knn"]) == 2
    assert "['precision'] are set in one tuning only" in capsys.readouterr().err
    assert compare([a, b, "--detector", "knn", "--ignore", "precision"]) == 0
    out = capsys.readouterr().out
    assert "| moons | k 1 | **0.900 ± 0.010** | 0.700 ± 0.010 |" in out
    assert "| moons | k 5 | 0.800 ± 0.010 | **0.850 ± 0.010** |" in out
    assert "moons: A chooses k 1, B k 5" in out
    assert compare([a, a, "--detector", "knn"]) == 0
    assert "moons: the same choice" in capsys.readouterr().out
    # the choices' paired difference within each tuning, from the rows it was chosen on
    rows = pd.DataFrame([
        {"dataset": "moons", "detector": f"knn[k={k}]", "status": "ok", "seed": seed,
         "detector_params": json.dumps({"k": k, "precision": "float32"}), "auprc": value}
        for seed, k, value in ((1000, 1, 0.9), (1001, 1, 0.8), (1002, 1, 0.7),
                               (1000, 5, 0.8), (1001, 5, 0.8), (1002, 5, 0.5))])
    for name in ("ra", "rb"):
        (tmp_path / name).mkdir()
        rows.to_csv(tmp_path / name / "results.csv", index=False)
    assert compare([a, b, "--detector", "knn", "--ignore", "precision", "--results",
                    str(tmp_path / "ra"), str(tmp_path / "rb")]) == 0
    out = capsys.readouterr().out
    # differences -0.1, 0, -0.2: mean -0.1, sd 0.1, t(2) half-width 0.248
    assert "in A: B's point minus A's, paired by seed over 3 seed(s): -0.100 [-0.348, +0.148]" \
        in out
    assert compare([a, b, "--detector", "knn", "--ignore", "precision", "--results",
                    str(tmp_path), str(tmp_path / "rb")]) == 2
    assert f"no results.csv in {tmp_path}" in capsys.readouterr().err
    # a second entry of the same label and point would mix two detectors' scores
    pd.concat([rows, rows.head(1)]).to_csv(tmp_path / "rb" / "results.csv", index=False)
    assert compare([a, b, "--detector", "knn", "--ignore", "precision", "--results",
                    str(tmp_path / "ra"), str(tmp_path / "rb")]) == 2
    assert "two ok rows of knn on moons at k 1 for seed 1000" in capsys.readouterr().err


def test_split_overlap_counts_report_test_records_a_development_split_showed(monkeypatch):
    """The audit counts by row number: a report test record that was a development test
    record is counted as seen, one that was a development training record as trained."""
    import numpy as np

    module = load("split_overlap")

    class Split:
        def __init__(self, train, test, y):
            self.train_index, self.test_index = np.array(train), np.array(test)
            self.y_test = np.array(y)

    splits = {1000: Split([0, 1], [2, 3], [0, 1]),
              0: Split([2, 9], [1, 2, 3, 4], [0, 0, 1, 0])}
    monkeypatch.setattr(module, "sweep_split", lambda preset, seed, role: splits[seed])
    shares = module.overlap("any", [1000], [0])
    assert shares["normal"] == (3, 1 / 3, 1 / 3)    # 2 seen in a dev test set, 1 trained on
    assert shares["anomaly"] == (1, 1.0, 0.0)       # 3 was a dev test record
    assert "| any | 3 | 33.3% | 33.3% | 1 | 100.0% | 0.0% |" in module.markdown(
        {"any": shares}, [1000], [0])


def test_scorecard_swap_replaces_matching_rows_and_refuses_new_ones():
    """Each incoming row takes the place of the base row with the same detector, dataset,
    ratio, fraction and seed; a row with no counterpart is refused, not added unseen."""
    module = load("scorecard_swap")
    base = pd.DataFrame({"detector": ["a", "a", "b"], "dataset": "d", "anomaly_ratio": 0.1,
                         "labelled_fraction": 0.5, "seed": [0, 1, 0], "auprc": [0.1, 0.2, 0.3]})
    other = base.iloc[[1]].assign(auprc=0.9)
    swapped = module.swap(base, other).sort_values(["detector", "seed"])
    assert swapped["auprc"].tolist() == [0.1, 0.9, 0.3]
    with pytest.raises(ValueError, match="no row in the base"):
        module.swap(base, other.assign(seed=7))


def test_scorecard_swap_names_the_readings_whose_verdict_moves():
    from test_verdicts import _paper_frame

    from benchmarks.report import table2
    from benchmarks.scorecard import scorecard

    module = load("scorecard_swap")
    cards = [scorecard(f, table2(f)) for f in (_paper_frame(0.5, 0.9, 0.7),
                                                _paper_frame(0.9, 0.9, 0.7))]
    moved = module.differing_readings(*cards)
    assert "- PU-GAN beats OCSVM on moons / paper settings, F1 at own threshold" in moved
    assert not any("/ tuned, F1 at own threshold" in line for line in moved)
    assert module.differing_readings(cards[0], cards[0]) == []


def test_script_arguments_are_refused_in_one_line_not_cut_or_crashed(capsys):
    """--params that is no dict literal, several seeds given to a one-seed script, a timing
    of zero repetitions and a missing saved run: each is named by the parser, not a
    SyntaxError after the data loaded, a seed list cut to its first, a division by zero or
    a traceback."""
    import argparse

    from benchmarks.perf.lstm_compile import fastest_ms
    from benchmarks.perf.summary import main as summary_main
    from benchmarks.seeds import dict_literal

    assert dict_literal("{'n_epochs': 4}") == {"n_epochs": 4}
    for text, problem in (("{'n_epochs': 8", "not a Python literal"), ("5", "want a dict")):
        with pytest.raises(argparse.ArgumentTypeError, match=problem):
            dict_literal(text)
    for name in ("pugan_speed", "pugan_scoring_parts"):
        with pytest.raises(SystemExit):
            load(name).main(["--seeds", "1000-1002"])
        assert "this script measures one seed; got 3" in capsys.readouterr().err
    with pytest.raises(ValueError, match="reps and blocks must be at least 1"):
        fastest_ms(lambda: None, 0)
    assert summary_main(["--file", "/nonexistent/run.json"]) == 2
    assert "no saved run at /nonexistent/run.json" in capsys.readouterr().err


def test_split_overlap_names_the_report_seeds_it_audited():
    """Two report seeds are two, not the range between them."""
    line = load("split_overlap").markdown({}, [1000], [0, 9]).splitlines()[0]
    assert line.startswith("Report seeds 0, 9 against development seeds 1000")


def test_ocsvm_agreement_pairs_the_auprc_by_seed():
    """A rank correlation near 1 can hide a gap at the top of the ranking: the summary sets
    the two AUPRCs side by side, paired by seed, with the interval."""
    module = load("ocsvm_agreement")
    frame = pd.DataFrame({"seed": [1000, 1001, 1002], "dataset": "kddcup99",
                          "fit_on": "normals", "spearman": [0.997, 0.988, 0.996],
                          "exact_auprc": [0.9, 0.9, 0.9], "scalable_auprc": [0.8, 0.85, 0.9]})
    row = module.agreement_summary(frame).iloc[0]
    assert row["seeds"] == 3 and row["lowest spearman"] == 0.988
    assert row["auprc scalable - exact"].startswith("-0.0500 [")


def test_gaal_sign_reads_one_seeded_fit_both_ways():
    """The two signs are two fits with one seed: their AUROCs sum to one, and the data are
    normals inside the shell the anomalies lie on."""
    module = load("gaal_sign")
    train, X_test, y_test = module.shell_data(1000, dims=3)
    radius = np.linalg.norm(X_test[y_test == 1], axis=1)
    assert train.shape[1] == 3 and ((radius >= module.SHELL[0]) & (radius <= module.SHELL[1])).all()
    assert y_test.sum() == module.N_ANOMALY_TEST
    pyod, paper = module.sign_rows("so-gaal", 1000, dims=2, epochs=1)
    assert (pyod["gaal_score"], paper["gaal_score"]) == ("pyod", "paper")
    assert pyod["auroc"] + paper["auroc"] == pytest.approx(1.0)


def test_cell_costs_counts_seeds_and_totals_failed_cells_too(tmp_path, capsys):
    module = load("cell_costs")
    rows = [("a", "x", 0, "ok", 10.0), ("a", "y", 0, "ok", 5.0),
            ("a", "x", 1, "ok", 4.0), ("a", "y", 1, "ok", 6.0),
            ("a-2pct", "x", 0, "ok", 3.0), ("a-2pct", "y", 0, "failed", 1.0)]
    frame = pd.DataFrame(rows, columns=["dataset", "detector", "seed", "status", "cell_seconds"])
    lines = module.costs(frame, "x", "y", "-2pct")
    assert lines[0] == ("a: x 7.0 s, y 5.5 s per cell on average; x costs more on 1 of 2 "
                        "seeds")
    assert len(lines) == 2  # a-2pct has no pair of finished cells
    assert lines[-1] == "readings ending in '-2pct': 4 cell seconds; the others: 25"
    with pytest.raises(SystemExit, match=r"no rows of \['z'\]"):
        module.costs(frame, "z", "y", "-2pct")
    with pytest.raises(SystemExit, match="no finished cell of 'x' or of 'y'"):
        module.costs(frame.assign(status="failed"), "x", "y", "-2pct")
    # a sweep over ratios pairs cells by ratio too, not an average over them
    ratios = pd.concat([frame.assign(anomaly_ratio=r) for r in (0.1, 0.2)])
    assert "x costs more on 2 of 4 cells" in module.costs(ratios, "x", "y", "-2pct")[0]
    frame.to_csv(tmp_path / "results.csv", index=False)
    assert module.main(["--sweep", str(tmp_path), "--more", "x", "--than", "y"]) == 0
    assert "x costs more on 1 of 2 seeds" in capsys.readouterr().out


def test_pugan_fit_speed_appends_rows_only_under_their_own_header(tmp_path):
    module = load("pugan_fit_speed")
    out = tmp_path / "fit.csv"
    module.append_row(out, {"seed": 1000, "auprc": 0.1})
    module.append_row(out, {"seed": 1001, "auprc": 0.2})
    assert pd.read_csv(out)["seed"].tolist() == [1000, 1001]
    with pytest.raises(SystemExit, match=r"holds other columns \(seed, auprc\)"):
        module.append_row(out, {"seed": 1002, "fit_wall_s": 3.0})
    assert len(pd.read_csv(out)) == 2
