"""Reports are functions of results.csv alone: tables, paper columns, figures."""

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.report import load_results, markdown_table, report, table2

ROOT = Path(__file__).resolve().parents[1]


def fake_results(path):
    rows = []
    for det, ratio, frac, seed in itertools.product(["a", "b"], [0.05, 0.2], [0.1, 0.5], [0, 1]):
        f1 = {"a": 0.5, "b": 0.7}[det] + 0.1 * seed
        rows.append(dict(dataset="moons", detector=det, anomaly_ratio=ratio,
                         labelled_fraction=frac, seed=seed, status="ok", error="",
                         precision=f1, recall=f1, f1=f1, best_f1=f1 + 0.05, auroc=0.9,
                         auprc=0.8, fit_seconds=1.0, preset="", detector_name=det))
    rows.append(dict(dataset="kddcup99-low", detector="pugan", anomaly_ratio=0.0018,
                     labelled_fraction=0.015, seed=0, status="ok", error="", precision=0.8,
                     recall=0.6, f1=0.69, best_f1=0.75, auroc=0.95, auprc=0.7, fit_seconds=9.0,
                     preset="kddcup99-low", detector_name="pugan"))
    rows.append(dict(dataset="kddcup99-low", detector="ocsvm-normals", anomaly_ratio=0.0018,
                     labelled_fraction=0.015, seed=0, status="skipped",
                     error="ocsvm cannot scale to 70000 training rows (max 50000)",
                     preset="kddcup99-low", detector_name="ocsvm-normals"))
    pd.DataFrame(rows).to_csv(path / "results.csv", index=False)


def test_table2_aggregates_over_seeds_with_paper_columns(tmp_path):
    fake_results(tmp_path)
    t2 = table2(load_results(tmp_path))
    row = t2[(t2["method"] == "a") & (t2["anomaly_ratio"] == 0.05)
             & (t2["labelled_fraction"] == 0.1)].iloc[0]
    # sample standard deviation (ddof=1) and a Student-t interval, clipped to [0, 1]
    assert row["f1"] == pytest.approx(0.55) and row["f1_std"] == pytest.approx(0.1 / np.sqrt(2))
    assert (row["f1_ci_low"], row["f1_ci_high"]) == (0.0, 1.0)
    assert row["best_f1_oracle"] == pytest.approx(0.6) and row["n_ok"] == 2
    assert np.isnan(row["paper_f1_oracle"])
    pg = t2[t2["method"] == "pugan"].iloc[0]
    paper = [pg[f"paper_{m}_oracle"] for m in ("precision", "recall", "f1")]
    assert paper == [0.816, 0.647, 0.722]
    oc = t2[t2["method"] == "ocsvm-normals"].iloc[0]
    assert oc["n_skipped"] == 1 and np.isnan(oc["f1"]) and "cannot scale" in oc["note"]
    assert oc["paper_f1_oracle"] == 0.716


def test_the_papers_table2_rows_add_up_but_one_as_docs_protocol_says():
    """Each F1 of the paper's Table 2 is the harmonic mean of its precision and recall to
    the printed digits, except the OCSVM's at low labelling, which docs/protocol.md names:
    a transcription slip here would show as a second row that does not add up."""
    from benchmarks.paper import PAPER_TABLE2

    def harmonic(p, r):
        return 2 * p * r / (p + r)

    off = {key: round(harmonic(p, r), 3) for key, (p, r, f1) in PAPER_TABLE2.items()
           if abs(harmonic(p, r) - f1) > 0.002}
    assert off == {("kddcup99-low", "OCSVM"): 0.764}
    doc = (Path(__file__).resolve().parents[1] / "docs" / "protocol.md").read_text()
    assert "0.729 and 0.803 give 0.764" in doc


def test_table2_says_when_a_metric_is_undefined_in_ok_cells(tmp_path):
    """An ok cell whose test split left a metric undefined (NaN) is counted out of that
    metric's mean, and the note says over how many cells the mean is."""
    fake_results(tmp_path)
    frame = load_results(tmp_path)
    frame.loc[(frame["detector"] == "a") & (frame["seed"] == 1), "auroc"] = np.nan
    t2 = table2(frame)
    row = t2[(t2["method"] == "a") & (t2["anomaly_ratio"] == 0.05)
             & (t2["labelled_fraction"] == 0.1)].iloc[0]
    assert row["n_ok"] == 2 and row["auroc"] == pytest.approx(0.9)
    assert "undefined (NaN) in ok cells" in row["note"] and "auroc in 1 of 2" in row["note"]
    assert "f1 in" not in row["note"]
    b = t2[t2["method"] == "b"].iloc[0]
    assert "undefined" not in b["note"]


def test_report_from_the_csv_alone(tmp_path, monkeypatch):
    out = tmp_path / "paper"
    out.mkdir()
    fake_results(out)
    calls = []

    def fake_table1(seed=0):
        calls.append(seed)
        return pd.DataFrame({"dataset": ["kddcup99-low"], "training_size": [1],
                             "paper_training_size": [562387]})

    monkeypatch.setattr("benchmarks.splits.table1", fake_table1)
    reports = tmp_path / "reports"
    written = report(out, reports_dir=reports)
    assert calls == [0]  # a paper preset is in the results: Table 1 is written
    assert (out / "table1.csv").is_file() and (reports / "table1.md").is_file()
    md = (reports / "table2.md").read_text()
    assert "best F1 (ORACLE)" in md and "0.816 / 0.647 / 0.722" in md
    assert "| moons | a | 0.05 | 0.1 | 0.550 [0.000, 1.000] |" in md
    assert "| kddcup99-low | pugan | 0.0018 | 0.015 |" in md
    figs = sorted(p.name for p in (reports / "figures").iterdir())
    assert "paper_moons_f1_vs_anomaly_ratio.png" in figs
    assert "paper_moons_auprc_vs_labelled_fraction.svg" in figs
    assert len(figs) == 8  # 2 metrics x 2 axes x (png, svg); kdd has one ratio: no figure
    assert set(written) >= {out / "table2.csv", reports / "table2.md"}
    # another folder's outputs are prefixed and do not collide
    other = tmp_path / "imbalance"
    other.mkdir()
    fake_results(other)
    report(other, reports_dir=reports, with_table1=False)
    assert (reports / "imbalance_table2.md").is_file()
    assert (reports / "figures" / "imbalance_moons_f1_vs_anomaly_ratio.svg").is_file()


def test_report_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no results file"):
        load_results(tmp_path)
    pd.DataFrame({"x": [1]}).to_csv(tmp_path / "results.csv", index=False)
    with pytest.raises(ValueError, match="not a pugan-bench results file: missing column"):
        load_results(tmp_path)


def test_markdown_table():
    md = markdown_table(pd.DataFrame({"a": [1, 2], "b": [0.5, np.nan], "c": ["x|y", "z"]}))
    assert md.splitlines() == ["| a | b | c |", "| --- | --- | --- |", "| 1 | 0.500 | x\\|y |",
                               "| 2 |  | z |"]


def test_a_sweep_over_many_datasets_gets_no_figure_per_dataset(tmp_path):
    """A leaderboard sweep (more datasets than MAX_CURVE_DATASETS) is summarised by its ranking:
    the report writes its tables but not four curve figures per dataset."""
    from benchmarks.report import MAX_CURVE_DATASETS

    one = tmp_path / "one"
    one.mkdir()
    fake_results(one)
    moons = pd.read_csv(one / "results.csv").query("dataset == 'moons'")
    many = tmp_path / "many"
    many.mkdir()
    pd.concat([moons.assign(dataset=f"set{i}") for i in range(MAX_CURVE_DATASETS + 1)]).to_csv(
        many / "results.csv", index=False)
    reports = tmp_path / "reports"
    report(many, reports_dir=reports, with_table1=False)
    assert (reports / "many_table2.md").is_file()
    assert not list((reports / "figures").glob("many_set*_vs_*"))


def test_cost_sentence_gives_a_wall_time_only_for_a_whole_run_of_the_current_code(tmp_path):
    from benchmarks.report import _cost_sentence
    from benchmarks.results import record_run

    frame = pd.DataFrame({"cell_id": ["a", "b"], "seed": [0, 1], "cell_seconds": 60.0,
                          "code_version": ["1+new", "1+base"]})
    whole = dict(config="s", seeds=[0, 1], cells=2, cached=0, run=2, workers=2, cores=2,
                 wall_seconds=120.0, cell_seconds=120.0)
    record_run(tmp_path, **whole, code_versions=["1+base", "1+old"])   # code since changed
    record_run(tmp_path, **whole)                                       # versions not recorded
    record_run(tmp_path, **{**whole, "cached": 1, "run": 1}, code_versions=["1+base", "1+new"])
    assert "no run from an empty folder with the code" in _cost_sentence(frame, tmp_path)
    record_run(tmp_path, **whole, code_versions=["1+new", "1+base"])
    text = _cost_sentence(frame, tmp_path)
    assert "took 2.0 minutes with 2 workers on 2 cores (core utilisation 0.50)" in text
    # a run that recorded its processor names it: times (and PU-GAN's arithmetic) depend on it
    record_run(tmp_path, **whole, code_versions=["1+new", "1+base"],
               processor="AMD EPYC, PU-GAN trains in float32 there")
    assert ("on 2 cores (AMD EPYC, PU-GAN trains in float32 there; core utilisation 0.50)"
            in _cost_sentence(frame, tmp_path))


def test_cost_sentence_of_a_small_sweep_of_your_own(tmp_path):
    """Tenths below ten minutes, not "0 core-minutes" beside a table of tenths; a folder of
    your own called ``paper`` is credited to the config it ran, not `make reproduce-paper`."""
    from benchmarks.report import _cost_sentence
    from benchmarks.results import record_run

    folder = tmp_path / "paper"
    folder.mkdir()
    frame = pd.DataFrame({"cell_id": ["a", "b"], "seed": [0, 0], "cell_seconds": 9.0,
                          "code_version": "1+new"})
    record_run(folder, config="s", seeds=[0], cells=2, cached=0, run=2, workers=1, cores=2,
               wall_seconds=18.0, cell_seconds=18.0, code_versions=["1+new"])
    text = _cost_sentence(frame, folder)
    assert text.startswith(f"`pugan-bench run CONFIG --out {folder}`: 2 cells on 1 seeds")
    assert "sum to 0.3 core-minutes" in text and "took 0.3 minutes with 1 worker on" in text
    (folder / "config.yaml").write_text("source: mine.yaml\ndetectors: []\ndatasets: []\n")
    assert _cost_sentence(frame, folder).startswith(f"`pugan-bench run mine.yaml --out {folder}`")
    # a copy made by rerun is filled by rerun: a plain run would compute every cell there
    (folder / "moves.csv").write_text("dataset\n")
    assert _cost_sentence(frame, folder).startswith(
        f"`pugan-bench rerun SOURCE {folder} --detector LABEL ...`: 2 cells")


def test_a_cell_two_entries_name_costs_its_time_once():
    """A tuned choice equal to a fixed entry is one cell run once: the sweep's sum and each
    dataset's total count it once, while each entry's mean shows what a cell of it costs."""
    from benchmarks.report import _cost_sentence, cost_table

    frame = pd.DataFrame({"cell_id": ["a", "a", "b"], "seed": [0, 0, 1],
                          "dataset": "moons", "detector": ["knn (tuned)", "knn", "knn"],
                          "status": "ok", "cell_seconds": [60.0, 60.0, 60.0]})
    assert "2 cells on 2 seeds, whose fit-and-score times sum to 2.0 core-minutes" in \
        _cost_sentence(frame, None)
    row = cost_table(frame).iloc[0]
    assert row["cells"] == 2 and row["core-minutes"] == 2.0 and row["knn (tuned)"] == 60.0


def test_a_report_of_a_sweep_stopped_part_way_says_what_is_missing(tmp_path, caplog):
    """Every table is over the rows there are; a sweep whose last run held more cells than
    results.csv does says so in Table 2 and in a warning, instead of passing a part for the
    whole."""
    from benchmarks.report import missing_cells_sentence
    from benchmarks.results import record_run

    frame = pd.DataFrame({"cell_id": ["a"], "seed": [0]})
    assert missing_cells_sentence(frame, tmp_path) == ""   # no run recorded: nothing to say
    record_run(tmp_path, config="s", seeds=[0], cells=1, cached=0, run=1)
    assert missing_cells_sentence(frame, tmp_path) == ""
    record_run(tmp_path, config="s", seeds=[0, 1], cells=8, cached=1, run=1,
               stopped="interrupted")
    assert missing_cells_sentence(frame, tmp_path) == (
        "INCOMPLETE: results.csv holds 1 of the 8 cells of the sweep's last run, which was "
        "stopped (interrupted); every table is over the cells that have a row. Run the "
        "sweep's command again to compute the rest.")


def test_cost_table_splits_the_time_by_dataset_and_detector(tmp_path):
    """Mean seconds per cell for each dataset and detector, each dataset's share of the
    sweep, the costliest first; a timed-out cell counts (it cost its time), a skipped one
    (refused before any fit) nowhere. The wall-minute
    estimate appears only beside a recorded whole run, and is named an estimate."""
    from benchmarks.report import cost_markdown, cost_table
    from benchmarks.results import record_run

    frame = pd.DataFrame({
        "cell_id": list("abcdef"), "seed": [0, 1, 0, 1, 0, 1], "code_version": "1+a",
        "dataset": ["moons", "moons", "kdd", "kdd", "kdd", "kdd"],
        "detector": ["gan", "gan", "gan", "gan", "svm", "svm"],
        "status": ["ok", "ok", "ok", "timeout", "ok", "skipped"],
        "cell_seconds": [10.0, 20.0, 100.0, 140.0, 30.0, 0.003]})
    table = cost_table(frame)
    assert list(table["dataset"]) == ["kdd", "moons"]
    kdd, moons = table.iloc[0], table.iloc[1]
    assert kdd["cells"] == 3 and kdd["gan"] == 120.0 and kdd["svm"] == 30.0
    assert moons["gan"] == 15.0 and pd.isna(moons["svm"])
    assert kdd["core-minutes"] == 4.5 and kdd["share"] == 270 / 300
    folder = tmp_path / "paper"
    folder.mkdir()
    assert "estimated wall minutes" not in cost_markdown(frame, folder)
    record_run(folder, config="s", seeds=[0, 1], cells=6, cached=0, run=6, workers=2,
               cores=2, wall_seconds=300.0, cell_seconds=300.0, code_versions=["1+a"])
    text = cost_markdown(frame, folder)
    # 270 cell seconds over 2 workers at utilisation 0.5: 270 s of wall time
    assert "| kdd | 3 | 4.5 | 4.5 | 90% | 120.0 | 30.0 |" in text
    assert "| moons | 2 | 0.5 | 0.5 | 10% | 15.0 |  |" in text
    assert "not a measured run" in text and "took 5.0 minutes with 2 workers" in text


def test_the_processor_summary_names_the_arithmetic_pugan_trains_in(tmp_path, monkeypatch):
    """The arithmetic comes from PU-GAN's own choice (oneDNN's check), not from cpuinfo's
    flags: an AVX-512 processor without BF16 flags still trains in bfloat16."""
    import pugan.train as train_mod
    from benchmarks.sweep import processor_summary

    for name in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"):
        monkeypatch.delenv(name, raising=False)
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2\n\n"
                       "processor\t: 1\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2\n")
    for native, precision in ((True, "bfloat16"), (False, "float32")):
        monkeypatch.setattr(train_mod, "native_bfloat16", lambda device, n=native: n)
        assert processor_summary(cpuinfo) == f"AMD EPYC, PU-GAN trains in {precision} there"
    assert processor_summary(tmp_path / "absent").endswith("PU-GAN trains in float32 there")
    assert processor_summary(cpuinfo, arithmetic=False) == "AMD EPYC"
    # a run with oneDNN capped to fewer instructions stands in for another processor: say so
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "avx2")
    assert processor_summary(cpuinfo, arithmetic=False) == "AMD EPYC (oneDNN held to AVX2)"
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "ALL")
    assert processor_summary(cpuinfo, arithmetic=False) == "AMD EPYC"
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA")
    monkeypatch.setenv("DNNL_MAX_CPU_ISA", "AVX2")   # oneDNN's older name for the cap
    assert processor_summary(cpuinfo, arithmetic=False) == "AMD EPYC (oneDNN held to AVX2)"


def test_the_processor_summary_names_the_unit_that_multiplies_bfloat16(tmp_path, monkeypatch):
    """oneDNN's bfloat16 LSTM runs on AMX tiles where they exist and its cap allows them, else
    on AVX-512 BF16; the two round differently, so a run's line says which it had."""
    import pugan.train as train_mod
    from benchmarks.sweep import bfloat16_unit, processor_summary

    amx = {"avx512f", "avx512_bf16", "amx_tile", "amx_bf16"}
    assert bfloat16_unit(amx) == "AMX tiles"
    assert bfloat16_unit(amx, "ALL") == "AMX tiles"
    assert bfloat16_unit(amx, "AVX10_1_512_AMX") == "AMX tiles"
    assert bfloat16_unit(amx, "AVX512_CORE_BF16") == "AVX-512 BF16"
    assert bfloat16_unit(amx - {"amx_bf16"}) == "AVX-512 BF16"
    assert bfloat16_unit(amx, "all") == bfloat16_unit(amx, "avx10_1_512_amx") == "AMX tiles"
    # below AVX512_CORE_BF16 oneDNN runs its reference LSTM: no unit is named
    assert bfloat16_unit(amx, "AVX512_CORE") == bfloat16_unit(amx, "AVX2") == ""
    assert bfloat16_unit({"avx2"}) == "" and bfloat16_unit(None) == ""

    for name in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(train_mod, "native_bfloat16", lambda device: True)
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Intel Xeon\n"
                       f"flags\t\t: fpu {' '.join(sorted(amx))}\n")
    assert processor_summary(cpuinfo) == ("Intel Xeon, PU-GAN trains in bfloat16 on AMX tiles "
                                          "there")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "avx512_core_bf16")
    assert processor_summary(cpuinfo) == ("Intel Xeon (oneDNN held to AVX512_CORE_BF16), PU-GAN "
                                          "trains in bfloat16 on AVX-512 BF16 there")
    monkeypatch.setattr(train_mod, "native_bfloat16", lambda device: False)
    assert processor_summary(cpuinfo).endswith("PU-GAN trains in float32 there")


def test_a_run_line_that_cannot_be_written_is_said_not_swallowed(tmp_path, caplog):
    """The sweep's cells are saved by then, so the run goes on; but the missing line (and so
    the missing cost sentence) is named, not passed over in silence."""
    from benchmarks.results import RUNS_FILE, record_run

    (tmp_path / RUNS_FILE).mkdir()  # a folder where the file goes: the append fails
    with caplog.at_level("WARNING", logger="benchmarks.results"):
        record_run(tmp_path, config="s", cells=1)
    assert f"{RUNS_FILE}: this run's line could not be written" in caplog.text
    assert "cost sentence will leave this run out" in caplog.text


def test_a_half_written_run_line_is_skipped_not_fatal(tmp_path, caplog):
    """A full disk mid-append leaves a truncated last line in runs.jsonl: the runs before it
    are still read, and the skipped line is named in one warning."""
    from benchmarks.results import RUNS_FILE, read_runs, record_run

    record_run(tmp_path, config="s", cells=2, run=2, wall_seconds=120.0)
    with open(tmp_path / RUNS_FILE, "a", encoding="utf-8") as fh:
        fh.write('{"cells": 2, "config": "s", "fini')   # the append cut short
    with caplog.at_level("WARNING", logger="benchmarks.results"):
        runs = read_runs(tmp_path)
    assert len(runs) == 1 and runs.wall_seconds.item() == 120.0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert RUNS_FILE in warnings[0] and "skipped 1 line(s)" in warnings[0]
    # the next run's line starts afresh instead of joining the broken one
    record_run(tmp_path, config="s", cells=2, run=2, wall_seconds=60.0)
    assert list(read_runs(tmp_path).wall_seconds) == [120.0, 60.0]


def test_cost_sentence_groups_thousands():
    from benchmarks.report import _cost_sentence

    frame = pd.DataFrame({"cell_id": [f"c{i}" for i in range(1234)], "seed": 0,
                          "cell_seconds": 6.0})
    text = _cost_sentence(frame, None)
    assert "1,234 cells on 1 seeds" in text and "123 core-minutes" in text


def _sweep_tuned_with_k3(tmp_path, choice: str, params: dict | None = None,
                         overrides: dict | None = None):
    """A sweep folder whose detector ``b (tuned)`` ran with k=3 on moons, and a tuning file
    holding ``choice`` (a dataset and the start of its choice for ``b``); ``params``: what the
    config gave beside ``tuned`` (they lie over the choice), with ``test_params`` merged in
    where ``overrides`` (the config's own values alone) is given too."""
    import yaml

    out = tmp_path / "sweep"
    out.mkdir()
    fake_results(out)
    tuning = tmp_path / "tuning.yaml"
    tuning.write_text("criterion: auprc\nseeds: [1000]\n"
                      f"choices:\n  {choice}, auprc: 0.5, grid: []}}\n")
    (out / "config.yaml").write_text(yaml.safe_dump({
        "datasets": [{"label": "moons"}],
        "detectors": [{"label": "b (tuned)", "name": "b", "params": params or {},
                       "tuned": "b", "per_dataset": {"moons": {"k": 3}},
                       **({} if overrides is None else {"overrides": overrides})}],
        "tuning": str(tuning)}))
    return out, tuning


def test_a_tuning_file_changed_since_the_run_is_named_not_a_bare_key(tmp_path, capsys):
    """The sweep's config.yaml says which tuned choice each cell ran with; a tuning file that
    no longer holds it is an error naming the file, the dataset and the detector."""
    from benchmarks.cli import main
    from benchmarks.report import settings_table

    out, tuning = _sweep_tuned_with_k3(tmp_path, "other-data:\n    b: {params: {k: 3}")
    named = rf"{tuning}.* no choice of 'b' for dataset 'moons'"
    with pytest.raises(ValueError, match=named):
        settings_table(out)
    assert main(["report", str(out), "--reports-dir", str(tmp_path / "reports"),
                 "--no-figures", "--no-table1"]) == 2
    assert "no choice of 'b' for dataset 'moons'" in capsys.readouterr().err


def test_a_sweep_run_before_tuning_again_is_not_given_the_new_choices_score(tmp_path):
    """The tuning file still tunes the detector but now chooses another point: its score
    belongs to that point, so the settings say the sweep's choice is an earlier one."""
    from benchmarks.report import settings_table

    out, tuning = _sweep_tuned_with_k3(tmp_path, "moons:\n    b: {params: {k: 5}")
    row = settings_table(out).iloc[0]
    assert row["params"] == "k=3" and "0.500" not in row["source"]
    assert f"tuned by an earlier {tuning}, which now chooses k=5" in row["source"]
    tuning.write_text(tuning.read_text().replace("k: 5", "k: 3"))
    assert "best mean auprc 0.500" in settings_table(out).iloc[0]["source"]


def test_a_value_the_config_lays_over_the_tuned_choice_is_said_as_such(tmp_path):
    """k=3 given beside ``tuned`` wins over the file's k=5: the settings name the override,
    with the choice's score, and do not send the reader to rerun a sweep that ran as asked."""
    from benchmarks.report import settings_table

    out, _ = _sweep_tuned_with_k3(tmp_path, "moons:\n    b: {params: {k: 5}", {"k": 3})
    source = settings_table(out).iloc[0]["source"]
    assert "best mean auprc 0.500" in source and "earlier" not in source
    assert source.endswith("; k=3 set in the config over the tuned choice k=5")
    # a test_params value (k=1) that the choice (k=3) lay over is no override, and no
    # stale choice either
    (tmp_path / "t").mkdir()
    out, _ = _sweep_tuned_with_k3(tmp_path / "t", "moons:\n    b: {params: {k: 3}", {"k": 1})
    source = settings_table(out).iloc[0]["source"]
    assert "best mean auprc 0.500" in source and "set in the config" not in source


def test_a_test_params_value_equal_to_an_earlier_choice_is_no_override(tmp_path):
    """The sweep ran the earlier choice k=3, the registry's test_params hold k=3 too, and the
    file now chooses k=5: config.yaml keeps the config's own values apart from test_params,
    so the settings call the choice an earlier one instead of a value the config set."""
    from benchmarks.report import settings_table

    out, tuning = _sweep_tuned_with_k3(tmp_path, "moons:\n    b: {params: {k: 5}", {"k": 3},
                                       overrides={})
    source = settings_table(out).iloc[0]["source"]
    assert f"tuned by an earlier {tuning}, which now chooses k=5" in source
    assert "set in the config" not in source


def test_settings_say_how_many_grid_points_could_not_compete(tmp_path):
    from benchmarks.report import settings_table

    out, tuning = _sweep_tuned_with_k3(tmp_path, "moons:\n    b: {params: {k: 3}")
    tuning.write_text(tuning.read_text().replace(
        "grid: []", "grid: [{params: {k: 3}, mean: 0.5, n_ok: 1, n_cells: 1}, "
                    "{params: {k: 5}, mean: null, n_ok: 0, n_cells: 1}, "
                    "{params: {k: 7}, mean: null, n_ok: 1, n_cells: 1}]"))
    assert ("best mean auprc 0.500 of 3 grid points (2 left out: not every seed finished ok "
            "with a score) on development seeds 1000") in settings_table(out).iloc[0]["source"]


def test_settings_read_the_same_from_any_folder(tmp_path, monkeypatch):
    """config.yaml records the files inside the repository relative to it: a report run from
    another folder finds the tuning files (and keeps the committed settings' provenance)."""
    from benchmarks.report import settings_table
    from benchmarks.results import recorded_path

    here = settings_table(ROOT / "results" / "paper")
    monkeypatch.chdir(tmp_path)
    there = settings_table(ROOT / "results" / "paper")
    assert there.equals(here) and there["source"].str.startswith("tuned: best").any()
    assert recorded_path(ROOT / "benchmarks" / "configs" / "paper.yaml") == \
        "benchmarks/configs/paper.yaml"
    assert recorded_path("mine.yaml") == (tmp_path / "mine.yaml").as_posix()


def test_settings_say_whether_the_tuned_code_is_the_code_that_runs(tmp_path):
    """A choice made on other code (the detector's fingerprint moved since its grid ran) may
    not hold: the settings say so, and say nothing when the code is the same."""
    import yaml

    from benchmarks.fingerprint import row_code_version
    from benchmarks.registry import make_detector
    from benchmarks.report import settings_table

    out = tmp_path / "sweep"
    out.mkdir()
    tuning = tmp_path / "tuning.yaml"
    (out / "config.yaml").write_text(yaml.safe_dump({
        "datasets": [{"label": "moons"}],
        "detectors": [{"label": "iforest (tuned)", "name": "iforest", "params": {},
                       "tuned": "iforest", "per_dataset": {"moons": {"n_estimators": 50}}}],
        "tuning": str(tuning)}))
    current = row_code_version(make_detector("iforest", random_state=0, n_estimators=50))

    def source(versions: str) -> str:
        tuning.write_text("criterion: auprc\nseeds: [1000]\n" + versions
                          + "choices:\n  moons:\n    iforest: {params: {n_estimators: 50}, "
                          "auprc: 0.5, grid: []}\n")
        return settings_table(out).iloc[0]["source"]

    assert source(f"code_versions: {{iforest: ['{current}']}}\n").endswith(f"({tuning})")
    moved = source("code_versions: {iforest: ['0.1.0+000000000000']}\n")
    assert "0.1.0+000000000000" in moved and current in moved and "tune` again" in moved
    assert "not recorded" in source("")
    assert "not recorded" in source(f"code_versions: {{iforest: '{current}'}}\n")  # not a list
    # a grid that ran the current code in some cells only: not the code that runs now
    mixed = source(f"code_versions: {{iforest: ['0.1.0+000000000000', '{current}']}}\n")
    assert "tune` again" in mixed
    # a setting this checkout cannot build: said on one line, not a broken table row
    doc = yaml.safe_load((out / "config.yaml").read_text())
    doc["detectors"][0]["name"] = "no-such-detector"
    (out / "config.yaml").write_text(yaml.safe_dump(doc))
    text = source(f"code_versions: {{iforest: ['{current}']}}\n")
    assert "cannot check the code its grid ran" in text and "\n" not in text


def _with_text_value(folder, column, row, text):
    """Write the fake results with ``text`` in one cell of ``column``; return the frame."""
    fake_results(folder)
    frame = pd.read_csv(folder / "results.csv")
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = text
    frame.to_csv(folder / "results.csv", index=False)
    return frame


def test_a_damaged_results_folder_is_an_error_naming_the_file_and_the_fault(tmp_path):
    """A missing folder names the folder to run into; an empty, garbled or cell-less results
    file and a damaged config.yaml are errors naming the file and what is wrong with it,
    never a parser's traceback."""
    from benchmarks.report import load_results, report, settings_table

    missing = tmp_path / "nosuch"
    with pytest.raises(FileNotFoundError, match=rf"--out {missing}` first"):
        load_results(missing)
    folder = tmp_path / "sweep"
    folder.mkdir()
    results = folder / "results.csv"
    results.write_text("")
    with pytest.raises(ValueError, match=r"results.csv is not a pugan-bench results file "
                                         r"\(EmptyDataError"):
        load_results(folder)
    results.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="not a pugan-bench results file"):
        load_results(folder)
    fake_results(folder)
    header = results.read_text().splitlines()[0]
    results.write_text(header + "\n")
    with pytest.raises(ValueError, match="holds no cells"):
        load_results(folder)
    frame = _with_text_value(folder, "auprc", 3, "abc")
    cell = " / ".join(str(frame.loc[3, c]) for c in ("dataset", "detector", "seed"))
    with pytest.raises(ValueError, match=rf"column 'auprc' holds 'abc', which is not a number "
                                         rf"\(cell {cell}\)"):
        load_results(folder)
    # a number pandas reads as text (too long for an integer) is a number, not a fault
    _with_text_value(folder, "seed", 0, "99999999999999999999999")
    assert load_results(folder)["seed"].iloc[0] == pytest.approx(1e23)
    # a results.csv named directly, and a folder whose name ends in .csv
    fake_results(folder)
    assert len(load_results(results)) == len(pd.read_csv(results))
    odd = tmp_path / "odd.csv"
    odd.mkdir()
    fake_results(odd)
    assert len(load_results(odd)) == len(pd.read_csv(results))
    fake_results(folder)
    config = folder / "config.yaml"
    config.write_text("detectors: [unclosed\n")
    with pytest.raises(ValueError, match=r"config.yaml: not valid YAML: .* at line 2"):
        settings_table(folder)
    config.write_text("")
    with pytest.raises(ValueError, match="config.yaml is not a resolved sweep config"):
        report(folder, reports_dir=tmp_path / "reports", figures=False)
    # read as strictly as a sweep config: a repeated key, bytes that are not UTF-8, a folder
    config.write_text("detectors: []\ndatasets: []\ndetectors: [x]\n")
    with pytest.raises(ValueError, match=r"config\.yaml: duplicate key 'detectors' \(line 3\)"):
        settings_table(folder)
    config.write_bytes("detectors: [caf\u00e9]\ndatasets: []\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"config\.yaml: not UTF-8 text .*pugan-bench run"):
        settings_table(folder)
    config.unlink()
    config.mkdir()
    with pytest.raises(ValueError, match=r"config\.yaml: cannot be read"):
        settings_table(folder)


def test_a_table_says_what_pugan_trained_in_once_its_rows_record_it():
    """PU-GAN's scores depend on its training arithmetic, so a table whose PU-GAN rows record
    it counts them per entry (and names the rows that predate the column); a table none of
    whose rows records it (the committed ones) gains no sentence."""
    from benchmarks.report import arithmetic_sentence

    rows = [dict(detector="pugan (paper settings)", detector_name="pugan", status="ok",
                 arithmetic=a) for a in ("float32", "float32", "")]
    rows += [dict(detector="pugan (tuned)", detector_name="pugan", status="ok", arithmetic=""),
             dict(detector="pugan (tuned)", detector_name="pugan", status="failed",
                  arithmetic=""),
             dict(detector="iforest", detector_name="iforest", status="ok", arithmetic="")]
    frame = pd.DataFrame(rows)
    text = arithmetic_sentence(frame)
    assert ("pugan (paper settings): float32 in 2 rows, not recorded in 1 row; "
            "pugan (tuned): not recorded in 1 row.") in text
    assert "iforest" not in text
    frame["arithmetic"] = np.nan  # how a column no row fills reads back from results.csv
    assert arithmetic_sentence(frame) == ""
    assert arithmetic_sentence(frame.drop(columns="arithmetic")) == ""


def test_table2_names_the_metrics_a_results_file_lacks():
    frame = pd.DataFrame({"dataset": ["d"], "detector": ["a"], "anomaly_ratio": [0.1],
                          "labelled_fraction": [0.5], "seed": [0], "status": ["ok"],
                          "f1": [0.5], "auprc": [0.4]})
    with pytest.raises(ValueError, match=r"lack the column\(s\) \['precision', 'recall', "
                                         r"'auroc', 'best_f1'\]"):
        table2(frame)
