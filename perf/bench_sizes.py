"""Rounds and input sizes of the performance suite, shared by its files (not collected)."""

from __future__ import annotations

import os

#: rounds per benchmark; 1 by default (the slow fits take minutes); PERF_ROUNDS=3 for spread
ROUNDS = int(os.environ.get("PERF_ROUNDS", "1"))
#: training rows and scored records of the scoring-throughput group
SCORE_TRAIN_ROWS = 20_000
SCORE_ROWS = 20_000
