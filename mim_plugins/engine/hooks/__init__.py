from .invalid_loss_hook import StopOnInvalidLossHook
from .knn_hook import KNNMonitorHook
from .param_groups_hook import PlainParamGroupsHook
from .pretrained_check_hook import PretrainedCheckHook
from .reconstruction_hook import ReconstructionVisHook

__all__ = ['KNNMonitorHook', 'PlainParamGroupsHook', 'PretrainedCheckHook', 'ReconstructionVisHook',
           'StopOnInvalidLossHook']
