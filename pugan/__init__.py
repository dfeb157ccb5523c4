"""PU-GAN: positive-unlabelled bagging + an LSTM GAN for semi-supervised anomaly detection."""

from pugan.base import AnomalyDetectorMixin, labels_at_threshold, quantile_threshold

__version__ = "0.1.0"
__all__ = [
    "PUGAN",
    "AnomalyDetectorMixin",
    "PUBaggingClassifier",
    "PUBaggingDetector",
    "__version__",
    "labels_at_threshold",
    "quantile_threshold",
    "select_reliable",
]


def __getattr__(name):
    """Import the torch-based detector lazily, so ``import pugan`` stays cheap."""
    if name == "PUGAN":
        from pugan.detector import PUGAN

        return PUGAN
    if name in ("PUBaggingClassifier", "PUBaggingDetector", "select_reliable"):
        from pugan import pu_bagging

        return getattr(pu_bagging, name)
    raise AttributeError(f"module 'pugan' has no attribute {name!r}")
