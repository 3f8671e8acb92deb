"""Simple feature pyramid from a plain ViT's single stride-16 map (ViTDet)."""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmengine.model import BaseModule

from mmdet.registry import MODELS


@MODELS.register_module()
class SimpleFPN(BaseModule):
    """Li et al., "Exploring Plain Vision Transformer Backbones for Object
    Detection" (ECCV 2022): strides 4, 8, 16 and 32 made from the last
    stride-16 feature map by two / one stride-2 deconvolutions, identity and
    a 2x2 max-pool; then a 1x1 and a 3x3 convolution with normalisation per
    level (no activation, as detectron2's ``SimpleFeaturePyramid`` and
    mmdet's ``projects/ViTDet`` ``SimpleFPN``), and ``num_outs - 4`` extra
    levels by stride-2 subsampling (for the RPN). Takes the backbone's
    outputs and uses the last one. The convolutions start as mmcv's
    ``ConvModule`` (Kaiming) and the deconvolutions with PyTorch's default,
    as mmdet's ViTDet.

    Args:
        backbone_channel (int): Width of the ViT. Defaults to 768.
        in_channels (Sequence[int]): Width of each level before the convs.
            Defaults to ``[C/4, C/2, C, C]``.
        out_channels (int): Defaults to 256.
        num_outs (int): Defaults to 5.
        norm_cfg (dict): Defaults to mmpretrain's channels-first LayerNorm.
    """

    def __init__(self,
                 backbone_channel: int = 768,
                 in_channels: Sequence[int] = None,
                 out_channels: int = 256,
                 num_outs: int = 5,
                 norm_cfg: dict = dict(type='mmpretrain.LN2d', eps=1e-6),
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        c = backbone_channel
        in_channels = list(in_channels or [c // 4, c // 2, c, c])
        if num_outs < 4:
            raise ValueError(f'SimpleFPN: num_outs={num_outs} must be >= 4.')
        self.num_outs = num_outs
        self.fpn1 = nn.Sequential(
            nn.ConvTranspose2d(c, c // 2, 2, 2),
            build_norm_layer(norm_cfg, c // 2)[1], nn.GELU(),
            nn.ConvTranspose2d(c // 2, c // 4, 2, 2))
        self.fpn2 = nn.ConvTranspose2d(c, c // 2, 2, 2)
        self.fpn3 = nn.Identity()
        self.fpn4 = nn.MaxPool2d(2, 2)
        self.lateral_convs = nn.ModuleList(
            ConvModule(ch, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None)
            for ch in in_channels)
        self.fpn_convs = nn.ModuleList(
            ConvModule(out_channels, out_channels, 3, padding=1,
                       norm_cfg=norm_cfg, act_cfg=None)
            for _ in in_channels)

    def forward(self, inputs: Tuple[torch.Tensor]) -> Tuple[torch.Tensor]:
        x = inputs[-1]
        levels: List[torch.Tensor] = [
            f(x) for f in (self.fpn1, self.fpn2, self.fpn3, self.fpn4)]
        outs = [conv(lat(level)) for level, lat, conv in zip(
            levels, self.lateral_convs, self.fpn_convs)]
        for _ in range(self.num_outs - len(outs)):
            outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
