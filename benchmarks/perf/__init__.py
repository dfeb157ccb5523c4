"""Measuring tools: KDD-like inputs of any size, PU-GAN's stage profile, the ratio summary of
``make bench`` (``python -m benchmarks.perf.summary``) and the scale curves (``make scale-curves``).

The pytest-benchmark suite itself lives in ``perf/`` at the top of the repository, outside the
installed package and outside ``make test``.
"""
