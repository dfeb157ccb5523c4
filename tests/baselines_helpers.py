"""Helpers shared by the baseline and registry tests (no ``test_`` prefix: not collected)."""

from __future__ import annotations

import pytest

from benchmarks.contract import easy_case  # noqa: F401  (the shared synthetic case)
from benchmarks.registry import fit_detector, get_spec, make_detector


def build(name: str, random_state=0, **extra):
    """The detector with its test params, or a skip naming the library that is not installed."""
    spec = get_spec(name)
    try:
        return make_detector(name, random_state=random_state, **{**spec.test_params, **extra})
    except ImportError as exc:
        pytest.skip(f"{name}: {exc}")


def fit(det, name, X, y, known):
    """Fit as the harness does: only oracle detectors see the training labels."""
    return fit_detector(det, get_spec(name).supervision, X, y, known)
