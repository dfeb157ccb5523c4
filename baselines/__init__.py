"""Adapters that put other detectors (scikit-learn, PyOD, PU references) behind the suite interface."""
