from .focal_frequency_loss import FocalFrequencyLoss
from .regression_loss import RegressionLoss

__all__ = ['FocalFrequencyLoss', 'RegressionLoss']
