"""Fixtures shared by the test files."""

import pytest


@pytest.fixture
def one_thread():
    """One BLAS/OpenMP/torch thread for the test. On a loaded 2-core runner OpenMP's
    spin-waiting made one small HistGradientBoosting fit take 57 s instead of 0.6 s."""
    import torch
    from threadpoolctl import threadpool_limits

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(n)
