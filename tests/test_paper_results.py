"""The committed results/paper and the README's results block are what the committed code
writes: no number in the README is typed, and no row comes from code that has changed since."""

import json
from pathlib import Path

import pytest

from benchmarks.report import (
    README_BEGIN,
    README_END,
    load_results,
    mark_stale,
    readme_block,
    table2,
)
from benchmarks.scorecard import sweep_scorecard

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "results" / "paper"


def _committed():
    return _marked("paper")


def _marked(sweep: str):
    """The committed rows of ``results/<sweep>`` with their ``stale`` flags. mark_stale calls
    every row current when the columns it compares are missing, so their absence fails here
    instead of passing as "nothing stale"."""
    frame = load_results(ROOT / "results" / sweep)
    missing = {"code_version", "detector_name", "detector_params"} - set(frame.columns)
    assert not missing, f"results/{sweep} lacks {sorted(missing)}: its staleness is unknown"
    assert frame["code_version"].notna().all() and (frame["code_version"] != "").all(), sweep
    return mark_stale(frame)


@pytest.mark.parametrize("sweep, command", [("paper", "make reproduce-paper"),
                                            ("imbalance", "make sweep-imbalance"),
                                            ("unknown_types", "make unknown-types")])
def test_no_committed_row_behind_the_scorecard_comes_from_older_code(sweep, command):
    frame = _marked(sweep)
    stale = frame[frame["stale"]]
    assert stale.empty, (
        f"{len(stale)} row(s) of results/{sweep} were produced by code that has changed since "
        f"(e.g. {stale['detector'].iloc[0]} on {stale['dataset'].iloc[0]}): rerun `{command}`, "
        "or `make refresh-results` for every sweep the tests check, in order")


@pytest.mark.parametrize("sweep", ["paper", "unknown_types"])
def test_committed_curves_come_from_the_committed_rows(sweep):
    from benchmarks.curves import current_curves, read_curve_table

    folder = ROOT / "results" / sweep
    _, dropped = current_curves(read_curve_table(folder / "curves.csv"), load_results(folder))
    assert not dropped, (
        f"results/{sweep}/curves.csv holds curves of other cells than results.csv for "
        f"{dropped[:3]}: rerun the sweep with its cells' scores, then `pugan-bench report`")


@pytest.mark.parametrize("tuning, sweep", [("paper", "tune-paper"),
                                           ("paper-2pct", "tune-paper-2pct")])
def test_committed_tuning_is_what_the_current_tuning_rows_choose(tuning, sweep):
    """The tuned entries of the paper run take their settings from these files, so a file
    chosen by code that has changed since would pass old choices off as current."""
    from benchmarks.config import load_config
    from benchmarks.tuning import choose, read_tuning

    frame = _marked(sweep)
    assert not frame["stale"].any(), (
        f"{int(frame['stale'].sum())} row(s) of results/{sweep} come from code that has "
        "changed since: rerun `make tune`")
    doc = read_tuning(ROOT / "benchmarks" / "configs" / "tuning" / f"{tuning}.yaml")
    assert choose(frame, load_config(ROOT / doc["config"]), doc["criterion"]) == \
        doc["choices"], f"benchmarks/configs/tuning/{tuning}.yaml differs from what " \
        f"results/{sweep} chooses: rerun `make tune`"


def test_readme_results_block_is_the_generated_one():
    frame = _committed()
    t2 = table2(frame)
    expected = readme_block(t2, frame, sweep_scorecard(PAPER, frame, t2), PAPER)
    text = (ROOT / "README.md").read_text()
    start, end = text.find(README_BEGIN), text.find(README_END)
    assert 0 <= start < end, "README.md has lost its results markers"
    assert text[start:end + len(README_END)] == expected, (
        "README.md's results block differs from what `pugan-bench report results/paper "
        "--readme README.md` writes from the committed results")


def test_paper_results_use_the_report_seeds():
    from benchmarks.seeds import REPORT_SEEDS

    frame = load_results(PAPER)
    assert sorted(frame["seed"].unique()) == list(REPORT_SEEDS)


@pytest.mark.parametrize("sweep", ["paper", "imbalance"])
def test_a_fresh_clone_rebuilds_the_committed_table_byte_for_byte(sweep, tmp_path):
    """A fresh clone has results.csv but no cells/: the table a run writes there, before it
    has recomputed any cell, is the committed file itself (rows carried by cell key, each
    value written back as it was read), not an empty one."""
    from benchmarks.cache import CellCache
    from benchmarks.config import load_config
    from benchmarks.results import previous_records, results_frame

    committed = ROOT / "results" / sweep / "results.csv"
    cells = load_config(ROOT / "benchmarks" / "configs" / f"{sweep}.yaml").cells()
    frame = results_frame(cells, CellCache(tmp_path), previous=previous_records(committed))
    assert frame.to_csv(index=False) == committed.read_text()


@pytest.mark.parametrize("sweep, path", [("paper", "cost.md"),
                                         ("benchmark", "benchmark_cost.md")])
def test_the_committed_cost_table_is_the_generated_one(sweep, path):
    """docs/speed.md points to the cost table instead of copying its numbers, so the committed
    file must be what the report code writes from the committed rows and runs."""
    from benchmarks.report import cost_markdown

    folder = ROOT / "results" / sweep
    assert (ROOT / "reports" / path).read_text() == cost_markdown(load_results(folder), folder)


def test_float32_under_the_avx2_cap_is_the_avx2_processors_float32():
    """docs/speed.md stands in for a processor without bfloat16 by capping oneDNN at AVX2 on
    one that has it: the cells that both that run and the AVX2 processor's own tuning
    computed (development seed 1000) must agree to the last digit."""
    emulated = load_results(ROOT / "results" / "float32" / "avx2" / "tune-paper-2pct")
    real = load_results(ROOT / "results" / "float32" / "tune-paper-2pct")
    both = emulated.merge(real, on="cell_id", suffixes=("", "_real"))
    assert len(both) == 8 and set(both["arithmetic"]) == {"float32"}
    for column in ("auprc", "f1", "threshold"):
        assert (both[column] == both[f"{column}_real"]).all(), column


@pytest.mark.parametrize("folder, arithmetic", [("float32", "float32"), ("amx", "bfloat16")])
def test_no_reading_of_any_claim_moves_in_the_copies_in_other_arithmetic(folder, arithmetic):
    """The README says that with every PU-GAN cell trained in float32 no reading of any
    claim changes its verdict, and docs/speed.md says the same of the paper run computed
    again on AMX tiles: the copies under results/float32 and results/amx must keep saying
    so, and must hold the committed sweep's settings, or the sentence compares other
    settings."""
    import importlib.util

    copy_dir = ROOT / "results" / folder / "paper"
    committed, copy = load_results(PAPER), load_results(copy_dir)
    keys = ["detector", "dataset", "seed"]
    settings = committed.merge(copy, on=keys, suffixes=("", "_copy"))
    assert len(settings) == len(committed) == len(copy)
    assert (settings["detector_params"] == settings["detector_params_copy"]).all()
    pugan = copy["detector"].str.startswith("pugan")
    assert set(copy.loc[pugan, "arithmetic"]) == {arithmetic}
    if folder == "amx":
        runs = (copy_dir / "runs.jsonl").read_text().splitlines()
        assert "bfloat16 on AMX tiles" in json.loads(runs[-1])["processor"]
    spec = importlib.util.spec_from_file_location(
        "scorecard_swap", ROOT / "experiments" / "scorecard_swap.py")
    swap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(swap)
    before = sweep_scorecard(PAPER, committed, table2(committed))
    # results/amx holds the paper sweep alone: its cells go into the committed scorecard,
    # whose other claims read their own sweeps (scorecard_swap.py's default)
    card_dir = PAPER if folder == "amx" else copy_dir
    after = sweep_scorecard(card_dir, copy, table2(copy))
    assert swap.differing_readings(before, after) == []
