"""Initialisation rules of the official MIM code, for our backbones.

Each official code base starts its models in its own way; these helpers
state those rules once, so that a backbone's ``init_weights`` reads as the
official one does. Truncation bounds matter: mmcv/timm's ``trunc_normal_``
cuts at +-2 (absolute, so nothing at std 0.02), while BEiT (and
microsoft/SimMIM's ViT, which copies it) cuts at +-std, which leaves a
standard deviation of 0.54 x std.
"""
import math
from typing import Iterable, Optional, Union

import torch.nn as nn
from mmengine.model.weight_init import PretrainedInit, trunc_normal_


def is_pretrained_init(init_cfg: Optional[Union[dict, list]]) -> bool:
    """Whether ``init_cfg`` loads a checkpoint (then nothing is drawn)."""
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(
        isinstance(c, dict)
        and c.get('type') in ('Pretrained', 'PretrainedInit', PretrainedInit)
        for c in cfgs)


def trunc_normal_weights_(module: nn.Module,
                          std: float = .02,
                          cutoff: Optional[float] = None,
                          types=(nn.Linear, )) -> None:
    """Every submodule of ``types``: weight ~ N(0, std) truncated at
    +-``cutoff`` (default +-2, mmcv/timm's), bias 0."""
    a = -2. if cutoff is None else -cutoff
    for m in module.modules():
        if isinstance(m, types):
            trunc_normal_(m.weight, mean=0., std=std, a=a, b=-a)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def reset_layer_norms_(module: nn.Module) -> None:
    """Every LayerNorm: weight 1, bias 0."""
    for m in module.modules():
        if isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def zero_(params: Iterable[Optional[nn.Parameter]]) -> None:
    """Zero the given parameters (``None`` entries are skipped)."""
    for p in params:
        if p is not None:
            nn.init.zeros_(p)


def rescale_residual_branches_(layers: Iterable[nn.Module]) -> None:
    """BEiT's ``fix_init_weight``: divide the output projections of the
    attention and of the MLP of layer ``i`` (from 1) by ``sqrt(2 i)``.

    ``layers`` are mmpretrain transformer layers (``attn.proj``, and
    ``ffn.layers[1]``, the second linear layer of mmcv's ``FFN``).
    """
    for i, layer in enumerate(layers, start=1):
        scale = math.sqrt(2. * i)
        layer.attn.proj.weight.data.div_(scale)
        layer.ffn.layers[1].weight.data.div_(scale)
