from .invalid_loss_hook import StopOnInvalidLossHook
from .pretrained_check_hook import PretrainedCheckHook

__all__ = ['PretrainedCheckHook', 'StopOnInvalidLossHook']
