"""What the MIM algorithms share: mask handling, input checks, loss logging."""
from collections import OrderedDict
from typing import Dict, List, Tuple

import torch
import torch.distributed as dist
from mmengine.dist import get_world_size, is_distributed

from mmpretrain.structures import DataSample


class MIMAlgorithmMixin:
    """Mix into a ``BaseSelfSupervisor`` that reconstructs masked inputs."""

    @staticmethod
    def stack_masks(data_samples: List[DataSample]) -> torch.Tensor:
        """(B, h, w) mask from the data samples, with a clear error if absent."""
        if not data_samples or 'mask' not in data_samples[0]:
            raise ValueError(
                'No MIM mask in the data samples: add a mask generator '
                "(e.g. dict(type='BlockwiseMaskGenerator', input_size=224, "
                'mask_patch_size=32, model_patch_size=16, mask_ratio=0.6)) '
                "before 'PackInputs' in the train pipeline.")
        return torch.stack([s.mask for s in data_samples])

    @staticmethod
    def check_inputs(inputs: torch.Tensor, mask: torch.Tensor) -> None:
        """Images must be whole multiples of the mask grid."""
        H, W = inputs.shape[-2:]
        h, w = mask.shape[-2:]
        if H % h or W % w:
            raise ValueError(
                f'The input size {H}x{W} is not a multiple of the mask grid '
                f'{h}x{w}: set the crop size and the mask generator\'s '
                f'input_size to the same value (a multiple of the mask patch '
                f'size).')

    def parse_losses(
        self, losses: Dict[str, torch.Tensor]
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Sum the losses; log their mean over all ranks, as DDP averages grads.

        mmengine logs rank 0's local losses only; averaging them makes the
        logged loss that of the whole global batch.
        """
        loss, log_vars = super().parse_losses(losses)
        if is_distributed() and get_world_size() > 1:
            names = list(log_vars)
            values = torch.stack([log_vars[k].detach().float() for k in names])
            dist.all_reduce(values)
            values = values / get_world_size()
            log_vars = OrderedDict(zip(names, values))
        return loss, log_vars
