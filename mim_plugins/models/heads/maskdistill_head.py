"""MaskDistill head: linear projection to the teacher, Smooth-L1 on masks."""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmpretrain.registry import MODELS
from ..utils import masked_mean


@MODELS.register_module()
class MaskDistillHead(BaseModule):
    """Predict the normalised teacher features of the masked patches.

    ``pred = Linear(student tokens)``; the target is the teacher's token
    features normalised per token by a LayerNorm without affine,
    ``(t - mean) / sqrt(var + eps)``; the loss is the Smooth-L1 loss
    (``beta``) averaged over the channels and the *masked* tokens only.

    Args:
        in_channels (int): Student width. Defaults to 768.
        out_channels (int): Teacher feature width. Defaults to 512.
        beta (float): Smooth-L1 threshold; 0 gives L1. Defaults to 2.0.
        target_norm (bool): Normalise the targets. Defaults to True.
        eps (float): LayerNorm eps of the target. Defaults to 1e-6.
        loss_weight (float): Defaults to 1.0.
        init_cfg (dict, optional): Defaults to BEiT v2's head init
            (``modeling_pretrain.py`` ``_init_weights``): trunc-normal(0.02)
            cut at +-0.02, zero bias.
    """

    def __init__(self,
                 in_channels: int = 768,
                 out_channels: int = 512,
                 beta: float = 2.0,
                 target_norm: bool = True,
                 eps: float = 1e-6,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = dict(
                     type='TruncNormal', layer='Linear', std=0.02, a=-0.02,
                     b=0.02, bias=0.)
                 ) -> None:
        super().__init__(init_cfg)
        self.fc = nn.Linear(in_channels, out_channels)
        self.beta = beta
        self.target_norm = target_norm
        self.eps = eps
        self.loss_weight = loss_weight

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, L, C) student tokens -> (B, L, D) predictions."""
        return self.fc(tokens)

    def loss(self, tokens: torch.Tensor, target: torch.Tensor,
             mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Smooth-L1 between predictions and (normalised) teacher features.

        Args:
            tokens (torch.Tensor): Student patch tokens, (B, L, C).
            target (torch.Tensor): Teacher patch features, (B, L, D).
            mask (torch.Tensor): 1 = masked, (B, h, w) with h * w = L.
        """
        pred = self(tokens).float()
        target = target.float()
        if pred.shape != target.shape:
            raise ValueError(
                f'MaskDistillHead: prediction {tuple(pred.shape)} and teacher '
                f'features {tuple(target.shape)} differ: set out_channels to '
                f'the teacher width and give student and teacher the same '
                f'patch grid.')
        if self.target_norm:
            target = F.layer_norm(target, target.shape[-1:], eps=self.eps)
        m = mask.flatten(1).unsqueeze(-1).to(pred.dtype)
        if self.beta > 0:
            loss = F.smooth_l1_loss(pred, target, reduction='none',
                                    beta=self.beta)
        else:
            loss = (pred - target).abs()
        return dict(loss=self.loss_weight *
                    masked_mean(loss, m, pred.shape[-1]))
