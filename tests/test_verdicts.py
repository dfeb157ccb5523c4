"""The verdict layer: the best-other comparison, the KDD readings, the imbalance grid, the
held-out families and the claims scorecard, each on results built so the answer is known."""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from benchmarks.imbalance import (
    grid_verdicts,
    marginal_table,
    plot_verdict_heatmap,
    verdict_sentence,
)
from benchmarks.readings import pugan_vs_best, robustness_table
from benchmarks.report import table2
from benchmarks.report_unknown import unknown_versus_best
from benchmarks.scorecard import scorecard
from benchmarks.stats import versus_best


def _rows(dataset, means, n_seeds, *, preset="", ratio=0.1, fraction=0.5, noise=0.01,
          metric="auprc", extra=None):
    """One ok row per (detector, seed), ``metric`` around ``means[detector]``; the noise is
    drawn from a generator of its own, so a test's data do not depend on which tests ran first
    in its process."""
    rng = np.random.default_rng(0)
    rows = []
    base = rng.normal(0, noise, n_seeds)  # shared per seed: the pairing removes it
    for det, mean in means.items():
        for seed in range(n_seeds):
            v = float(np.clip(mean + base[seed] + rng.normal(0, noise / 5), 0, 1))
            rows.append({"dataset": dataset, "preset": preset, "detector": det,
                         "detector_name": det.split(" ")[0], "anomaly_ratio": ratio,
                         "labelled_fraction": fraction, "seed": seed, "status": "ok",
                         "error": "", metric: v, **(extra or {})})
    return rows


def test_versus_best_picks_the_best_other_and_decides_by_the_paired_seeds():
    block = pd.DataFrame(_rows("d", {"pugan": 0.5, "a": 0.3, "b": 0.45}, 10))
    v = versus_best(block, "pugan", ["a", "b"])
    assert v["best_other"] == "b" and v["position"] == "ahead" and v["test"] == "wilcoxon"
    assert v["diff_low"] > 0 and v["n_pairs"] == 10
    behind = versus_best(pd.DataFrame(_rows("d", {"pugan": 0.2, "a": 0.3}, 10)), "pugan", ["a"])
    assert behind["position"] == "behind"
    # three seeds: Wilcoxon cannot reach 0.05, the t-interval of the difference decides
    with_oracle = pd.DataFrame(_rows("d", {"pugan": 0.6, "a": 0.3, "oracle": 0.99}, 10))
    with_oracle["supervision"] = np.where(with_oracle["detector"] == "oracle", "oracle", "pu")
    assert versus_best(with_oracle, "pugan", ["a", "oracle"])["best_other"] == "a"
    few = versus_best(pd.DataFrame(_rows("d", {"pugan": 0.6, "a": 0.3}, 3)), "pugan", ["a"])
    assert few["test"] == "t-interval" and few["position"] == "ahead"
    level = versus_best(pd.DataFrame(_rows("d", {"pugan": 0.3, "a": 0.3}, 3, noise=0.1)),
                        "pugan", ["a"])
    assert level["position"] == "level"
    with pytest.raises(ValueError, match="no finished cells"):
        versus_best(block, "missing", ["a"])


def test_an_undecided_position_names_the_comparison_that_left_it_so():
    """The rival shown can have pairs enough while another rival, sharing one seed, leaves
    the position undecided: the reason is that rival's single pair."""
    from benchmarks.stats import NOTHING_FINISHED, ONE_PAIR, SAME_DIFFERENCE, no_comparison

    rows = [r for r in _rows("d", {"pugan": 0.5, "a": 0.6, "b": 0.1}, 2, noise=0.05)
            if r["detector"] != "b" or r["seed"] == 0]
    v = versus_best(pd.DataFrame(rows), "pugan", ["a", "b"])
    assert v["position"] == "undecided" and v["best_other"] == "a" and v["n_pairs"] == 2
    assert v["undecided_by"] == ONE_PAIR
    same = pd.DataFrame([{"detector": d, "seed": s, "status": "ok", "auprc": x + s / 10}
                         for d, x in (("pugan", 0.5), ("a", 0.3)) for s in range(3)])
    assert versus_best(same, "pugan", ["a"])["undecided_by"] == SAME_DIFFERENCE
    assert versus_best(pd.DataFrame(_rows("d", {"pugan": 0.6, "a": 0.3}, 10)), "pugan",
                       ["a"])["undecided_by"] == ""
    assert no_comparison("pugan")["undecided_by"] == NOTHING_FINISHED


def test_versus_best_gives_the_raw_and_the_corrected_p_under_their_own_names():
    from benchmarks.stats import ALPHA, holm, wilcoxon_p

    block = pd.DataFrame(_rows("d", {"pugan": 0.5, "a": 0.3, "b": 0.45}, 10))
    v = versus_best(block, "pugan", ["a", "b"])
    wide = block.pivot_table(index="seed", columns="detector", values="auprc")
    raw = [wilcoxon_p((wide["pugan"] - wide[o]).to_numpy()) for o in ("a", "b")]
    assert v["best_other"] == "b" and v["p_value"] == raw[1]
    assert v["p_holm"] == holm(raw)[1] and v["p_holm"] > v["p_value"]
    assert v["alpha"] == ALPHA
    assert versus_best(block, "pugan", ["a", "b"], family_size=4)["alpha"] == ALPHA / 4


def _reading_frame():
    extra = {"n_test_anomalies": 84, "n_test_anomalies_distinct": 36,
             "n_test_anomalies_twin_in_train": 51}
    rows = _rows("kddcup99-low", {"pugan (tuned)": 0.1, "knn-normals": 0.2, "iforest": 0.05},
                 10, preset="kddcup99-low", ratio=0.00184, extra=extra)
    rows += _rows("kddcup99-low-2pct", {"pugan (tuned)": 0.85, "knn-normals": 0.8,
                                        "iforest": 0.5}, 10, preset="kddcup99-low-2pct",
                  ratio=0.02, extra=extra)
    rows += _rows("moons-paper", {"pugan (tuned)": 0.9, "knn-normals": 0.8}, 10,
                  preset="moons-paper")
    return pd.DataFrame(rows)


def test_the_ranking_and_the_verdict_flip_between_kdd_readings():
    frame = _reading_frame()
    table = robustness_table(frame)
    assert set(table["dataset"]) == {"kddcup99-low", "kddcup99-low-2pct"}  # KDD readings only
    top = table[table["rank"] == 1].set_index("dataset")["detector"]
    assert top["kddcup99-low"] == "knn-normals" and top["kddcup99-low-2pct"] == "pugan (tuned)"
    assert (table["distinct_test_anomalies"] == 36).all()
    assert set(table.loc[table["dataset"] == "kddcup99-low-2pct", "ratio_reading"]) == {"2%"}
    versus = pugan_vs_best(frame).set_index("dataset")["position"]
    assert versus["kddcup99-low"] == "behind" and versus["kddcup99-low-2pct"] == "ahead"


def test_a_grid_cell_whose_only_other_detector_is_the_oracle_has_no_verdict():
    """The oracle reads test labels: a cell where it is PU-GAN's only partner is not judged
    against it but undecided (nothing to compare), and the other cells keep their verdicts."""
    rows = _rows("moons", {"pugan (small)": 0.5, "iforest": 0.6}, 3, ratio=0.1)
    rows += _rows("moons", {"pugan (small)": 0.5}, 3, ratio=0.2)
    rows += _rows("moons", {"oracle-supervised": 0.99}, 3, ratio=0.2,
                  extra={"supervision": "oracle"})
    verdicts = grid_verdicts(pd.DataFrame(rows))
    assert verdicts["anomaly_ratio"].tolist() == [0.1, 0.2]
    assert verdicts["best_other"].tolist() == ["iforest", ""]
    assert verdicts["position"].tolist()[1] == "undecided"
    assert verdicts["n_pairs"].tolist()[1] == 0


def _failed(rows):
    """``rows`` as cells that timed out: no metric, status timeout."""
    return [{**r, "status": "timeout", "auprc": float("nan"), "f1": float("nan"),
             "auprc_heldout": float("nan")} for r in rows]


def test_a_grid_cell_where_pugan_finished_nothing_counts_against_never_behind(tmp_path):
    """A cell where PU-GAN timed out on every seed is in the verdicts as undecided, so the
    claim "never behind anywhere on the grid" is not measured there instead of judged on the
    cells that remain."""
    from benchmarks.scorecard import imbalance_claim

    rows = _rows("moons", {"pugan (small)": 0.5, "iforest": 0.5}, 6, ratio=0.05, noise=0.05)
    rows += _failed(_rows("moons", {"pugan (small)": 0.5}, 6, ratio=0.2))
    rows += _rows("moons", {"iforest": 0.9}, 6, ratio=0.2)
    frame = pd.DataFrame(rows)
    verdicts = grid_verdicts(frame).set_index("anomaly_ratio")
    assert verdicts.loc[0.2, "position"] == "undecided" and verdicts.loc[0.2, "n_pairs"] == 0
    assert verdicts.loc[0.05, "position"] == "level"
    claim = imbalance_claim(frame)
    assert claim["verdict"] == "not measured"
    assert "of 2" in claim["evidence"] + str(claim["readings"])
    # the heatmap draws the undecided square without a difference (its text is the mark
    # alone, which the SVG keeps as a comment beside the glyphs)
    written = plot_verdict_heatmap(grid_verdicts(frame), tmp_path / "heat")
    svg = next(p for p in written if p.suffix == ".svg").read_text()
    assert "<!-- ? -->" in svg and "nan" not in svg.lower()


def test_a_reading_where_pugan_finished_nothing_is_undecided_not_dropped():
    frame = _reading_frame()
    low = (frame["dataset"] == "kddcup99-low") & (frame["detector"] == "pugan (tuned)")
    frame.loc[low, "status"] = "failed"
    versus = pugan_vs_best(frame).set_index("dataset")
    assert versus.loc["kddcup99-low", "position"] == "undecided"
    assert versus.loc["kddcup99-low-2pct", "position"] == "ahead"
    from benchmarks.readings import readings_markdown

    assert "| n/a |" in readings_markdown(robustness_table(frame), versus.reset_index())


def test_a_grid_cell_nobody_could_run_is_no_comparison_and_the_report_counts_undecided(
        tmp_path):
    """A cell every detector skipped (its split cannot be filled) is no grid cell at all;
    a cell where PU-GAN ran and finished nothing is an undecided square in the report's
    own grid table and sentence, as in the scorecard."""
    from benchmarks.report import report

    rows = []
    for ratio in (0.05, 0.1):
        for fraction in (0.2, 0.5):
            rows += _rows("moons", {"pugan (small)": 0.5, "iforest": 0.5}, 6, ratio=ratio,
                          fraction=fraction, noise=0.05)
    timed_out = ((r["anomaly_ratio"] == 0.1 and r["labelled_fraction"] == 0.5
                  and r["detector"] == "pugan (small)") for r in rows)
    rows = [_failed([r])[0] if t else r for r, t in zip(rows, timed_out, strict=True)]
    rows += [{**r, "anomaly_ratio": 0.4, "status": "skipped", "auprc": float("nan"),
              "error": "split cannot be filled"}
             for r in _rows("moons", {"pugan (small)": 0.5, "iforest": 0.5}, 6)]
    frame = pd.DataFrame(rows)
    verdicts = grid_verdicts(frame)
    assert 0.4 not in set(verdicts["anomaly_ratio"]) and len(verdicts) == 4
    sentence = verdict_sentence(verdicts)
    assert "(undecided: nothing finished to compare in 1) of 4 cells" in sentence
    assert "6 paired seeds a cell" in sentence
    folder = tmp_path / "grid"
    folder.mkdir()
    metrics = {m: frame["auprc"] for m in ("precision", "recall", "f1", "auroc", "best_f1")}
    frame.assign(**metrics, fit_seconds=1.0, cell_seconds=1.0,
                 cell_id=[f"c{i}" for i in range(len(frame))]).to_csv(
        folder / "results.csv", index=False)
    report(folder, reports_dir=tmp_path / "reports", figures=False, with_table1=False)
    written = pd.read_csv(folder / "grid_verdicts.csv")
    assert len(written) == 4 and (written["position"] == "undecided").sum() == 1


def test_a_family_where_pugan_finished_nothing_is_undecided_not_dropped():
    """The unknown-types comparison keeps a held-out family PU-GAN failed on everywhere."""
    rows = []
    for family, pugan in (("DoS", 0.5), ("Probe", None)):
        extra = {"split_params": f'{{"holdout_types": ["{family}"]}}'}
        block = _rows("kdd", {"pugan (small)": pugan or 0.0, "iforest": 0.5}, 6,
                      noise=0.05, extra=extra)
        if pugan is None:
            block = [r if r["detector"] == "iforest" else _failed([r])[0] for r in block]
        rows += block
    for r in rows:
        r["auprc_heldout"] = r["auprc"]
    versus = unknown_versus_best(pd.DataFrame(rows)).set_index("heldout_family")
    assert set(versus.index) == {"DoS", "Probe"}
    assert versus.loc["Probe", "position"] == "undecided"


def test_the_best_other_is_chosen_over_the_seeds_it_shares_with_pugan():
    """A rival that finished two lucky seeds of ten is not the best other; one that missed a
    single seed still is (dropping it would judge PU-GAN against a weaker one); a rival that
    shares no seed never wins on the order of the names."""
    rows = _rows("d", {"pugan": 0.5, "b": 0.9}, 10, noise=0.02)
    rows += [r for r in _rows("d", {"c": 0.99}, 10) if r["seed"] < 2]
    v = versus_best(pd.DataFrame(rows), "pugan", ["b", "c"])
    assert v["best_other"] == "b" and v["n_pairs"] == 10 and v["position"] == "behind"
    # with no rival sharing half the seeds, the best over what there is
    only = versus_best(pd.DataFrame(rows), "pugan", ["c"])
    assert only["best_other"] == "c" and only["n_pairs"] == 2
    # the strongest rival timed out on one seed: it is still the one PU-GAN is judged against
    rows = _rows("d", {"pugan": 0.7, "weak": 0.5}, 10, noise=0.02)
    rows += [r for r in _rows("d", {"strong": 0.9}, 10, noise=0.02) if r["seed"] != 9]
    v = versus_best(pd.DataFrame(rows), "pugan", ["strong", "weak"])
    assert v["best_other"] == "strong" and v["n_pairs"] == 9 and v["position"] == "behind"
    # a rival sharing no seed with PU-GAN is no candidate, whatever its name
    rows = _rows("d", {"pugan": 0.5, "b_good": 0.9}, 10, noise=0.02)
    rows += [{**rows[0], "detector": "a_off", "detector_name": "a_off", "seed": 99}]
    for order in (["a_off", "b_good"], ["b_good", "a_off"]):
        v = versus_best(pd.DataFrame(rows), "pugan", order)
        assert v["best_other"] == "b_good" and v["position"] == "behind"
    # one pair: no interval, no test
    one = versus_best(pd.DataFrame(_rows("d", {"pugan": 0.5, "b": 0.9}, 1)), "pugan", ["b"])
    assert one["position"] == "undecided" and one["test"] == "none"


def test_grid_verdicts_heatmap_and_sentence(tmp_path):
    rows = []
    for ratio in (0.01, 0.1):
        for fraction in (0.05, 0.5):
            ahead = ratio == 0.1 and fraction == 0.5
            rows += _rows("moons", {"pugan (small)": 0.8 if ahead else 0.5, "iforest": 0.6},
                          3, ratio=ratio, fraction=fraction)
    verdicts = grid_verdicts(pd.DataFrame(rows))
    counts = verdicts["position"].value_counts()
    assert counts["ahead"] == 1 and counts["behind"] == 3
    assert "ahead in 1, level in 0 and behind in 3 of 4 cells" in verdict_sentence(verdicts)
    png, svg = plot_verdict_heatmap(verdicts, tmp_path / "heat")
    with Image.open(png) as im:
        im.verify()
    assert svg.stat().st_size > 0
    # drawn again, the same bytes: a rerun of the report leaves committed figures alone
    again = plot_verdict_heatmap(verdicts, tmp_path / "again" / "heat")
    assert [p.read_bytes() for p in again] == [png.read_bytes(), svg.read_bytes()]


def test_marginal_tables_average_the_other_axis_per_seed():
    """By anomaly ratio: each seed's mean over the labelled fractions, then the mean over
    seeds with its t-interval (seeds are the independent draws)."""
    rows = [{"dataset": "moons", "detector": "iforest", "anomaly_ratio": ratio,
             "labelled_fraction": fraction, "seed": seed, "status": "ok",
             "auprc": ratio * 10 + fraction + seed / 100}
            for ratio in (0.01, 0.1) for fraction in (0.2, 0.4) for seed in range(3)]
    rows.append({**rows[0], "status": "failed", "auprc": float("nan")})
    # seed 3 finished at one labelled fraction only: it would average other settings, so it
    # is left out rather than mixed in
    rows.append({**rows[0], "seed": 3, "auprc": 0.9})
    table = marginal_table(pd.DataFrame(rows), "anomaly_ratio")
    assert list(table.columns) == ["dataset", "detector", "0.01", "0.1", "seeds"]
    assert table.loc[0, "seeds"] == "3"
    mean, interval = table.loc[0, "0.01"].split(" ", 1)
    assert float(mean) == pytest.approx(0.1 + 0.3 + 0.01, abs=1e-3)   # seeds 0, 1, 2: mean 0.01
    low, high = (float(v) for v in interval.strip("[]").split(","))
    assert low < float(mean) < high
    by_fraction = marginal_table(pd.DataFrame(rows), "labelled_fraction")
    assert list(by_fraction.columns) == ["dataset", "detector", "0.2", "0.4", "seeds"]
    # a seed that finished without a number at one setting averages fewer settings: left out
    # there, and the seed count says so
    gap = pd.DataFrame(rows)
    gap.loc[(gap["seed"] == 2) & (gap["anomaly_ratio"] == 0.1)
            & (gap["labelled_fraction"] == 0.4), "auprc"] = float("nan")
    assert marginal_table(gap, "anomaly_ratio").loc[0, "seeds"] == "2-3"
    # a labelled fraction where every cell failed still belongs to the grid: no seed
    # averages the fractions without it
    lost = pd.DataFrame(rows)
    lost.loc[lost["labelled_fraction"] == 0.4, "status"] = "failed"
    assert marginal_table(lost, "anomaly_ratio").empty
    with pytest.raises(ValueError, match="axis must be one of"):
        marginal_table(pd.DataFrame(rows), "seed")


def test_unknown_types_compare_pugan_with_the_best_other_per_family():
    rows = []
    for family, pugan in (("DoS", 0.9), ("Probe", 0.2)):
        extra = {"split_params": json.dumps({"holdout_types": [family]})}
        rows += _rows(f"kdd-unseen-{family}", {"pugan (small)": pugan, "iforest": 0.5}, 5,
                      metric="auprc_heldout", extra=extra)
    versus = unknown_versus_best(pd.DataFrame(rows)).set_index("heldout_family")
    assert versus.loc["DoS", "position"] == "ahead"
    assert versus.loc["Probe", "position"] == "behind"


def _paper_frame(pugan_paper, pugan_tuned, ocsvm):
    rows = []
    for det, v in (("pugan (paper settings)", pugan_paper), ("pugan (tuned)", pugan_tuned),
                   ("ocsvm-normals (tuned)", ocsvm)):
        for r in _rows("moons-paper", {det: v}, 10, preset="moons-paper"):
            r.update(f1=r["auprc"], precision=r["auprc"], recall=r["auprc"],
                     best_f1=r["auprc"], auroc=r["auprc"])
            rows.append(r)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("paper, tuned, expected", [
    (0.9, 0.9, "reproduced"),
    (0.5, 0.9, "reproduced only under: tuned, F1 at own threshold; tuned, AUPRC "
               "(2 of 3 other readings)"),
    (0.5, 0.5, "not reproduced"),
])
def test_a_comparative_claim_is_judged_under_the_papers_reading_first(paper, tuned, expected):
    frame = _paper_frame(paper, tuned, 0.7)
    card = scorecard(frame, table2(frame)).set_index("claim")
    assert card.loc["PU-GAN beats OCSVM on moons", "verdict"] == expected
    # what was not run is said to be unmeasured, with the command that measures it
    unknown = card[card.index.str.startswith("PU-GAN handles unknown")].iloc[0]
    assert unknown["verdict"] == "not measured" and unknown["command"] == "make unknown-types"


def test_the_card_keeps_each_reading_as_data_and_renders_the_same_text():
    """Code that compares readings reads them as data: the rendered column is for people, and
    a card read back from its CSV has no readings to give."""
    from benchmarks.scorecard import card_readings

    frame = _paper_frame(0.5, 0.9, 0.7)
    card = scorecard(frame, table2(frame))
    readings = card_readings(card)
    beats = readings[readings["claim"] == "PU-GAN beats OCSVM on moons"]
    assert dict(zip(beats["reading"], beats["holds"], strict=True)) == {
        "paper settings, F1 at own threshold": False, "tuned, F1 at own threshold": True,
        "paper settings, AUPRC": False, "tuned, AUPRC": True}
    mark = {True: "holds", False: "does not hold", None: "not measured"}
    for claim, text in zip(card["claim"], card["readings"], strict=True):
        mine = readings[readings["claim"] == claim]
        assert text == " | ".join(f"{r.reading}: {r.evidence} ({mark[r.holds]}"
                                  + (f"; {r.aside}, not a reading" if r.aside else "") + ")"
                                  for r in mine.itertuples())
    with pytest.raises(ValueError, match="carries no readings"):
        card_readings(pd.DataFrame(card))


def test_a_claim_whose_papers_reading_was_not_run_is_not_called_not_reproduced():
    """Other readings failing say nothing of the paper's own: without its results the verdict
    says the paper's reading was not measured."""
    from benchmarks.scorecard import Reading, _verdict

    readings = [Reading("paper settings", None, "no results"),
                Reading("tuned", False, "0.2 vs 0.5")]
    verdict, evidence = _verdict(readings)
    assert verdict == "not measured under the paper's reading"
    assert "no results" in evidence and "0.2 vs 0.5" in evidence
    # another reading holding does not make the paper's a failure ("only under" would)
    readings[1] = Reading("tuned", True, "0.9 vs 0.5")
    verdict, evidence = _verdict(readings)
    assert verdict == "not measured under the paper's reading; holds under: tuned"
    assert "no results" in evidence and "0.9 vs 0.5" in evidence
    readings[0] = Reading("paper settings", False, "0.1 vs 0.5")
    assert _verdict(readings)[0] == "reproduced only under: tuned (1 of 1 other reading)"
    # a part of the claim, or a check that only makes it easier to hold, never decides it
    readings.append(Reading("one family", True, "0.9 vs 0.5", aside="one part of the claim"))
    assert _verdict(readings)[0] == "reproduced only under: tuned (1 of 1 other reading)"
    readings[1] = Reading("tuned", False, "0.2 vs 0.5")
    assert _verdict(readings)[0] == "not reproduced"


def test_a_table2_number_holds_when_it_lies_inside_the_interval():
    frame = _paper_frame(0.997, 0.5, 0.5)  # the paper's moons F1 for PU-GAN is 0.997
    card = scorecard(frame, table2(frame)).set_index("claim")
    assert card.loc["Table 2: PU-GAN F1 0.997 on moons-paper", "verdict"] == "reproduced"
    low = card.loc["Table 2: OCSVM F1 0.847 on moons-paper"]
    assert low["verdict"] == "not reproduced" and "(ours lower)" in low["evidence"]


def test_one_paired_seed_is_undecided_and_no_claim_holds_on_it():
    """One pair has no interval: far behind on it must not read as "level" and let a claim
    that needs PU-GAN level or ahead hold."""
    one = versus_best(pd.DataFrame(_rows("d", {"pugan": 0.01, "a": 0.9}, 1)), "pugan", ["a"])
    assert one["position"] == "undecided" and one["n_pairs"] == 1
    rows = []
    for family, pugan in (("DoS", 0.01), ("Probe", 0.9)):
        extra = {"split_params": json.dumps({"holdout_types": [family]})}
        rows += _rows(f"kdd-unseen-{family}", {"pugan (small)": pugan, "iforest": 0.5},
                      1 if family == "DoS" else 5, metric="auprc_heldout", extra=extra)
    frame = _paper_frame(0.5, 0.5, 0.7)
    card = scorecard(frame, table2(frame), unknown=pd.DataFrame(rows)).set_index("claim")
    unknown = card[card.index.str.startswith("PU-GAN handles unknown")].iloc[0]
    # Probe ahead holds; DoS on one seed is not measured, so "every family" is not measured
    # and the verdict does not say it failed; Probe alone is a part of the claim, no reading
    assert unknown["verdict"] == "not measured"
    assert "Probe held out only" in unknown["readings"]
    assert "undecided" in unknown["readings"] and "(does not hold)" not in unknown["readings"]


def test_a_family_held_out_under_two_settings_is_refused_not_pooled():
    extra = {"split_params": json.dumps({"holdout_types": ["DoS"]})}
    rows = []
    for fraction in (0.05, 0.5):
        rows += _rows("kdd-unseen-DoS", {"pugan (small)": 0.5, "iforest": 0.4}, 5,
                      fraction=fraction, metric="auprc_heldout", extra=extra)
    with pytest.raises(ValueError, match="DoS was run under 2 settings"):
        unknown_versus_best(pd.DataFrame(rows))


def test_a_grid_claim_can_be_judged_with_bonferroni_over_the_grid():
    """A small gap on five seeds is "behind" alone but "level" as one of forty cells; a large
    one stays behind either way."""
    small = pd.DataFrame(_rows("d", {"pugan": 0.50, "a": 0.52}, 5, noise=0.02))
    assert versus_best(small, "pugan", ["a"])["position"] == "behind"
    assert versus_best(small, "pugan", ["a"], family_size=40)["position"] == "level"
    large = pd.DataFrame(_rows("d", {"pugan": 0.2, "a": 0.6}, 5))
    assert versus_best(large, "pugan", ["a"], family_size=40)["position"] == "behind"
    with pytest.raises(ValueError, match="family_size"):
        versus_best(small, "pugan", ["a"], family_size=0)
    # a grid of forty such cells: each is one of its dataset's forty when corrected
    rows = [r for i in range(40) for r in _rows("d", {"pugan (small)": 0.50, "a": 0.52}, 5,
                                                   noise=0.02, ratio=0.01 * (i + 1))]
    plain = grid_verdicts(pd.DataFrame(rows))
    corrected = grid_verdicts(pd.DataFrame(rows), corrected=True)
    assert set(plain["position"]) == {"behind"} and set(corrected["position"]) == {"level"}
    assert (corrected["diff_high"] > plain["diff_high"]).all()


def test_behind_a_steadier_rival_is_behind_even_when_another_has_the_higher_mean():
    """The rivals are one family: a rival with a lower mean whose lead is the same on every
    seed puts PU-GAN behind, though the erratic strongest one leaves it level."""
    seeds = range(10)
    pugan = [0.50 + 0.01 * s for s in seeds]
    rows = [{"dataset": "d", "detector": det, "anomaly_ratio": 0.1, "labelled_fraction": 0.5,
             "seed": s, "status": "ok", "auprc": v}
            for det, values in (("pugan", pugan),
                                ("steady", [v + 0.05 for v in pugan]),
                                ("erratic", [0.95 if s % 2 else 0.25 for s in seeds]))
            for s, v in zip(seeds, values, strict=True)]
    v = versus_best(pd.DataFrame(rows), "pugan", ["steady", "erratic"])
    assert v["position"] == "behind" and v["best_other"] == "steady"
    alone = versus_best(pd.DataFrame(rows), "pugan", ["erratic"])
    assert alone["position"] == "level" and alone["best_other"] == "erratic"


def test_ahead_means_ahead_of_every_rival():
    """Ahead of the strongest rival on every seed is not enough when a weaker, erratic rival
    is level with PU-GAN: ahead needs every rival behind it."""
    seeds = range(10)
    pugan = [0.50 + 0.01 * s for s in seeds]
    rows = [{"dataset": "d", "detector": det, "anomaly_ratio": 0.1, "labelled_fraction": 0.5,
             "seed": s, "status": "ok", "auprc": v}
            for det, values in (("pugan", pugan),
                                ("strong", [v - 0.05 for v in pugan]),
                                ("erratic", [0.10 if s % 2 else 0.75 for s in seeds]))
            for s, v in zip(seeds, values, strict=True)]
    assert versus_best(pd.DataFrame(rows), "pugan", ["strong"])["position"] == "ahead"
    v = versus_best(pd.DataFrame(rows), "pugan", ["strong", "erratic"])
    assert v["position"] == "level" and v["best_other"] == "strong"


def test_a_wilcoxon_test_that_cannot_reach_the_corrected_level_gives_way_to_the_interval():
    """Seven pairs can reach 0.05 (smallest p 2/2**7) but not 0.05/12: in a family of twelve
    a Wilcoxon test would read "tie" whatever the data."""
    from benchmarks.stats import decide_family, wilcoxon_decides

    diff = np.full(7, -0.3) + np.linspace(0, 0.01, 7)
    assert wilcoxon_decides(diff) and not wilcoxon_decides(diff, 0.05 / 12)
    decided = decide_family([diff] * 12)
    assert {d["test"] for d in decided} == {"t-interval"}
    assert {d["verdict"] for d in decided} == {"loss"}
    grid = pd.DataFrame(_rows("d", {"pugan": 0.2, "a": 0.5}, 10))
    assert versus_best(grid, "pugan", ["a"], family_size=40)["position"] == "behind"


def test_a_metric_no_cell_could_give_is_undecided_not_a_crash():
    """A held-out family with no anomaly in a seed's test split has no held-out AUPRC: where
    no finished cell has one, the family is undecided."""
    rows = _rows("d", {"pugan (small)": 0.5, "iforest": 0.4}, 5, metric="auprc_heldout",
                 extra={"heldout_family": "probe", "supervision": "pu"})
    frame = pd.DataFrame(rows).assign(auprc_heldout=float("nan"))
    from benchmarks.stats import versus_best_where_ran

    v = versus_best_where_ran(frame, "pugan (small)", ["pugan (small)"], "auprc_heldout")
    assert v["position"] == "undecided" and v["n_pairs"] == 0


def test_a_detector_that_ran_but_finished_nothing_is_untested_not_dropped():
    from benchmarks.ranks import win_tie_loss
    from benchmarks.stats import paired_comparisons

    rows = _rows("d", {"pugan": 0.6, "a": 0.3}, 8) + _failed(_rows("d", {"b": 0.9}, 8))
    frame = pd.DataFrame(rows)
    pc = paired_comparisons(frame, ["pugan"], metrics=("auprc",)).set_index("other")
    assert pc.loc["b", "verdict"] == "untested" and pc.loc["b", "n_pairs"] == 0
    assert pc.loc["a", "verdict"] == "win"
    wtl = win_tie_loss(frame, "pugan").set_index("detector")
    assert wtl.loc["b", "verdict"] == "untested" and wtl.loc["a", "verdict"] == "win"


def test_the_kdd_ranking_leaves_out_the_oracle():
    rows = _rows("kddcup99-low", {"pugan": 0.6, "a": 0.3, "oracle": 0.99}, 4,
                 preset="kddcup99-low")
    frame = pd.DataFrame(rows)
    frame["supervision"] = np.where(frame["detector"] == "oracle", "oracle", "pu")
    table = robustness_table(frame)
    assert "oracle" not in set(table["detector"]) and table["rank"].tolist() == [1, 2]


def test_a_comparison_holm_rejects_is_decided_by_the_test():
    """Six pairs cannot reach Holm's first step in a family of two (2/2**6 > 0.025), but at
    its own step Holm rejects it: the test decides, not an interval that might say tie."""
    from benchmarks.stats import decide_family

    near, far = np.linspace(0.1, 0.2, 10), -np.linspace(0.1, 0.9, 6)
    decided = decide_family([near, far])
    assert decided[1]["p_holm"] < 0.05
    assert decided[1]["test"] == "wilcoxon" and decided[1]["verdict"] == "loss"


def test_the_same_difference_on_every_seed_is_no_zero_width_win():
    """A rival that flags nothing (F1 0) against F1 1 on two seeds: the Wilcoxon test cannot
    decide (p = 0.5) and the interval has zero width, which would read as a win from two
    seeds; it is undecided. Equal scores on every seed stay a tie."""
    from benchmarks.stats import decide_family

    same = decide_family([np.array([1.0, 1.0])])[0]
    assert same["test"] == "t-interval" and same["verdict"] == "undecided"
    assert same["diff_low"] == same["diff_high"] == 1.0
    assert decide_family([np.zeros(3)])[0]["verdict"] == "tie"
    assert decide_family([np.array([1.0, 0.1])])[0]["verdict"] == "tie"  # a wide interval
    assert decide_family([np.array([0.5, 0.51, 0.49])])[0]["verdict"] == "win"
    # the same difference up to the last bit of rounding (0.7 - 0.1 against 0.9 - 0.3)
    rounded = decide_family([np.array([0.7 - 0.1, 0.9 - 0.3])])[0]
    assert rounded["verdict"] == "undecided"
    # a difference of rounding size on every seed is no difference: a tie, not a win
    assert decide_family([np.array([5.55e-17, 5.55e-17])])[0]["verdict"] == "tie"
    assert decide_family([np.array([-1e-13] * 3)])[0]["verdict"] == "tie"
    # and a detector with such a rival beside a clear one is undecided, not "level"
    focus = np.array([0.5, 0.25, 0.75])
    block = pd.DataFrame(
        [{"dataset": "d", "anomaly_ratio": 0.1, "labelled_fraction": 0.5, "seed": s,
          "status": "ok", "detector": det, "auprc": v}
         for det, values in (("F", focus), ("A", [0.95, 0.05, 0.99]), ("B", focus + 0.125))
         for s, v in enumerate(values)])
    assert versus_best(block, "F", ["A", "B"])["position"] == "undecided"


def test_a_test_that_rejects_on_the_seeds_that_differ_says_who_is_ahead():
    """The Wilcoxon test ranks the non-zero differences only: where most seeds tie exactly
    the median difference is 0, yet the test rejects, and the verdict follows the side the
    ranked differences lean to, not "tie"."""
    from benchmarks.stats import decide_family, signed_rank_direction

    ahead = np.array([0.0] * 8 + [0.1] * 7)
    decided = decide_family([ahead])[0]
    assert decided["p_holm"] < 0.05 and decided["verdict"] == "win"
    assert decide_family([-ahead])[0]["verdict"] == "loss"
    assert signed_rank_direction(np.array([0.0, 0.0, -0.1, 0.2, 0.3])) > 0
    assert signed_rank_direction(np.zeros(4)) == 0


def test_a_rival_left_out_for_its_missing_seeds_is_named_with_them():
    """A detector that finished fewer than half of PU-GAN's seeds is no rival, and the
    verdict table and the ranking say so, with the seeds, instead of dropping it unseen."""
    from benchmarks.readings import readings_markdown

    rows = _rows("kddcup99-low", {"pugan (tuned)": 0.5, "a": 0.3, "few": 0.9}, 10,
                 preset="kddcup99-low")
    frame = pd.DataFrame(rows)
    frame.loc[(frame["detector"] == "few") & (frame["seed"] < 6), "status"] = "timeout"
    versus = pugan_vs_best(frame)
    row = versus.iloc[0]
    assert row["best_other"] == "a" and row["left_out"] == "few (4 of 10 seeds)"
    assert row["n_seeds"] == 10
    text = readings_markdown(robustness_table(frame), versus)
    assert "few (4 of 10 seeds)" in text and "| seeds |" in text


@pytest.mark.parametrize("n_seeds, test_text", [
    (10, "over 10 seeds, Holm p = 0.002 (ahead)"),
    # three seeds: the Wilcoxon test cannot reach 0.05 and the interval decides "ahead"; a
    # bare "Holm p = 0.25" beside it would read as a contradiction
    (3, "over 3 seeds, by the interval (Wilcoxon, Holm p = 0.25, cannot reach its level)"),
])
def test_the_labelling_claim_gives_each_readings_difference_seeds_and_test(n_seeds, test_text):
    from benchmarks.scorecard import labelling_claim

    rows = []
    for level in ("high", "low"):
        rows += _rows(f"kddcup99-{level}", {"pugan (tuned)": 0.5, "iforest (tuned)": 0.3},
                      n_seeds, preset=f"kddcup99-{level}")
    evidence = labelling_claim(pd.DataFrame(rows))["evidence"]
    assert "difference 0.199 [" in evidence and test_text in evidence
    assert ("seeds, Holm p = " in evidence) == (n_seeds == 10)


def test_the_grid_sentence_names_why_each_cell_is_undecided():
    """A cell undecided with five pairs is not short of seeds: its rival differs by the same
    amount on every seed, and the sentence says so."""
    verdicts = pd.DataFrame({
        "focus": "pugan", "dataset": "d", "metric": "auprc",
        "position": ["undecided"] * 3 + ["ahead"],
        "n_pairs": [0, 1, 5, 5],
        "undecided_by": ["nothing finished", "one pair", "the same difference on every seed",
                         ""]})
    sentence = verdict_sentence(verdicts)
    assert ("(undecided: too few paired seeds in 1; a rival with the same difference on every "
            "seed in 1; nothing finished to compare in 1) of 4 cells") in sentence


def test_a_table2_row_holds_together_only_under_one_reading():
    """Each number is its own claim; a row counts as held together only when its precision,
    recall and F1 hold under the same reading."""
    from benchmarks.scorecard import rows_held_together

    frame = _paper_frame(0.5, 0.5, 0.5)
    tuned = frame["detector"] == "pugan (tuned)"
    paper = frame["detector"] == "pugan (paper settings)"
    # tuned: precision 1.0 and recall 0.995 hold; the paper settings: F1 0.997 holds
    for column, rows, value in (("precision", tuned, 1.0), ("recall", tuned, 0.995),
                                ("f1", paper, 0.997)):
        frame.loc[rows, column] = value + frame.loc[rows, "seed"] * 1e-4 - 4.5e-4
    card = scorecard(frame, table2(frame))
    n, total, rows = rows_held_together(card)
    assert (n, total) == (0, 5) and rows == []
    frame.loc[tuned, "f1"] = frame.loc[paper, "f1"].to_numpy()
    n, _, rows = rows_held_together(scorecard(frame, table2(frame)))
    assert n == 1 and rows == ["PU-GAN on moons-paper (tuned settings, own threshold)"]
