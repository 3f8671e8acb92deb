"""mmpretrain's BEiTViT for detection inputs of any size."""
import math
from functools import lru_cache
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from mmdet.registry import MODELS
from mmpretrain.models.backbones import BEiTViT
from mmpretrain.models.utils import BEiTAttention
from mim_plugins.models.backbones.sdpa_attention import SDPABEiTAttention


@lru_cache(maxsize=32)
def relative_position_index(h: int, w: int) -> torch.Tensor:
    """BEiT's index into a relative position table, for an (h, w) grid and a
    cls token: (h*w + 1, h*w + 1), the last three table rows for the
    token-to-cls, cls-to-token and cls-to-cls pairs."""
    coords = torch.stack(torch.meshgrid(
        torch.arange(h), torch.arange(w), indexing='ij')).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
    rel[:, :, 0] += h - 1
    rel[:, :, 1] += w - 1
    rel[:, :, 0] *= 2 * w - 1
    num = (2 * h - 1) * (2 * w - 1) + 3
    index = torch.zeros((h * w + 1, ) * 2, dtype=torch.long)
    index[1:, 1:] = rel.sum(-1)
    index[0, 0:] = num - 3
    index[0:, 0] = num - 2
    index[0, 0] = num - 1
    return index


class GridRelPosAttention(SDPABEiTAttention):
    """BEiT attention whose relative position bias fits the input's grid.

    The layer's table holds the bias of every offset within its
    ``window_size`` grid (the pre-training's). For another ``grid`` (set by
    the backbone before each forward), the offset part of the table is
    resized bicubically to the new range of offsets, as CAE's detection code
    does (``prepare_rpe``); the three cls entries are kept.
    """

    grid: Optional[Tuple[int, int]] = None

    def _rel_pos_bias(self, n: int) -> Optional[torch.Tensor]:
        table = self.relative_position_bias_table
        if table is None or self.grid is None or \
                tuple(self.grid) == tuple(self.window_size):
            return super()._rel_pos_bias(n)
        (h, w), (wh, ww) = self.grid, self.window_size
        heads = table.shape[1]
        offsets = table[:-3].reshape(2 * wh - 1, 2 * ww - 1, heads)
        offsets = F.interpolate(
            offsets.permute(2, 0, 1).unsqueeze(0).float(),
            size=(2 * h - 1, 2 * w - 1), mode='bicubic', align_corners=False)
        table = torch.cat((offsets[0].permute(1, 2, 0).reshape(-1, heads),
                           table[-3:].float()))
        index = relative_position_index(h, w).to(table.device)
        return table[index.view(-1)].view(n, n, -1).permute(2, 0, 1)


@MODELS.register_module()
class AnySizeBEiTViT(BEiTViT):
    """mmpretrain's ``BEiTViT`` that takes images of any size.

    ``BEiTViT`` resizes its absolute position embedding to the input, but
    builds each layer's relative position bias for the ``img_size`` grid
    only, while a detector feeds images of varying size (480-800 by up to
    1333 px, padded to a multiple of 32). Here every layer's bias is resized
    to the input's patch grid at each forward (see
    :class:`GridRelPosAttention`), and the attention runs on PyTorch's fused
    ``scaled_dot_product_attention``. Parameters and checkpoint keys are
    those of ``BEiTViT``: build it with the pre-training's ``img_size`` (224)
    so that the tables load as they are.

    Args:
        **kwargs: Arguments of mmpretrain's ``BEiTViT``.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        for layer in self.layers:
            if type(layer.attn) is BEiTAttention:
                layer.attn.__class__ = GridRelPosAttention

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        patch = self.patch_embed.projection.stride
        grid = (math.ceil(x.shape[-2] / patch[0]),
                math.ceil(x.shape[-1] / patch[1]))
        for layer in self.layers:
            layer.attn.grid = grid
        return super().forward(x)
