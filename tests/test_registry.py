"""The built-in registrations: names, metadata, errors, and that listing is cheap."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from benchmarks.registry import (
    SUPERVISION,
    UnknownDetectorError,
    get_spec,
    make_detector,
    registry,
    registry_table,
)


def _builtin():
    """Only the built-in registrations: other test modules register test-only detectors."""
    return {n: s for n, s in registry().items() if s.factory.__module__ == "benchmarks.detectors"}


def test_names_and_supervision():
    builtin = _builtin()
    assert builtin
    for name, spec in builtin.items():
        assert name == name.lower() and " " not in name, name
        assert spec.supervision in SUPERVISION
        assert spec.description, f"{name} has no description"
        if name.endswith("-normals"):
            assert spec.supervision == "normals-only", name
            base = get_spec(name[: -len("-normals")])
            assert base.supervision == "unsupervised"
            assert (base.deep, base.max_train_rows) == (spec.deep, spec.max_train_rows)


def test_only_detectors_named_oracle_see_the_labels():
    """The harness passes training labels to "oracle" detectors alone; a reader must be able
    to tell them from their name and description."""
    builtin = _builtin()
    oracle = {n for n, s in builtin.items() if s.supervision == "oracle"}
    assert oracle and oracle == {n for n in builtin if "oracle" in n}
    assert all("ORACLE" in builtin[n].description for n in oracle)


def test_table_lists_every_registration():
    table = registry_table().set_index("name")
    assert set(table.index) == set(registry())
    for name, spec in registry().items():
        row = table.loc[name]
        assert (row["supervision"], bool(row["deep"])) == (spec.supervision, spec.deep), name
        cap = None if pd.isna(row["max_train_rows"]) else int(row["max_train_rows"])
        assert cap == spec.max_train_rows, name
    # the exact kernel OCSVM is O(n^2) and capped; its linear-time variant runs on full KDD
    assert get_spec("ocsvm").max_train_rows is not None
    assert get_spec("ocsvm-sgd").max_train_rows is None


def test_unknown_name_lists_known_ones():
    with pytest.raises(UnknownDetectorError, match="unknown detector 'iforrest'.*iforest"):
        make_detector("iforrest")
    # a ValueError too: the command line reports it as a bad input, with its message
    with pytest.raises(ValueError, match="unknown detector 'iforrest'"):
        make_detector("iforrest")


@pytest.mark.parametrize("name, params, match", [
    ("iforest", {"n_estimatorz": 10}, "n_estimatorz"),
    ("knn-normals", {"k": 3}, "no parameter .k."),
    ("ocsvm", {"nuu": 0.2}, "nuu"),
    ("ocsvm-sgd", {"fit_on": "normals"}, "fit_on"),
    ("pu-classifier", {"n_fold": 3}, "n_fold"),
])
def test_mistyped_params_raise_type_error(name, params, match):
    with pytest.raises(TypeError, match=match):
        make_detector(name, **params)


def test_params_reach_the_detector():
    det = make_detector("iforest-normals", random_state=4, n_estimators=7, threshold_quantile=0.95)
    assert det.random_state == 4 and det.fit_on == "normals"
    assert det.model_params == {"n_estimators": 7} and det.threshold_quantile == 0.95
    det = make_detector("ocsvm", random_state=2, nu=0.05)
    assert (det.nu, det.fit_on, det.random_state) == (0.05, "all", 2)


def test_pugan_ablations_cannot_override_their_switch():
    pytest.importorskip("pugan.detector", reason="pugan.PUGAN cannot be imported (torch missing)")
    with pytest.raises(TypeError, match="fixes"):
        make_detector("pugan-no-pu", train_on="all")


def test_listing_imports_neither_pyod_nor_torch():
    code = ("import sys; from benchmarks.registry import registry_table; t = registry_table(); "
            "assert len(t) >= 14; bad = [m for m in ('pyod', 'torch') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


def test_error_inside_fit_reaches_the_caller():
    """A wrapped model that fails in fit (PyOD KNN asked for more neighbours than rows) raises
    its own clear error through the registry, so the harness can record it as the cell's."""
    import numpy as np

    X = np.random.default_rng(0).normal(size=(40, 3))
    known = np.zeros(40, bool)
    known[:6] = True
    det = make_detector("knn-normals", random_state=0, n_neighbors=50)
    with pytest.raises(ValueError, match="n_neighbors|n_samples"):
        det.fit(X, known_normal=known)
