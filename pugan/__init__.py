"""PU-GAN: positive-unlabelled bagging + an LSTM GAN for semi-supervised anomaly detection."""

from pugan.base import AnomalyDetectorMixin, labels_at_threshold, quantile_threshold

__version__ = "0.1.0"
__all__ = ["AnomalyDetectorMixin", "labels_at_threshold", "quantile_threshold", "__version__"]
