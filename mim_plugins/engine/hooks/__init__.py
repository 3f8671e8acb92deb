from .checkpoint_hook import SafeCheckpointHook
from .divergence_hook import (DivergenceError, DivergenceHook,
                              StopOnInvalidLossHook)
from .knn_hook import KNNMonitorHook
from .param_groups_hook import PlainParamGroupsHook
from .pretrained_check_hook import PretrainedCheckHook
from .reconstruction_hook import ReconstructionVisHook

__all__ = ['DivergenceError', 'DivergenceHook', 'KNNMonitorHook',
           'PlainParamGroupsHook', 'PretrainedCheckHook',
           'ReconstructionVisHook', 'SafeCheckpointHook',
           'StopOnInvalidLossHook']
