"""A2MIM: Architecture-Agnostic Masked Image Modeling (Li et al., ICML 2023)."""
from typing import Dict, List, Union

import torch

from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from ..utils import mean_fill
from .mim_base import MIMAlgorithmMixin


@MODELS.register_module()
class A2MIM(MIMAlgorithmMixin, BaseSelfSupervisor):
    """A2MIM pre-training for CNNs and ViTs.

    The masked pixels of the normalised input are filled with that image's
    per-channel mean (done here on ``inputs``, because mmpretrain normalises
    in the data preprocessor); the backbone adds its mask token at the masked
    stage; the linear decoder (``neck``) reconstructs the un-masked original,
    and the head computes the spatial and focal frequency losses on it.

    Args:
        backbone (dict): ``A2MIMResNet`` or ``A2MIMViT`` config (any backbone
            whose ``forward(x, mask)`` masks at one stage).
        neck (dict): Decoder config, e.g. ``SimMIMLinearDecoder``.
        head (dict): ``A2MIMHead`` config.
        residual (bool): Add the target's per-channel mean to the
            reconstruction, as the official ``residual`` option.
            Defaults to False.
        **kwargs: Other arguments of ``BaseSelfSupervisor``
            (``data_preprocessor``, ``init_cfg``, ...).
    """

    def __init__(self, residual: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.residual = residual

    def extract_feat(self, inputs: torch.Tensor):
        return self.backbone(inputs, mask=None)

    def reconstruct(self, inputs: torch.Tensor,
                    mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Masked input and reconstruction of a batch, for losses and plots."""
        self.check_inputs(inputs, mask)
        img_mim = mean_fill(inputs, mask)
        latent = self.backbone(img_mim, mask)
        pred = self.neck(latent[-1])
        if pred.shape[-2:] != inputs.shape[-2:]:
            raise ValueError(
                f'The input size {tuple(inputs.shape[-2:])} is not a multiple '
                f'of the model stride: the decoder returns '
                f'{tuple(pred.shape[-2:])}. Use an input size that is a '
                f'multiple of the encoder stride (the neck\'s '
                f'encoder_stride).')
        if self.residual:
            pred = pred + inputs.mean(dim=(2, 3), keepdim=True)
        return dict(masked=img_mim, pred=pred)

    def loss(self, inputs: Union[torch.Tensor, List[torch.Tensor]],
             data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Reconstruction losses of a batch (see :class:`A2MIMHead`)."""
        inputs = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        mask = self.stack_masks(data_samples)
        out = self.reconstruct(inputs, mask)
        return self.head.loss(out['pred'], inputs, mask)
