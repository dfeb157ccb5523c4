"""Fixtures shared by the test files."""

import pytest


@pytest.fixture
def one_thread():
    """One BLAS/OpenMP/torch thread for the test: on a loaded machine with few cores, OpenMP's
    spin-waiting makes small fits (HistGradientBoosting) many times slower than on one thread."""
    import torch  # noqa: F401  (loaded first, so that thread_limits sets its threads too)

    from benchmarks.isolation import thread_limits

    with thread_limits(1):
        yield
