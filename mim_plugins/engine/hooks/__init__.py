from .invalid_loss_hook import StopOnInvalidLossHook
from .pretrained_check_hook import PretrainedCheckHook
from .reconstruction_hook import ReconstructionVisHook

__all__ = ['PretrainedCheckHook', 'ReconstructionVisHook',
           'StopOnInvalidLossHook']
