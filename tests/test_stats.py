"""Intervals and paired tests: the numbers behind every comparative sentence."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from benchmarks.report import README_BEGIN, README_END, readme_block, table2, write_readme_block
from benchmarks.stats import mean_ci, paired_comparisons, verdict


def test_mean_ci_is_a_student_t_interval_with_ddof_1():
    v = [0.2, 0.4, 0.6, 0.5]
    mean, sd, low, high = mean_ci(v)
    half = stats.t.ppf(0.975, 3) * np.std(v, ddof=1) / 2
    assert mean == pytest.approx(0.425) and sd == pytest.approx(np.std(v, ddof=1))
    assert (low, high) == pytest.approx((0.425 - half, 0.425 + half))
    assert mean_ci([0.99, 1.0, 0.9])[3] == 1.0  # clipped to the metric's range
    assert mean_ci([5.0, 7.0], bounded=False)[3] > 7.0
    assert all(math.isnan(x) for x in mean_ci([]))
    assert mean_ci([0.3])[0] == 0.3 and math.isnan(mean_ci([0.3])[2])


def _frame(diffs):
    """PU-GAN vs two detectors on 10 seeds: ``diffs`` per other detector (pugan - other)."""
    rng = np.random.default_rng(0)
    base = rng.uniform(0.3, 0.6, size=10)
    rows = []
    for seed in range(10):
        rows.append({"dataset": "d", "anomaly_ratio": 0.1, "labelled_fraction": 0.5,
                     "seed": seed, "detector": "pugan", "status": "ok",
                     "auprc": base[seed], "f1": 0.5})
        for other, d in diffs.items():
            rows.append({"dataset": "d", "anomaly_ratio": 0.1, "labelled_fraction": 0.5,
                         "seed": seed, "detector": other, "status": "ok",
                         "auprc": base[seed] - d[seed], "f1": 0.5})
    return pd.DataFrame(rows)


def test_paired_comparisons_win_loss_tie_with_holm():
    rng = np.random.default_rng(1)
    frame = _frame({"weak": np.full(10, 0.1) + rng.normal(0, 0.01, 10),
                    "strong": np.full(10, -0.2) + rng.normal(0, 0.01, 10),
                    "same": rng.normal(0, 0.05, 10)})
    comp = paired_comparisons(frame, ["pugan"], metrics=("auprc", "f1"))
    auprc = comp[comp["metric"] == "auprc"].set_index("other")
    assert auprc.loc["weak", "verdict"] == "win" and auprc.loc["strong", "verdict"] == "loss"
    assert auprc.loc["same", "verdict"] == "tie"
    assert (auprc["n_pairs"] == 10).all()
    # Holm multiplies the smallest p by the number of comparisons
    p = auprc["p_value"].sort_values()
    assert auprc.loc[p.index[0], "p_holm"] == pytest.approx(min(1.0, 3 * p.iloc[0]))
    # identical on every seed: p = 1, a tie
    f1 = comp[comp["metric"] == "f1"]
    assert (f1["p_value"] == 1.0).all() and (f1["verdict"] == "tie").all()
    # a failed cell drops its seed from the pairs
    frame.loc[(frame["detector"] == "weak") & (frame["seed"] == 0), "status"] = "failed"
    comp = paired_comparisons(frame, ["pugan"], metrics=("auprc",)).set_index("other")
    assert comp.loc["weak", "n_pairs"] == 9 and comp.loc["same", "n_pairs"] == 10


def test_five_seeds_are_decided_by_a_bonferroni_interval_not_an_unreachable_test():
    """With five seeds the two-sided Wilcoxon p is never below 0.0625, so the test alone would
    call every comparison a tie; the interval at level 1 - 0.05 / m decides instead, and the
    oracle, which reads test labels, is no partner."""
    rng = np.random.default_rng(2)
    frame = _frame({"weak": np.full(10, 0.2) + rng.normal(0, 0.01, 10),
                    "same": rng.normal(0, 0.05, 10),
                    "oracle": np.full(10, -0.5)})
    frame["supervision"] = np.where(frame["detector"] == "oracle", "oracle", "pu")
    five = frame[frame["seed"] < 5]
    comp = paired_comparisons(five, ["pugan"], metrics=("auprc",)).set_index("other")
    assert "oracle" not in comp.index
    assert (comp["p_value"] >= 0.0625).all() and (comp["test"] == "t-interval").all()
    assert comp.loc["weak", "verdict"] == "win" and comp.loc["same", "verdict"] == "tie"
    assert comp["ci_level"].tolist() == pytest.approx([1 - 0.05 / 2] * 2)
    wide = five.pivot(index="seed", columns="detector", values="auprc")
    diff = (wide["pugan"] - wide["weak"]).to_numpy()
    half = stats.t.ppf(1 - 0.05 / 4, 4) * np.std(diff, ddof=1) / np.sqrt(5)
    assert (comp.loc["weak", "diff_low"], comp.loc["weak", "diff_high"]) == \
        pytest.approx((diff.mean() - half, diff.mean() + half))
    ten = paired_comparisons(frame, ["pugan"], metrics=("auprc",)).set_index("other")
    assert (ten["test"] == "wilcoxon").all() and ten.loc["weak", "verdict"] == "win"


def test_wilcoxon_p_never_goes_below_the_exact_floor_of_its_non_zero_pairs():
    from benchmarks.stats import wilcoxon_decides, wilcoxon_p

    # five seeds apart among twenty: the exact test's smallest p is 2 / 2**5, above 0.05;
    # a normal approximation over the five would give about 0.043
    diff = np.r_[np.zeros(15), 0.1, 0.2, 0.3, 0.4, 0.5]
    assert wilcoxon_p(diff) == pytest.approx(2 / 2**5)
    assert not wilcoxon_decides(diff)
    assert wilcoxon_p(diff[diff != 0]) == wilcoxon_p(diff)


def test_verdict():
    assert verdict(0.1, 0.01) == "win" and verdict(-0.1, 0.01) == "loss"
    assert verdict(0.1, 0.2) == "tie" and verdict(0.1, float("nan")) == "tie"


def test_readme_block_is_written_between_its_markers(tmp_path):
    frame = _frame({"weak": np.full(10, 0.1)})
    frame["best_f1"], frame["precision"], frame["recall"], frame["auroc"] = 0.6, 0.5, 0.5, 0.9
    frame["detector_name"] = frame["detector"]
    frame["preset"], frame["error"], frame["dataset"] = "", "", "moons-paper"
    t2 = table2(frame)
    block = readme_block(t2, frame)
    assert block.startswith(README_BEGIN) and block.endswith(README_END)
    assert "| moons-paper | pugan |" in block and "skipped" not in block
    # a skipped cell is explained in its own words
    frame.loc[(frame["detector"] == "weak") & (frame["seed"] == 0), ["status", "error"]] = \
        ["skipped", "weak cannot scale to 9 rows"]
    again = readme_block(table2(frame), frame)
    assert "1 cell was skipped: weak on moons-paper, weak cannot scale to 9 rows." in again
    assert "Table 2 on 10 report seeds (seeds 0-9)" in again
    # a seed where no cell finished is named, not counted among the seeds the table is on
    frame.loc[frame["seed"] == 9, "status"] = "timeout"
    late = readme_block(table2(frame), frame)
    assert "Table 2 on 9 report seeds (seeds 0-8); no cell finished on seed(s) 9:" in late
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{README_BEGIN}\nreplace me\n{README_END}\noutro\n")
    write_readme_block(readme, block)
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("\noutro\n") and "replace me" not in text
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="no results block"):
        write_readme_block(readme, block)


def test_a_comparison_without_pairs_is_untested_and_means_follow_the_pairs():
    rows = []
    for seed in range(6):
        rows += [{"dataset": "d", "anomaly_ratio": 0.1, "labelled_fraction": 0.5, "seed": seed,
                  "status": "ok", "detector": "pugan", "auprc": 0.5 + 0.01 * seed},
                 {"dataset": "d", "anomaly_ratio": 0.1, "labelled_fraction": 0.5, "seed": seed,
                  "status": "ok", "detector": "a", "auprc": 0.4 if seed else math.nan},
                 {"dataset": "d", "anomaly_ratio": 0.1, "labelled_fraction": 0.5, "seed": seed,
                  "status": "ok", "detector": "b", "auprc": math.nan}]
    comp = paired_comparisons(pd.DataFrame(rows), ["pugan"], metrics=("auprc",))
    comp = comp.set_index("other")
    # seed 0 has no number for "a": the pugan mean is over seeds 1-5, as the test is
    assert comp.loc["a", "n_pairs"] == 5
    assert comp.loc["a", "mean"] == pytest.approx(0.53)
    assert comp.loc["b", "n_pairs"] == 0 and comp.loc["b", "verdict"] == "untested"


def test_holm_is_statsmodels_holm():
    from statsmodels.stats.multitest import multipletests

    from benchmarks.stats import holm

    rng = np.random.default_rng(3)
    for size in (1, 2, 5, 12):
        p = rng.uniform(0, 0.2, size)
        p[rng.integers(size)] = p[0]  # a tie
        assert np.allclose(holm(p), multipletests(p, method="holm")[1], rtol=0, atol=1e-15)
    mixed = holm([0.01, float("nan"), 0.04])
    assert np.isnan(mixed[1]) and np.allclose(mixed[[0, 2]], [0.02, 0.04])


def test_an_untested_comparison_prints_blanks_not_nan():
    from benchmarks.report import _comparisons_markdown

    frame = _frame({"weak": np.full(10, 0.1)})
    frame.loc[frame["detector"] == "weak", "status"] = "failed"
    comp = paired_comparisons(frame, ["pugan"], metrics=("auprc",))
    assert comp["verdict"].tolist() == ["untested"]
    assert "nan" not in _comparisons_markdown(comp, "test")


def _rival_means_by_pivot(block, focus, metric="auprc"):
    """What versus_best read from a pandas pivot: each rival's seeds shared with the focus,
    its pairs' differences and its mean over the focus's finished seeds."""
    wide = block.pivot_table(index="seed", columns="detector", values=metric, aggfunc="mean")
    seeds = wide.index[wide[focus].notna()]
    out = {}
    for other in wide.columns.drop(focus):
        pair = wide[[focus, other]].dropna()
        out[other] = (int(wide.loc[seeds, other].notna().sum()),
                      (pair[focus] - pair[other]).to_numpy(), wide.loc[seeds, other].mean())
    return out


@pytest.mark.parametrize("case", ["plain", "missing seeds", "duplicate cells", "all-NaN rival",
                                  "shuffled", "many seeds"])
def test_seed_table_reads_what_a_pivot_gives(case):
    """versus_best builds its seeds x detectors table from arrays; for a float64 metric every
    count, difference and mean must be what a pandas pivot gave, bit for bit."""
    from benchmarks.stats import _SeedTable

    rng = np.random.default_rng(7)
    n_seeds = 300 if case == "many seeds" else 10
    rows = [{"seed": s, "detector": d, "auprc": float(rng.random())}
            for s in range(n_seeds) for d in ("focus", "a", "b", "c")]
    block = pd.DataFrame(rows)
    if case == "missing seeds":
        block.loc[rng.random(len(block)) < 0.25, "auprc"] = np.nan
    elif case == "duplicate cells":
        block = pd.concat([block, block.assign(auprc=block["auprc"] * 0.5)], ignore_index=True)
    elif case == "all-NaN rival":
        block.loc[block["detector"] == "c", "auprc"] = np.nan
    elif case == "shuffled":
        block = block.sample(frac=1.0, random_state=3)
    expected = _rival_means_by_pivot(block, "focus")
    table = _SeedTable(block, "auprc", "focus")
    assert sorted(table.detectors) == sorted(["focus", *expected])
    for other, (shared, diff, mean) in expected.items():
        focus_values, other_values = table.pair(other)
        assert table.shared(other) == shared
        np.testing.assert_array_equal(focus_values - other_values, diff)
        got = table.mean_where_focus_finished(other)
        assert got == mean or (math.isnan(got) and math.isnan(mean))


def test_cached_wilcoxon_p_is_scipys():
    """The p-value cache returns what scipy returns, with and without tied magnitudes, and
    for the differences of any float array handed in, whatever its dtype."""
    from benchmarks.stats import wilcoxon_p

    rng = np.random.default_rng(11)
    # tied sizes span scipy's branches: the exhaustive permutation test at the sizes a
    # report's seeds give, the normal approximation past what it enumerates; sizes near
    # that limit are left out, since each costs scipy about a second
    untied = [(n, False) for n in (2, 5, 10, 19)]
    tied = [(n, True) for n in (3, 6, 10, 16, 30)]
    for n, ties in (untied + tied) * 4:
        diff = rng.normal(size=n)
        if ties:  # tied magnitudes and zeros
            diff = np.round(diff, 1)
        nonzero = diff[diff != 0]
        want = 1.0 if nonzero.size == 0 else stats.wilcoxon(nonzero).pvalue
        assert wilcoxon_p(diff) == want
        assert wilcoxon_p(diff) == want  # the cached answer
    as_float32 = np.array([0.5, -0.25, 0.75, 1.0, -0.125], dtype=np.float32)
    assert wilcoxon_p(as_float32) == stats.wilcoxon(as_float32).pvalue
    nullable = pd.Series([0.5, -0.25, 0.75, 1.0, -0.125], dtype="Float64")
    assert wilcoxon_p(nullable) == stats.wilcoxon(nullable.to_numpy(float)).pvalue
