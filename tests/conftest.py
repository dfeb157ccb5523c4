"""Fixtures shared by the test files."""

import pytest


@pytest.fixture
def one_thread():
    """One BLAS/OpenMP/torch thread for the test. On a loaded 2-core runner OpenMP's
    spin-waiting made one small HistGradientBoosting fit take 57 s instead of 0.6 s."""
    import torch  # noqa: F401  (loaded first, so that thread_limits sets its threads too)

    from benchmarks.isolation import thread_limits

    with thread_limits(1):
        yield
