"""The paper's reported numbers, in one place: what the reports set our results beside.

Table 1 is the composition of each of its datasets; the presets of :mod:`benchmarks.splits`
are built from it. Table 2 is its precision, recall and F1 (at a threshold it chose with test
labels) for PU-GAN and a one-class SVM. docs/protocol.md describes both in words.
"""

from __future__ import annotations

__all__ = ["PAPER_TABLE1", "PAPER_TABLE2"]

#: Table 1: preset -> the paper's composition. Its KDD sizes are MAD-GAN's and exceed the 10%
#: file, so the KDD presets of :mod:`benchmarks.splits` keep its *ratios*: the test share of all
#: records, the test anomaly ratio, and the labelled share of training normals (the paper gives
#: no training anomaly count; the test ratio is used on both sides, as the protocol requires).
PAPER_TABLE1 = {
    "moons-paper": dict(attributes=2, known_positives=3_492, training_size=70_000,
                        testing_size=30_000, anomalies_in_testing=15_000),
    "kddcup99-high": dict(attributes=6, known_positives=556_700, training_size=562_387,
                          testing_size=494_021, anomalies_in_testing=911),
    "kddcup99-low": dict(attributes=6, known_positives=8_434, training_size=562_387,
                         testing_size=494_021, anomalies_in_testing=911),
}

#: Table 2 of the paper: (preset, method) -> (precision, recall, F1)
PAPER_TABLE2 = {
    ("kddcup99-high", "PU-GAN"): (0.821, 0.925, 0.870),
    ("kddcup99-low", "PU-GAN"): (0.816, 0.647, 0.722),
    ("kddcup99-low", "OCSVM"): (0.729, 0.803, 0.716),
    ("moons-paper", "PU-GAN"): (1.0, 0.995, 0.997),
    ("moons-paper", "OCSVM"): (0.85, 0.847, 0.847),
}
