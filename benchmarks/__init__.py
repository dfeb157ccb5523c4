"""The benchmark suite: datasets, splits, registry, harness, metrics, reports and CLI."""
