"""Performance suite (``make bench``), its ratio summary (``python -m benchmarks.perf.summary``)
and the scale curves (``make scale-curves``). Not part of ``make test``."""
