"""Rank statistics on synthetic results whose ranking is known."""

import numpy as np
import pandas as pd
import pytest

from benchmarks.ranks import (
    block_scores,
    friedman,
    mean_ranks,
    nemenyi,
    rank_report,
    win_tie_loss,
)
from benchmarks.stats import holm, paired_comparisons

QUALITY = {"best": 0.9, "mid": 0.6, "worst": 0.3, "twin-of-mid": 0.6}


def synthetic(n_datasets=6, seeds=range(5), noise=0.01, rng_seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(rng_seed)
    rows = []
    for d in range(n_datasets):
        for ratio in (0.01, 0.05):
            for frac in (0.05, 0.2):
                for seed in seeds:
                    for det, q in QUALITY.items():
                        rows.append({"dataset": f"d{d}", "detector": det, "anomaly_ratio": ratio,
                                     "labelled_fraction": frac, "seed": seed, "status": "ok",
                                     "supervision": "pu", "detector_name": det,
                                     "f1": 0.5, "auprc": q + noise * rng.standard_normal()})
                    rows.append({**rows[-1], "detector": "oracle", "detector_name": "oracle",
                                 "supervision": "oracle", "auprc": 1.0})
    return pd.DataFrame(rows)


def test_mean_ranks_order_and_oracle_left_out():
    blocks, dropped = block_scores(synthetic())
    assert dropped == 0 and "oracle" not in blocks.columns and len(blocks) == 24
    ranks = mean_ranks(blocks)
    assert list(ranks.index[:1]) == ["best"] and ranks["best"] == 1.0
    assert ranks["worst"] == 4.0
    assert ranks["mid"] + ranks["twin-of-mid"] == pytest.approx(5.0)


def test_incomplete_block_is_dropped_and_counted():
    frame = synthetic()
    gone = (frame["dataset"] == "d0") & (frame["anomaly_ratio"] == 0.01) & \
           (frame["labelled_fraction"] == 0.05) & (frame["detector"] == "mid")
    frame.loc[gone, "status"] = "skipped"
    blocks, dropped = block_scores(frame)
    assert dropped == 1 and len(blocks) == 23


def test_a_detector_missing_one_seed_drops_its_block():
    """A mean over the seeds a detector finished is not ranked against means over all seeds."""
    frame = synthetic()
    one = (frame["dataset"] == "d0") & (frame["anomaly_ratio"] == 0.01) & \
          (frame["labelled_fraction"] == 0.05) & (frame["detector"] == "mid")
    frame.loc[one & (frame["seed"] == frame.loc[one, "seed"].min()), "status"] = "timeout"
    blocks, dropped = block_scores(frame)
    assert dropped == 1 and len(blocks) == 23


def test_friedman_and_nemenyi_separate_best_from_worst_not_the_twins():
    blocks, _ = block_scores(synthetic())
    _, p = friedman(blocks)
    assert p < 1e-6
    pv = nemenyi(blocks)
    assert pv.loc["best", "worst"] < 0.05
    assert pv.loc["mid", "twin-of-mid"] > 0.05
    with pytest.raises(ValueError, match="at least 3 detectors"):
        friedman(blocks[["best", "mid"]])


def test_holm_adjustment():
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    assert holm([0.6, 0.9]).tolist() == [1.0, 1.0]


def test_win_tie_loss_per_dataset():
    wtl = win_tie_loss(synthetic(), reference="mid")
    verdicts = wtl.groupby("detector")["verdict"].agg(set).to_dict()
    assert verdicts["worst"] == {"win"} and verdicts["best"] == {"loss"}
    assert verdicts["twin-of-mid"] == {"tie"}
    assert (wtl["n_pairs"] == 20).all()
    with pytest.raises(ValueError, match="reference detector"):
        win_tie_loss(synthetic(), reference="nope")


def test_identical_scores_are_a_tie():
    frame = synthetic(n_datasets=1, noise=0.0)
    wtl = win_tie_loss(frame, reference="mid").set_index("detector")
    assert wtl.loc["twin-of-mid", "verdict"] == "tie" and wtl.loc["twin-of-mid", "p_value"] == 1.0


def test_win_tie_loss_tests_pairs_as_the_report_does():
    """Four of twelve pairs equal: the p-value is the report's paired comparison's, which drops
    zero differences, not the one a zero-splitting test gives (0.117 on these pairs)."""
    frame = synthetic(n_datasets=1, seeds=range(12))
    frame = frame[(frame["anomaly_ratio"] == 0.01) & (frame["labelled_fraction"] == 0.05)].copy()
    mid = frame.loc[frame["detector"] == "mid", "auprc"].to_numpy()
    delta = np.array([0, 0, 0, 0, 0.01, 0.02, -0.015, 0.03, 0.04, 0.05, 0.06, -0.025])
    frame.loc[frame["detector"] == "twin-of-mid", "auprc"] = mid - delta
    ours = win_tie_loss(frame, reference="mid").set_index("detector")
    report = paired_comparisons(frame, ["mid"], metrics=("auprc",)).set_index("other")
    for other in ("best", "worst", "twin-of-mid"):
        assert ours.loc[other, "n_pairs"] == report.loc[other, "n_pairs"] == 12
        for column in ("p_value", "p_holm", "diff_low", "diff_high", "test", "verdict"):
            assert ours.loc[other, column] == pytest.approx(report.loc[other, column])
    assert ours.loc["twin-of-mid", "p_value"] == pytest.approx(0.109375)  # exact test, 8 pairs


def test_rank_report_writes_tables_and_cd_diagram(tmp_path):
    folder = tmp_path / "bench"
    folder.mkdir()
    synthetic().to_csv(folder / "results.csv", index=False)
    paths = rank_report(folder, tmp_path / "reports", reference="mid")
    names = {p.name for p in paths}
    assert {"leaderboard.csv", "nemenyi.csv", "win_tie_loss.csv", "bench_leaderboard.md",
            "bench_cd_auprc.png", "bench_cd_auprc.svg"} == names
    board = pd.read_csv(folder / "leaderboard.csv")
    assert board["detector"].iloc[0] == "best"
    assert "Friedman" in (tmp_path / "reports" / "bench_leaderboard.md").read_text()


def test_win_tie_loss_with_too_few_pairs_for_wilcoxon_lets_the_interval_decide():
    """One setting and five seeds per dataset (the unknown-types sweep's shape): the Wilcoxon
    test cannot reach p < 0.05, so a clear gap must still read as a win or a loss."""
    frame = synthetic(n_datasets=2)
    frame = frame[(frame["anomaly_ratio"] == 0.01) & (frame["labelled_fraction"] == 0.05)]
    wtl = win_tie_loss(frame, reference="mid")
    assert (wtl["n_pairs"] == 5).all() and (wtl["test"] == "t-interval").all()
    verdicts = wtl.groupby("detector")["verdict"].agg(set).to_dict()
    assert verdicts == {"best": {"loss"}, "worst": {"win"}, "twin-of-mid": {"tie"}}


def test_a_block_with_no_finished_cell_counts_as_dropped():
    frame = synthetic(n_datasets=2)
    gone = (frame["dataset"] == "d1") & (frame["anomaly_ratio"] == 0.05)
    frame.loc[gone, "status"] = "skipped"
    blocks, dropped = block_scores(frame)
    assert len(blocks) == 6 and dropped == 2


def test_a_detector_missing_one_seed_everywhere_leaves_the_ranking_not_the_blocks(tmp_path):
    """One detector timing out on one seed of every block used to drop every block, and
    with them the ranking of the detectors that finished everything; it is named instead."""
    frame = synthetic(n_datasets=2)
    full, _ = block_scores(frame)
    last = frame["seed"] == frame["seed"].max()
    frame.loc[last & (frame["detector"] == "worst"), "status"] = "timeout"
    blocks, dropped = block_scores(frame)
    assert "worst" not in blocks.columns and dropped == 0
    assert blocks.shape == (len(full), full.shape[1] - 1)
    folder = tmp_path / "bench"
    folder.mkdir()
    frame.to_csv(folder / "results.csv", index=False)
    rank_report(folder, tmp_path / "reports", reference="mid", figures=False)
    text = (tmp_path / "reports" / "bench_leaderboard.md").read_text()
    assert "Not ranked (every seed finished in fewer than half of the blocks): worst." in text


def test_rank_report_without_a_finished_reference_still_ranks(tmp_path):
    folder = tmp_path / "bench"
    folder.mkdir()
    frame = synthetic()
    frame.loc[frame["detector"] == "mid", "status"] = "failed"
    frame.to_csv(folder / "results.csv", index=False)
    rank_report(folder, tmp_path / "reports", reference="mid", figures=False)
    text = (tmp_path / "reports" / "bench_leaderboard.md").read_text()
    assert "No finished cell of mid" in text and "Friedman" in text
    assert pd.read_csv(folder / "win_tie_loss.csv").empty
    # the detector that finished nothing is named, not silently missing from the table
    assert "Not ranked (every seed finished in fewer than half of the blocks): mid." in text
    assert "oracle" not in text.split("Not ranked")[1].split("\n")[0]


def test_one_pair_is_undecided_in_win_tie_loss_not_a_tie(tmp_path):
    """With a single seed there is no interval: the comparison is undecided, and the
    leaderboard's summary counts it as such beside win, tie and loss."""
    folder = tmp_path / "bench"
    folder.mkdir()
    frame = synthetic(n_datasets=3, seeds=range(1))
    frame = frame[(frame["anomaly_ratio"] == 0.01) & (frame["labelled_fraction"] == 0.05)]
    frame.to_csv(folder / "results.csv", index=False)
    assert set(win_tie_loss(frame, reference="mid")["verdict"]) == {"undecided"}
    rank_report(folder, tmp_path / "reports", reference="mid", figures=False)
    text = (tmp_path / "reports" / "bench_leaderboard.md").read_text()
    assert "| detector | win | tie | loss | undecided |" in text


def test_the_leaderboard_of_the_current_folder_is_named_after_it(tmp_path, monkeypatch):
    folder = tmp_path / "my sweep"
    folder.mkdir()
    synthetic().to_csv(folder / "results.csv", index=False)
    monkeypatch.chdir(folder)
    rank_report(".", tmp_path / "reports", reference="mid", figures=False)
    assert (tmp_path / "reports" / "my-sweep_leaderboard.md").is_file()
