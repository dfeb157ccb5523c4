"""Uncertainty for the tables: confidence intervals over seeds and paired tests between detectors.

Every split seed draws a new split (and, for moons, new data), so the seeds of a sweep are
independent replicates of the whole protocol. Two conventions hold everywhere:

- **Intervals** are Student-t 95% confidence intervals of the mean over seeds,
  ``mean ± t(0.975, n - 1) · sd / √n`` with the sample standard deviation (``ddof=1``); for a
  metric bounded in [0, 1] the interval is clipped to [0, 1].
- **Comparisons** pair two detectors on the same seeds (the same split), test the per-seed
  differences with the Wilcoxon signed-rank test (two-sided, ``scipy.stats.wilcoxon``), and
  correct the p-values of one detector's comparisons within a block (dataset, anomaly ratio,
  labelled fraction and metric) with Holm's method (:func:`holm`). A comparison is a *win*
  or a *loss* when the corrected p-value is below ``alpha`` (0.05), else a *tie*. Where the
  Wilcoxon test cannot reach the level it is judged at whatever the data (its smallest
  p-value, ``2 / 2**k`` with ``k`` non-zero differences, is not below ``alpha / m`` for a
  family of ``m``: fewer than ``MIN_WILCOXON_PAIRS`` at ``m = 1``, more in a larger family)
  and Holm does not reject it, the Student-t interval of the mean difference decides instead,
  at the Bonferroni level ``1 - alpha / m`` over the block's ``m`` comparisons (win above 0,
  loss below; *undecided* where every pair differs by the same non-zero amount, whose
  interval has zero width). The oracle (supervision ``oracle``) reads the training
  anomalies' labels, which the PU setting hides, and is no comparison partner.
- **Against the other detectors** (:func:`versus_best`: the robustness table, the imbalance
  grid, the unknown-type sweep), a detector is *ahead*, *level* or *behind*. It is compared
  with every rival that finished at least half of its seeds, as one family by the rule above:
  *behind* when it loses to any of them, *ahead* when it wins against all of them, else
  *level*. With fewer than two pairs against the strongest rival there is no interval and the
  position is *undecided*, as it is when the comparison with any rival is undecided (it
  loses to none, but "level" would claim what no comparison showed); no claim counts
  *undecided* as held.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pandas as pd

__all__ = ["ALPHA", "CI_KIND", "MIN_WILCOXON_PAIRS", "RIVALS_RULE", "WILCOXON_FALLBACK",
           "attempted", "comparison_partners", "decide_family", "finished", "holm", "mean_ci",
           "no_comparison", "oracle_rows", "paired_comparisons", "verdict", "versus_best",
           "versus_best_where_ran", "wilcoxon_decides", "wilcoxon_p"]

ALPHA = 0.05
CI_KIND = "95% Student-t confidence interval of the mean over seeds"
#: the fewest non-zero pairs with which a two-sided Wilcoxon test can give p < ALPHA (its
#: smallest p-value is 2 / 2**k with k pairs)
MIN_WILCOXON_PAIRS = next(k for k in range(1, 64) if 2.0 * 0.5 ** k < ALPHA)
#: how :func:`versus_best` judges, in the words the reports print
RIVALS_RULE = (
    "Each PU-GAN entry is judged against every other detector that finished at least half of "
    "its seeds, as one family: paired Wilcoxon signed-rank p-values Holm-corrected over those "
    "rivals, or, where the test cannot reach the corrected level whatever the data, the "
    "Student-t interval of the mean paired difference at the Bonferroni level. It is behind "
    "when behind any rival, ahead when ahead of all, else level; undecided with fewer than 2 "
    "paired seeds against the strongest, or when a comparison is undecided. The rival shown "
    "is the strongest by mean, or, when behind, the one it trails by most; p is "
    "Holm-corrected (benchmarks.stats.versus_best). "
    "A detector that finished fewer than half of the entry's seeds is no rival and is named "
    "with the seeds it shares (`left out`), unless none finished half: then every detector "
    "sharing a seed is a rival.")
#: when the Wilcoxon test gives way to the t-interval, in the words the reports print
WILCOXON_FALLBACK = (
    f"Where the test cannot reach the corrected level whatever the data (fewer than "
    f"{MIN_WILCOXON_PAIRS} non-zero differences at {ALPHA:g}, more under the correction) and "
    "Holm does not reject it, the "
    "Student-t interval of the mean difference at level `ci_level` (Bonferroni over the "
    "block's comparisons) decides instead (`test`: t-interval)")


def mean_ci(values, *, bounded: bool = True, level: float = 0.95) -> tuple[float, float, float, float]:
    """(mean, sd with ddof=1, low, high) of ``values``; NaN where too few values."""
    from scipy import stats

    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (math.nan,) * 4
    mean = float(v.mean())
    if v.size < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1)) * sd / math.sqrt(v.size)
    low, high = mean - half, mean + half
    if bounded:
        low, high = max(low, 0.0), min(high, 1.0)
    return mean, sd, low, high


def holm(pvalues) -> np.ndarray:
    """Holm-corrected p-values; NaN entries stay NaN and are not counted.

    The step-down rule in a few array operations: the ``j``-th smallest of ``m`` p-values is
    multiplied by ``m - j + 1``, and each corrected value is at least the one before it
    (capped at 1). ``statsmodels``' ``multipletests(method="holm")`` gives the same numbers
    (a test compares them) but collects garbage on every call, which the report's thousands
    of small families made its slowest step.
    """
    given = np.asarray(pvalues, dtype=np.float64)
    p = given.reshape(-1)
    out = np.full(p.shape, math.nan)
    finite = np.flatnonzero(np.isfinite(p))
    if finite.size:
        order = finite[np.argsort(p[finite], kind="stable")]
        scaled = (finite.size - np.arange(finite.size)) * p[order]
        out[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return out.reshape(given.shape)


def verdict(direction: float, p_holm: float, alpha: float = ALPHA) -> str:
    """"win" / "loss" (significant, by the sign of ``direction``) or "tie"."""
    if not (p_holm < alpha) or direction == 0:
        return "tie"
    return "win" if direction > 0 else "loss"


def signed_rank_direction(diff: np.ndarray) -> float:
    """The side the Wilcoxon test leans to: the sum of the signed ranks of the non-zero
    differences (positive where the first detector is ahead).

    Why not the median difference: the test drops zero differences, so where most seeds tie
    exactly the median is 0 while the test, on the rest, may be significant; its direction is
    then that of the differences it ranked.
    """
    from scipy.stats import rankdata

    nonzero = diff[diff != 0]
    if nonzero.size == 0:
        return 0.0
    return float(np.sum(np.sign(nonzero) * rankdata(np.abs(nonzero))))


def wilcoxon_p(diff: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired differences, zero differences dropped;
    1.0 when every difference is zero (no evidence of a difference), NaN with no pairs.

    The zeros are dropped here, before scipy sees them: given zeros among more pairs than it
    enumerates, scipy's ``method="auto"`` takes the normal approximation of the non-zero
    ones, which can fall below the exact test's smallest p-value (``2 / 2**k`` with ``k``
    non-zero differences) that :func:`wilcoxon_decides` relies on. Without zeros it takes
    the exact distribution, or a permutation test where magnitudes tie."""
    if diff.size == 0:
        return math.nan
    nonzero = diff[diff != 0]
    if nonzero.size == 0:
        return 1.0  # identical on every seed: no evidence of a difference
    values = np.asarray(nonzero)
    if values.dtype.kind != "f":  # no plain float array whose bytes could key the cache
        return _scipy_wilcoxon_p(nonzero)
    return _cached_wilcoxon_p(values.dtype.str, np.ascontiguousarray(values).tobytes())


@functools.lru_cache(maxsize=1 << 16)
def _cached_wilcoxon_p(dtype: str, packed: bytes) -> float:
    """:func:`_scipy_wilcoxon_p` of the non-zero differences ``packed`` (their bytes, of
    ``dtype``), cached by value.

    Why: a report judges the same pairs of detectors in several tables and claims, and
    scipy's test is the slowest step of a comparison. Caching cannot change an answer,
    since scipy's ``method="auto"`` draws nothing at random on these inputs: the exact
    distribution without ties, an exhaustive permutation test where ties leave few enough
    differences to enumerate, the normal approximation beyond (a test compares the cache
    with scipy on tied and untied differences)."""
    return _scipy_wilcoxon_p(np.frombuffer(packed, dtype=np.dtype(dtype)))


def _scipy_wilcoxon_p(nonzero) -> float:
    from scipy.stats import wilcoxon

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on ties and small samples
        return float(wilcoxon(nonzero, alternative="two-sided").pvalue)


def wilcoxon_decides(diff: np.ndarray, alpha: float = ALPHA) -> bool:
    """Whether the two-sided Wilcoxon test can give a p-value below ``alpha`` on these
    differences whatever their values: it drops zero differences, and with ``k`` left its
    smallest p-value is ``2 / 2**k``. At a corrected level (``alpha / m`` for Holm's first
    step or Bonferroni over ``m``) it needs more pairs than at 0.05, and a test that cannot
    reject would read "tie" for any data."""
    return 2.0 * 0.5 ** int(np.count_nonzero(diff)) < alpha


def _constant_difference(diff: np.ndarray) -> str | None:
    """"tie" when every paired difference is zero up to rounding, "undecided" when every one is
    the same non-zero amount up to rounding (0.7 - 0.1 and 0.9 - 0.3 differ in the last bit),
    None otherwise: a zero-width interval must not read as a win or a loss."""
    tol = 1e-12 * max(1.0, float(np.max(np.abs(diff))))
    if np.ptp(diff) > tol:
        return None
    return "tie" if abs(float(np.mean(diff))) <= tol else "undecided"


def decide_family(diffs: list[np.ndarray], alpha: float = ALPHA) -> list[dict]:
    """Win, tie or loss for each of one detector's comparisons in a family (the other
    detectors of one block, or of one dataset), by the module's rule: Wilcoxon p-values
    Holm-corrected over the family where Holm rejects a comparison or its test could reach
    the family's first step (enough non-zero differences), else
    the Student-t interval of the mean difference at the Bonferroni level over the family.
    One dict per entry of ``diffs``: p_value, p_holm, diff_low, diff_high, ci_level, test,
    verdict ("untested" where there is no pair at all, "undecided" where one pair gives no
    interval, or where the interval decides and every pair differs by the same amount).
    Shared by the report's comparisons
    and the leaderboard's win/tie/loss, so that neither reads "tie" where the test could
    never have said anything else."""
    p_values = [wilcoxon_p(d) for d in diffs]
    tested = sum(d.size > 0 for d in diffs)  # Holm's family too
    level = 1 - alpha / max(tested, 1)
    out = []
    for d, p, p_holm in zip(diffs, p_values, holm(p_values), strict=True):
        _, _, low, high = mean_ci(d, bounded=False, level=level)
        if d.size == 0:  # no seed where both finished with a number: no evidence either way
            test, decided = "none", "untested"
        elif d.size < 2:  # one pair has no interval: "tie" would claim what it cannot show
            test, decided = "none", "undecided"
        elif p_holm < alpha or wilcoxon_decides(d, alpha / max(tested, 1)):
            # Holm rejected it, or its test could reach the family's first step: the test
            # decides; otherwise "tie" would be the only answer it could give
            test, decided = "wilcoxon", verdict(signed_rank_direction(d), p_holm, alpha)
        else:
            # every pair differing by the same amount gives a zero-width interval, a point
            # that would read as significant from two seeds, though no test could say so
            test = "t-interval"
            decided = (_constant_difference(d)
                       or ("win" if low > 0 else "loss" if high < 0 else "tie"))
        out.append({"p_value": p, "p_holm": float(p_holm), "diff_low": low, "diff_high": high,
                    "ci_level": level if d.size >= 2 else math.nan,  # no interval to level
                    "test": test, "verdict": decided})
    return out


def paired_comparisons(frame: pd.DataFrame, focus, *, metrics=("auprc", "f1"),
                       alpha: float = ALPHA) -> pd.DataFrame:
    """Each ``focus`` detector against every other detector, per block and metric.

    ``frame`` is a results frame (one row per cell). Only seeds where both cells finished
    ``ok`` are paired; a detector that ran in the block but shares no such seed is a row with
    no pair ("untested"), not left out; the oracle is left out. Returns one row per (dataset,
    ratio, fraction, detector, other, metric): the number of pairs, the mean of each side, the
    median and mean difference (detector - other), the Student-t interval of the mean difference at the
    Bonferroni level ``ci_level``, the Wilcoxon p-value, the Holm-corrected p-value (over the
    ``other`` detectors of the same block, detector and metric), which of the two decided
    (``test``) and the verdict (rules in the module docstring).
    """
    tried = attempted(frame[~oracle_rows(frame)])
    rows = []
    keys = ["dataset", "anomaly_ratio", "labelled_fraction"]
    for (dataset, ratio, frac), ran in tried.groupby(keys, sort=True):
        detectors = sorted(ran["detector"].unique())  # one that finished nothing: untested
        d = ran[ran["status"] == "ok"]
        for det in [f for f in focus if f in detectors]:
            for metric in metrics:
                block = []
                mine = d[d["detector"] == det].set_index("seed")[metric].astype(float)
                for other in detectors:
                    if other == det:
                        continue
                    theirs = d[d["detector"] == other].set_index("seed")[metric].astype(float)
                    both = mine.index.intersection(theirs.index)
                    # the means are over the pairs the test sees: seeds finite on both sides
                    both = both[np.isfinite(mine[both]) & np.isfinite(theirs[both])]
                    diff = (mine[both] - theirs[both]).to_numpy()
                    block.append({
                        "dataset": dataset, "anomaly_ratio": ratio, "labelled_fraction": frac,
                        "detector": det, "other": other, "metric": metric,
                        "n_pairs": int(diff.size),
                        "mean": float(mine[both].mean()) if len(both) else math.nan,
                        "other_mean": float(theirs[both].mean()) if len(both) else math.nan,
                        "diff_median": float(np.median(diff)) if diff.size else math.nan,
                        "diff_mean": float(diff.mean()) if diff.size else math.nan,
                        "diff": diff})
                decided = decide_family([b.pop("diff") for b in block], alpha)
                rows += [{**b, **d} for b, d in zip(block, decided, strict=True)]
    cols = ["dataset", "anomaly_ratio", "labelled_fraction", "detector", "other", "metric",
            "n_pairs", "mean", "other_mean", "diff_median", "diff_mean", "diff_low",
            "diff_high", "ci_level", "p_value", "p_holm", "test", "verdict"]
    return pd.DataFrame(rows, columns=cols)


def oracle_rows(frame: pd.DataFrame) -> pd.Series:
    """True for the rows of a detector that reads the training anomalies' labels, which the
    PU setting hides (supervision ``oracle``): an upper reference, never a comparison
    partner nor a ranked entry. All False for a frame without a ``supervision`` column."""
    if "supervision" not in frame:
        return pd.Series(False, index=frame.index)
    return frame["supervision"].fillna("") == "oracle"


def attempted(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of cells that ran (finished, failed or timed out), not those skipped before
    any fit (a split that cannot be filled, a row cap): where a detector ran but finished
    nothing, a comparison is undecided; where nothing ran, there is no comparison at all."""
    return frame[frame["status"] != "skipped"]


def finished(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The ``ok`` rows with a finite ``metric``: a cell can finish without one (no held-out
    anomaly in its test split gives no held-out AUPRC), and such a cell says nothing."""
    values = pd.to_numeric(frame[metric], errors="coerce") if metric in frame else math.nan
    return frame[(frame["status"] == "ok") & np.isfinite(values)]


def comparison_partners(block: pd.DataFrame, exclude) -> list[str]:
    """The detectors of ``block`` to compare with, sorted: all but ``exclude`` and the oracle,
    which reads the training anomalies' labels."""
    return sorted(set(block.loc[~oracle_rows(block), "detector"]) - set(exclude))


class _SeedTable:
    """One block's metric as a seeds x detectors array (the mean of each seed's cells), with
    the seeds where ``focus`` finished; what :func:`versus_best` reads for every rival.

    Why not a pandas pivot: the reports judge every block of every sweep, and the pivot and
    the per-rival column lookups were most of that time. The means are summed as pandas sums
    them (NaN skipped, the rest in seed order), so for a float64 metric, as results frames
    hold, every number is the one a pivot gave, to the bit.
    """

    def __init__(self, block: pd.DataFrame, metric: str, focus: str):
        wide = block.groupby(["seed", "detector"])[metric].mean().unstack("detector")
        wide = wide.dropna(how="all")
        wide = wide.loc[:, wide.notna().any()]  # as a pivot: no detector without a number
        self.detectors = list(wide.columns)
        self._column = {name: j for j, name in enumerate(self.detectors)}
        self._values = wide.to_numpy(dtype=np.float64)
        self.focus = focus
        #: a mask over the seeds: where ``focus`` finished with a number
        self.focus_finished = (~np.isnan(self.column(focus)) if focus in self
                               else np.zeros(len(wide), dtype=bool))

    def __contains__(self, detector: str) -> bool:
        return detector in self._column

    def column(self, detector: str) -> np.ndarray:
        return self._values[:, self._column[detector]]

    def shared(self, other: str) -> int:
        """How many of the focus's finished seeds ``other`` finished too."""
        return int(np.count_nonzero(~np.isnan(self.column(other)[self.focus_finished])))

    def pair(self, other: str) -> tuple[np.ndarray, np.ndarray]:
        """The focus's and ``other``'s values on the seeds both finished, in seed order."""
        both = self.focus_finished & ~np.isnan(self.column(other))
        return self.column(self.focus)[both], self.column(other)[both]

    def mean_where_focus_finished(self, other: str) -> float:
        """``other``'s mean over the focus's finished seeds, NaN skipped, as pandas sums."""
        values = self.column(other)[self.focus_finished]
        count = np.count_nonzero(~np.isnan(values))
        return float(np.where(np.isnan(values), 0.0, values).sum() / count) if count else math.nan


def _rivals(shared: dict[str, int], n_seeds: int) -> list[str]:
    """The rivals the focus is judged against, among the detectors of ``shared`` (their
    counts of the focus's ``n_seeds`` seeds, :meth:`_SeedTable.shared`): those that share at
    least half of them. A rival's mean over the few seeds it finished (the easy ones, when
    the hard ones time out) would make it the strongest on luck and leave a handful of pairs,
    while one missed seed must not drop a rival. Where none shares half, any rival sharing a
    seed; where none shares one, the first (its comparison has no pair and is undecided)."""
    others = list(shared)
    return ([o for o in others if 2 * shared[o] >= n_seeds and shared[o]]
            or [o for o in others if shared[o]] or others[:1])


def _strongest(table: _SeedTable, rivals: list[str]) -> str:
    """The rival with the highest mean over the seeds it shares with the focus."""
    return max(rivals, key=lambda o: (table.mean_where_focus_finished(o), o))


#: why :func:`versus_best` left a position undecided (its ``undecided_by``)
NOTHING_FINISHED, NO_PAIR, ONE_PAIR, SAME_DIFFERENCE = (
    "nothing finished", "no pair", "one pair", "the same difference on every seed")


def _undecided_reason(diff: np.ndarray) -> str:
    """Why a comparison was left undecided, from its paired differences: no pair, a single
    pair (no interval), or every pair differing by the same amount (a zero-width
    interval)."""
    return NO_PAIR if diff.size == 0 else ONE_PAIR if diff.size == 1 else SAME_DIFFERENCE


def no_comparison(focus: str) -> dict:
    """:func:`versus_best`'s row for a block where ``focus`` ran but it, or every other
    detector, finished no cell: undecided, which no claim counts as held, so that a
    comparison nothing could be said about is counted as such instead of dropped."""
    return {"focus": focus, "best_other": "", "n_pairs": 0, "mean": math.nan,
            "best_other_mean": math.nan, "diff": math.nan, "diff_low": math.nan,
            "diff_high": math.nan, "ci_level": math.nan, "p_value": math.nan,
            "p_holm": math.nan, "alpha": math.nan, "test": "none", "position": "undecided",
            "undecided_by": NOTHING_FINISHED, "n_seeds": 0, "left_out": ""}


def versus_best_where_ran(tried: pd.DataFrame, focus: str, exclude, metric: str = "auprc",
                          family_size: int = 1) -> dict:
    """:func:`versus_best` on the finished rows of ``tried`` (one block's cells that ran,
    :func:`attempted`) against every partner but ``exclude``, or :func:`no_comparison` where
    ``focus`` or every partner finished nothing there. The grid, the held-out families and
    the KDD readings judge each block this one way."""
    block = finished(tried, metric)
    others = comparison_partners(block, exclude)
    if focus not in set(block["detector"]) or not others:
        return no_comparison(focus)
    return versus_best(block, focus, others, metric, family_size=family_size)


def versus_best(block: pd.DataFrame, focus: str, others, metric: str = "auprc",
                family_size: int = 1) -> dict:
    """``focus`` against its rivals among ``others`` (:func:`_rivals`: those that finished at
    least half of its seeds) in one block of a results frame (one dataset, ratio and
    fraction; only ``ok`` rows): the position ``ahead`` / ``level`` / ``behind`` or
    ``undecided`` (rule in the module docstring) and the rival it is shown against with both
    means over their paired seeds, the mean difference with its Student-t interval, the
    Wilcoxon p-value raw (``p_value``) and Holm-corrected over the rivals (``p_holm``), the
    level ``alpha`` that ``p_holm`` is judged at, and which test decided, the number of
    seeds ``focus`` finished (``n_seeds``) and the detectors of ``others`` left out as rivals
    with the seeds each shares (``left_out``), so a reader sees who was not judged.

    The rivals are one family (:func:`decide_family`), so ``focus`` is behind when it is
    significantly behind any of them, even one whose mean is lower but whose lead is
    steadier than the strongest's, and ahead only when it is ahead of every one of them.
    It is shown against the strongest rival by mean, or, when behind, against the rival it
    trails by most. The oracle, which reads the training anomalies' labels, is never a rival.
    ``family_size`` > 1 judges this block as one of that many (Bonferroni: the family's
    level at ``ALPHA / family_size``), for a claim that must hold in every block of a grid
    at once.
    """
    table = _SeedTable(block, metric, focus)
    partners = set(comparison_partners(block, [focus]))
    others = [o for o in others if o in table and o in partners]
    if not table.focus_finished.any() or not others:
        raise ValueError(f"no finished cells of {focus!r} and another detector to compare "
                         f"({sorted(table.detectors)})")
    if isinstance(family_size, bool) or not isinstance(family_size, int) or family_size < 1:
        raise ValueError(f"family_size must be an integer >= 1; got {family_size!r}")
    n_seeds = int(np.count_nonzero(table.focus_finished))
    shared = {o: table.shared(o) for o in others}
    rivals = _rivals(shared, n_seeds)
    left_out = "; ".join(f"{o} ({shared[o]} of {n_seeds} seeds)" for o in others
                         if o not in rivals)
    pairs = {o: table.pair(o) for o in rivals}
    diffs = {o: pairs[o][0] - pairs[o][1] for o in rivals}
    decided = dict(zip(rivals, decide_family([diffs[o] for o in rivals], ALPHA / family_size),
                       strict=True))
    verdicts = {o: decided[o]["verdict"] for o in rivals}
    shown = _strongest(table, rivals)
    if "loss" in verdicts.values():
        position = "behind"
        shown = min((o for o in rivals if verdicts[o] == "loss"),
                    key=lambda o: (diffs[o].mean(), o))
    elif verdicts[shown] == "untested" or "undecided" in verdicts.values():
        # no interval against the strongest, or a rival it cannot be told apart from by any
        # interval: "level" would claim what no comparison showed
        position = "undecided"
        open_ = sorted((o for o in rivals if verdicts[o] in ("undecided", "untested")),
                       key=lambda o: o != shown)  # the rival shown first
        undecided_by = _undecided_reason(diffs[open_[0]])
    elif all(v == "win" for v in verdicts.values()):
        position = "ahead"
    else:
        position = "level"
    (focus_values, shown_values), row, diff = pairs[shown], decided[shown], diffs[shown]
    if position != "undecided":
        undecided_by = ""
    return {"focus": focus, "best_other": shown, "n_pairs": int(diff.size),
            "mean": float(focus_values.mean()) if diff.size else math.nan,
            "best_other_mean": float(shown_values.mean()) if diff.size else math.nan,
            "diff": float(diff.mean()) if diff.size else math.nan,
            "diff_low": row["diff_low"], "diff_high": row["diff_high"],
            "ci_level": row["ci_level"], "p_value": row["p_value"], "p_holm": row["p_holm"],
            "alpha": ALPHA / family_size, "test": row["test"],
            "position": position, "undecided_by": undecided_by, "n_seeds": n_seeds,
            "left_out": left_out}
