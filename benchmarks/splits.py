"""The PU split protocol (README, "Protocol"), one function for every dataset.

Order of operations, each step seeded from ``seed`` alone so the same arguments give the same
split bit for bit:

1. optional de-duplication of exact repeated records (features and label);
2. optional subsampling of the normal class to ``n_normal`` records (for small, fast splits);
3. a stratified train/test split of normals and anomalies by ``test_size``, so no record is in
   both; anomalies whose type or family is in ``holdout_types`` are then dropped from the
   training side only (the test set keeps them: unknown anomaly types become measurable);
4. anomalies subsampled, separately in train and test, so that each holds
   ``anomaly_ratio`` = anomalies / (anomalies + normals); the normal class keeps its size.
   With ``heldout_test_share``, that share of the test anomalies is drawn from the held-out
   types and the rest from the seen ones, so a rare held-out family is measured on enough
   records;
5. ``round(labelled_fraction * training normals)`` training normals revealed as known positives
   (P); every other training record, anomalies included, is unlabelled (U);
6. rows shuffled, then preprocessing (categoricals dropped or one-hot, scaling, PCA) fitted on
   the training rows only and applied to both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, OneHotEncoder, StandardScaler

from benchmarks.datasets import Dataset, load_dataset
from benchmarks.paper import PAPER_TABLE1

__all__ = ["KDD_READINGS", "PAPER_TABLE1", "PRESETS", "PUSplit", "SplitError", "SplitInfeasible",
           "anomaly_overlap", "make_pu_split", "preset_split", "table1"]

#: loaders that draw their data from a seed: each split draws its own (see make_pu_split)
GENERATED_DATASETS = ("moons",)

SCALERS = {
    "minmax": lambda: MinMaxScaler(feature_range=(-1.0, 1.0)),
    "standard": StandardScaler,
    "maxabs": MaxAbsScaler,
}


class SplitError(ValueError):
    """A split the arguments or the data cannot produce; the message names the parameter."""


class SplitInfeasible(SplitError):
    """Valid arguments that this dataset cannot fill (too few anomalies or normals).

    A sweep records such a cell as skipped with this message: the grid asked for more than the
    data holds, which is a property of the dataset, not a fault to retry.
    """


@dataclass(frozen=True)
class PUSplit:
    """One PU split. ``y_train`` is kept for diagnostics and the oracle detector only.

    Attributes
    ----------
    X_train, X_test : preprocessed features (float64).
    known_normal : True for training records labelled normal (the P set); the rest are U.
    y_train, y_test : 1 = anomaly. Test labels are for scoring only.
    train_index, test_index : row numbers in the loaded dataset (before de-duplication), for
        leak checks and for tracing a record back to its source.
    type_train, type_test : per-record anomaly type (``"normal"`` for normals).
    meta : sizes, the arguments, and what preprocessing was fitted.
    """

    X_train: np.ndarray
    known_normal: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    y_train: np.ndarray
    train_index: np.ndarray
    test_index: np.ndarray
    type_train: np.ndarray
    type_test: np.ndarray
    feature_names: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)


def _check_fraction(name: str, value, *, allow_one: bool) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SplitError(f"{name} must be a number, got {value!r}") from None
    upper_ok = v <= 1.0 if allow_one else v < 1.0
    if not (0.0 < v and upper_ok and np.isfinite(v)):
        interval = "(0, 1]" if allow_one else "(0, 1)"
        extra = ("; 1 would mean a set of anomalies only, while the normal class keeps its size"
                 if name == "anomaly_ratio" and v == 1.0 else "")
        raise SplitError(f"{name} must be in {interval}, got {value!r}{extra}")
    return v


def _n_anomalies(n_normal: int, ratio: float) -> int:
    """Anomalies needed so that anomalies / (anomalies + normals) == ratio, rounded."""
    return int(round(n_normal * ratio / (1.0 - ratio)))


def _take_anomalies(pool: np.ndarray, needed: int, side: str, ratio: float, n_norm: int,
                    dataset: str, rng: np.random.Generator) -> np.ndarray:
    if needed < 1:
        raise SplitInfeasible(
            f"anomaly_ratio={ratio} with {n_norm} {side} normals of {dataset!r} gives 0 {side} "
            "anomalies; raise the ratio or the number of normals"
        )
    if needed > len(pool):
        raise SplitInfeasible(
            f"anomaly_ratio={ratio} needs {needed} {side} anomalies beside {n_norm} normals, "
            f"but {dataset!r} has only {len(pool)} available on the {side} side; lower "
            "anomaly_ratio or n_normal"
        )
    return np.sort(rng.choice(pool, size=needed, replace=False))


def _preprocess(ds: Dataset, X_train_raw: pd.DataFrame, X_test_raw: pd.DataFrame, *,
                scale, pca, categorical: str, seed: int):
    """Fit categorical handling, scaling and PCA on the training rows; apply to both sides."""
    cats = [c for c in ds.categorical if c in X_train_raw.columns]
    num_cols = [c for c in X_train_raw.columns if c not in cats]
    Xtr = X_train_raw[num_cols].to_numpy(dtype=np.float64)
    Xte = X_test_raw[num_cols].to_numpy(dtype=np.float64)
    names = list(num_cols)
    steps: dict[str, Any] = {"categorical": categorical if cats else None}
    if cats and categorical == "onehot":
        enc = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64)
        enc.fit(X_train_raw[cats].astype(str))
        Xtr = np.hstack([Xtr, enc.transform(X_train_raw[cats].astype(str))])
        Xte = np.hstack([Xte, enc.transform(X_test_raw[cats].astype(str))])
        names += list(enc.get_feature_names_out(cats))
    elif cats and categorical != "drop":
        raise SplitError(f"categorical must be 'drop' or 'onehot', got {categorical!r}")
    if Xtr.shape[1] == 0:
        raise SplitError(f"dataset {ds.name!r} has no attribute left once its categorical "
                         f"columns {cats} are dropped: set categorical='onehot' or give it "
                         "numeric columns")
    if scale is not None:
        if scale not in SCALERS:
            raise SplitError(f"scale must be one of {sorted(SCALERS)} or None, got {scale!r}")
        scaler = SCALERS[scale]().fit(Xtr)
        Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    steps["scale"] = scale
    if pca is not None:
        n_comp = int(pca)
        if not 1 <= n_comp <= Xtr.shape[1]:
            raise SplitError(f"pca must be between 1 and {Xtr.shape[1]} components, got {pca!r}")
        if n_comp > Xtr.shape[0]:
            raise SplitInfeasible(f"pca={n_comp} components need at least as many training "
                                  f"rows; the split has {Xtr.shape[0]}: raise n_normal")
        model = PCA(n_components=n_comp, svd_solver="full", random_state=seed).fit(Xtr)
        Xtr, Xte = model.transform(Xtr), model.transform(Xte)
        names = [f"pc{i}" for i in range(n_comp)]
        steps["pca_explained_variance"] = float(model.explained_variance_ratio_.sum())
    steps["pca"] = pca
    return np.ascontiguousarray(Xtr), np.ascontiguousarray(Xte), tuple(names), steps


def make_pu_split(dataset: str | Dataset, anomaly_ratio: float, labelled_fraction: float,
                  seed: int, *, test_size: float = 0.3, n_normal: int | None = None,
                  holdout_types=None, heldout_test_share: float | None = None,
                  dedupe: bool = False, scale="auto", pca="auto",
                  categorical: str = "drop", dataset_params: dict | None = None) -> PUSplit:
    """Split ``dataset`` by the PU protocol (module docstring).

    Parameters
    ----------
    dataset : a name for :func:`benchmarks.datasets.load_dataset` or a loaded Dataset.
    anomaly_ratio : anomalies / (anomalies + normals), in (0, 1), in U and in test alike.
    labelled_fraction : share of training normals revealed as known positives, in (0, 1].
    seed : fixes every random choice of the split.
    test_size : share of each class (before anomaly subsampling) sent to the test side.
    n_normal : subsample the normal class to this many records first (small, fast splits).
    holdout_types : anomaly types or families (KDD: "DoS", "Probe", "R2L", "U2R" or attack
        names) kept out of the training pool; the test set keeps them.
    heldout_test_share : with ``holdout_types``, the share of test anomalies drawn from the
        held-out types (the rest from the seen ones), in (0, 1); None keeps the natural mix,
        where a rare family (KDD's Probe: about 1% of attacks) would leave a handful of test
        records.
    dedupe : drop exact duplicate records (features and label) before splitting.
    scale : "minmax" (to [-1, 1], MAD-GAN's), "standard", "maxabs", None, or "auto" (the
        dataset's default: minmax for KDD, standard for ADBench and files, none for moons).
    pca : number of PCA components, None, or "auto" (6 for KDD as in the paper, else none).
    categorical : "drop" (default; the paper's 6 PCA attributes come from the numeric ones) or
        "onehot" for categorical columns.
    dataset_params : keyword arguments for the loader (e.g. ``{"noise": 0.2}`` for moons).
        A generated dataset (moons) is drawn with ``random_state=seed`` unless these set it,
        so splits of different seeds, development and report seeds alike, share no data.
    """
    ratio = _check_fraction("anomaly_ratio", anomaly_ratio, allow_one=False)
    frac = _check_fraction("labelled_fraction", labelled_fraction, allow_one=True)
    tsize = _check_fraction("test_size", test_size, allow_one=False)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SplitError(f"seed must be a non-negative integer, got {seed!r}")
    params = dict(dataset_params or {})
    if dataset in GENERATED_DATASETS:
        params.setdefault("random_state", int(seed))
    ds = dataset if isinstance(dataset, Dataset) else load_dataset(dataset, **params)
    rng = np.random.default_rng(int(seed))

    rows = np.arange(ds.n_samples)
    n_dupes = 0
    if dedupe:
        keyframe = ds.X.assign(__label__=ds.y)
        keep = ~keyframe.duplicated(keep="first").to_numpy()
        n_dupes = int((~keep).sum())
        rows = rows[keep]
    y = ds.y[rows]
    normals, anomalies = rows[y == 0], rows[y == 1]
    if n_normal is not None:
        if not isinstance(n_normal, int | np.integer) or n_normal < 2:
            raise SplitError(f"n_normal must be an integer >= 2, got {n_normal!r}")
        if n_normal > len(normals):
            raise SplitInfeasible(
                f"n_normal={n_normal} exceeds the {len(normals)} normal records of {ds.name!r}")
        normals = np.sort(rng.choice(normals, size=int(n_normal), replace=False))

    def split_side(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        perm = rng.permutation(idx)
        n_test = int(round(tsize * len(perm)))
        return np.sort(perm[n_test:]), np.sort(perm[:n_test])

    norm_tr, norm_te = split_side(normals)
    anom_tr, anom_te = split_side(anomalies)
    if len(norm_tr) < 1 or len(norm_te) < 1:
        raise SplitInfeasible(f"test_size={tsize} leaves no normal record on one side of {ds.name!r}")
    held = ()
    held_types: list[str] = []
    if heldout_test_share is not None:
        if not holdout_types:
            raise SplitError("heldout_test_share needs holdout_types (which types are held out)")
        heldout_test_share = _check_fraction("heldout_test_share", heldout_test_share,
                                             allow_one=False)
    if holdout_types:
        held = tuple([holdout_types] if isinstance(holdout_types, str) else holdout_types)
        known_types = set(ds.anomaly_type[ds.y == 1]) | set(ds.family[ds.y == 1])
        unknown = [t for t in held if t not in known_types]
        if unknown:
            raise SplitError(f"holdout_types {unknown} not among {ds.name!r}'s anomaly types "
                             f"or families: {sorted(known_types)}")
        is_held = np.isin(ds.anomaly_type, held) | np.isin(ds.family, held)
        held_types = sorted(set(ds.anomaly_type[is_held & (ds.y == 1)]))
        anom_tr = anom_tr[~is_held[anom_tr]]
    pick_tr = _take_anomalies(anom_tr, _n_anomalies(len(norm_tr), ratio), "training", ratio,
                              len(norm_tr), ds.name, rng)
    n_anom_te = _n_anomalies(len(norm_te), ratio)
    if heldout_test_share is None:
        pick_te = _take_anomalies(anom_te, n_anom_te, "test", ratio, len(norm_te), ds.name, rng)
    else:
        te_held = is_held[anom_te]
        n_held = int(round(heldout_test_share * n_anom_te))
        if not 1 <= n_held <= n_anom_te - 1:
            raise SplitInfeasible(
                f"heldout_test_share={heldout_test_share} of the {n_anom_te} test anomalies "
                f"leaves {n_held} held-out and {n_anom_te - n_held} seen: each side needs one; "
                + ("move the share towards one half or " if n_anom_te >= 2 else "")
                + "raise anomaly_ratio or n_normal")
        pick_te = np.sort(np.concatenate([
            _take_anomalies(anom_te[te_held], n_held, "held-out test", ratio, len(norm_te),
                            ds.name, rng),
            _take_anomalies(anom_te[~te_held], n_anom_te - n_held, "seen test", ratio,
                            len(norm_te), ds.name, rng)]))
    n_known = int(round(frac * len(norm_tr)))
    if n_known < 1:
        raise SplitInfeasible(
            f"labelled_fraction={frac} of {len(norm_tr)} training normals labels no record; "
            "raise it")
    known_rows = rng.choice(norm_tr, size=n_known, replace=False)

    train_index = rng.permutation(np.concatenate([norm_tr, pick_tr]))
    test_index = rng.permutation(np.concatenate([norm_te, pick_te]))
    known_normal = np.isin(train_index, known_rows)
    defaults = ds.meta
    scale = defaults.get("default_scale") if scale == "auto" else scale
    pca = defaults.get("default_pca") if pca == "auto" else pca
    X_train, X_test, names, steps = _preprocess(
        ds, ds.X.iloc[train_index], ds.X.iloc[test_index], scale=scale, pca=pca,
        categorical=categorical, seed=int(seed))
    y_train, y_test = ds.y[train_index].copy(), ds.y[test_index].copy()
    meta = {
        "dataset": ds.name, "anomaly_ratio": ratio, "labelled_fraction": frac, "seed": int(seed),
        "test_size": tsize, "n_normal": n_normal, "holdout_types": list(held),
        "holdout_anomaly_types": held_types, "heldout_test_share": heldout_test_share,
        "dedupe": dedupe,
        "duplicates_dropped": n_dupes, "n_train": len(train_index), "n_test": len(test_index),
        "n_known_normal": n_known, "n_train_anomalies": int(y_train.sum()),
        "n_test_anomalies": int(y_test.sum()), "n_features": X_train.shape[1],
        **anomaly_overlap(ds.X, train_index, test_index[y_test == 1]), **steps,
    }
    return PUSplit(
        X_train=X_train, known_normal=known_normal, X_test=X_test, y_test=y_test,
        y_train=y_train, train_index=train_index, test_index=test_index,
        type_train=ds.anomaly_type[train_index], type_test=ds.anomaly_type[test_index],
        feature_names=names, meta=meta,
    )


def anomaly_overlap(X: pd.DataFrame, train_index: np.ndarray,
                         test_anomaly_index: np.ndarray) -> dict[str, int]:
    """How many distinct raw records the test anomalies are, and how many have a training twin.

    KDD repeats records by the thousand (smurf, neptune), so a test set of many anomalies may
    be few distinct records, many with an identical copy among the training rows: a detector
    then recognises what it saw rather than detecting something new. Rows are compared on the
    raw features (before preprocessing), categoricals included, by a 64-bit row hash.

    Returns ``n_test_anomalies_distinct`` and ``n_test_anomalies_twin_in_train``.
    """
    def row_hash(index: np.ndarray) -> np.ndarray:
        return pd.util.hash_pandas_object(X.iloc[index], index=False).to_numpy()

    test_h = row_hash(test_anomaly_index)
    twin = np.isin(test_h, row_hash(train_index))
    return {"n_test_anomalies_distinct": int(len(np.unique(test_h))),
            "n_test_anomalies_twin_in_train": int(twin.sum())}


# --- the paper's presets ---------------------------------------------------------------------
# The KDD presets keep Table 1's ratios (PAPER_TABLE1): the test share of all records
# 494,021 / (494,021 + 562,387), the test anomaly ratio 911 / 494,021, and the labelled share of
# training normals, with training normals = 562,387 x (1 - ratio).
_KDD_RATIO = 911 / 494_021
_KDD_TRAIN_NORMALS = 562_387 * (1 - _KDD_RATIO)
_KDD_TEST_SIZE = 494_021 / (494_021 + 562_387)

PRESETS: dict[str, dict[str, Any]] = {
    "moons-paper": dict(dataset="moons", anomaly_ratio=0.5, labelled_fraction=3_492 / 35_000,
                        test_size=0.3, dataset_params={"n_samples": 100_000, "noise": 0.1}),
    "kddcup99-high": dict(dataset="kddcup99", anomaly_ratio=_KDD_RATIO,
                          labelled_fraction=556_700 / _KDD_TRAIN_NORMALS,
                          test_size=_KDD_TEST_SIZE),
    "kddcup99-low": dict(dataset="kddcup99", anomaly_ratio=_KDD_RATIO,
                         labelled_fraction=8_434 / _KDD_TRAIN_NORMALS, test_size=_KDD_TEST_SIZE),
}

# --- further readings of KDD -------------------------------------------------------------------
# The paper leaves open what its KDD anomaly ratio means once the 10% file replaces MAD-GAN's
# sizes, and whether repeated records stay in. Beside the paper's ratio, a 2% anomaly ratio
# (each side then holds enough distinct attacks to rank detectors), and de-duplicated variants of
# both (exact repeated records dropped before splitting, so a test anomaly is rarely a copy of a
# training row). Labelled fractions, test share and preprocessing stay those of the paper's
# presets. Every split records how many distinct records its test anomalies are and how many
# have a twin among the training rows (:func:`anomaly_overlap`).
KDD_2PCT_RATIO = 0.02
for _level in ("high", "low"):
    _base = PRESETS[f"kddcup99-{_level}"]
    PRESETS[f"kddcup99-{_level}-2pct"] = {**_base, "anomaly_ratio": KDD_2PCT_RATIO}
    PRESETS[f"kddcup99-{_level}-dedupe"] = {**_base, "dedupe": True}
    PRESETS[f"kddcup99-{_level}-2pct-dedupe"] = {**_base, "anomaly_ratio": KDD_2PCT_RATIO,
                                                 "dedupe": True}
#: every KDD reading, paper's first: (preset, anomaly-ratio reading, de-duplicated, labelling)
KDD_READINGS = tuple(
    (f"kddcup99-{level}{ratio}{dd}", "paper" if not ratio else "2%", bool(dd), level)
    for dd in ("", "-dedupe") for ratio in ("", "-2pct") for level in ("high", "low"))


def preset_split(name: str, seed: int, **overrides) -> PUSplit:
    """The split of paper preset ``name`` (:data:`PRESETS`), with optional overrides."""
    if name not in PRESETS:
        raise SplitError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
    return make_pu_split(**{**PRESETS[name], **overrides}, seed=seed)


def table1(seed: int = 0) -> pd.DataFrame:
    """Table 1 regenerated: our composition of each preset beside the paper's."""
    rows = []
    for name, paper in PAPER_TABLE1.items():
        s = preset_split(name, seed)
        ours = dict(attributes=s.X_train.shape[1], known_positives=int(s.known_normal.sum()),
                    training_size=len(s.X_train), testing_size=len(s.X_test),
                    anomalies_in_testing=int(s.y_test.sum()))
        row = {"dataset": name, **ours}
        row.update({f"paper_{k}": v for k, v in paper.items()})
        rows.append(row)
    return pd.DataFrame(rows)
