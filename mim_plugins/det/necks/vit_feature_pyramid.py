"""Strides 4, 8, 16 and 32 from four stride-16 maps of a plain ViT."""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule

from mmdet.registry import MODELS


@MODELS.register_module()
class ViTFeaturePyramid(BaseModule):
    """Rescale a ViT's multi-level outputs into a feature pyramid for an FPN.

    A plain ViT gives every level at the patch stride (16). The BEiT/CAE
    detection and segmentation code (and mmseg's ``Feature2Pyramid``, which
    mmdet lacks) make strides 4, 8, 16, 32 of the four levels by a
    deconvolution - norm - GELU - deconvolution (x4), one deconvolution
    (x2), the identity (x1) and a 2x2 max-pool (x0.5), keeping the width;
    mmdet's ``FPN`` then takes the four levels as from a ResNet. Use as the
    first of two necks: ``neck=[dict(type='ViTFeaturePyramid', ...),
    dict(type='FPN', in_channels=[C] * 4, ...)]``.

    Args:
        embed_dims (int): Width of the ViT (of every level).
        rescales (Sequence[float]): Scale of each level, from 4, 2, 1, 0.5.
            Defaults to (4, 2, 1, 0.5).
        norm_cfg (dict): Norm between the two deconvolutions of the x4
            level. Defaults to SyncBN, as CAE's detection code.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 embed_dims: int,
                 rescales: Sequence[float] = (4, 2, 1, 0.5),
                 norm_cfg: dict = dict(type='SyncBN', requires_grad=True),
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        c = embed_dims
        ops = {
            4: lambda: nn.Sequential(
                nn.ConvTranspose2d(c, c, 2, 2),
                build_norm_layer(norm_cfg, c)[1], nn.GELU(),
                nn.ConvTranspose2d(c, c, 2, 2)),
            2: lambda: nn.ConvTranspose2d(c, c, 2, 2),
            1: nn.Identity,
            0.5: lambda: nn.MaxPool2d(2, 2),
        }
        unknown = [r for r in rescales if r not in ops]
        if unknown:
            raise ValueError(f'ViTFeaturePyramid: rescales {unknown} are not '
                             f'among {sorted(ops)}.')
        self.rescales = tuple(rescales)
        self.ops = nn.ModuleList(ops[r]() for r in self.rescales)

    def forward(self, inputs: Tuple[torch.Tensor]) -> Tuple[torch.Tensor]:
        if len(inputs) != len(self.ops):
            raise ValueError(
                f'ViTFeaturePyramid: {len(inputs)} levels from the backbone, '
                f'{len(self.ops)} rescales; set the backbone out_indices to '
                f'one layer per rescale.')
        return tuple(op(x) for op, x in zip(self.ops, inputs))
