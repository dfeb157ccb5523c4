"""Built-in detector registrations (see :mod:`benchmarks.registry`)."""

from __future__ import annotations

from benchmarks.registry import register  # noqa: F401
