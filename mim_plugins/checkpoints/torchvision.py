"""torchvision ``resnet*`` and ``vit_*`` state dicts.

torchvision's ResNet names are mmpretrain's (``conv1``, ``bn1``,
``layer1.0.downsample.0``); its ViT packs q, k, v in ``in_proj_weight`` of
``nn.MultiheadAttention`` (the same row order as timm's ``qkv``) and puts the
class token's position first in ``encoder.pos_embedding``.
"""
import re
from collections import OrderedDict
from typing import Optional

from .common import (CLASSIFIER, K_BIAS, Conversion, LayoutError, StateDict,
                     finish_vit, split_qkv_bias)
from .timm import convert_resnet, is_resnet

NAME = 'torchvision'
SUMMARY = 'torchvision ResNet (resnet18..152) and ViT (vit_b_16, ...)'

_LAYER = re.compile(r'encoder\.layers\.encoder_layer_(\d+)\.(.+)')
_BLOCK = (
    ('ln_1.', 'ln1.'),
    ('ln_2.', 'ln2.'),
    ('self_attention.in_proj_weight', 'attn.qkv.weight'),
    ('self_attention.out_proj.', 'attn.proj.'),
    ('mlp.0.', 'ffn.layers.0.0.'),
    ('mlp.3.', 'ffn.layers.1.'),
    ('mlp.linear_1.', 'ffn.layers.0.0.'),  # torchvision < 0.13 names
    ('mlp.linear_2.', 'ffn.layers.1.'),
)
_TOP = {
    'class_token': 'cls_token',
    'conv_proj.weight': 'patch_embed.projection.weight',
    'conv_proj.bias': 'patch_embed.projection.bias',
    'encoder.pos_embedding': 'pos_embed',
    'encoder.ln.weight': 'ln1.weight',
    'encoder.ln.bias': 'ln1.bias',
}


def is_vit(state: StateDict) -> bool:
    return 'conv_proj.weight' in state and any(
        k.startswith('encoder.layers.encoder_layer_0.') for k in state)


def convert_vit(state: StateDict, num_heads: Optional[int] = None,
                fill_identity: bool = False) -> Conversion:
    """torchvision ``VisionTransformer`` -> ``BEiTViT`` keys (pure)."""
    out, dropped = OrderedDict(), {}
    for key, value in state.items():
        match = _LAYER.match(key)
        if key in _TOP:
            out[_TOP[key]] = value
        elif key.startswith('heads.'):
            dropped[key] = CLASSIFIER
        elif match:
            pre, rest = f'layers.{match.group(1)}.', match.group(2)
            if rest == 'self_attention.in_proj_bias':
                q, _, v = split_qkv_bias(value)
                out[pre + 'attn.q_bias'], out[pre + 'attn.v_bias'] = q, v
                dropped[key + '[k]'] = K_BIAS
                continue
            for src, dst in _BLOCK:
                if rest.startswith(src):
                    out[pre + dst + rest[len(src):]] = value
                    break
            else:
                raise LayoutError(f'Cannot place the torchvision ViT key '
                                  f'{key!r}.')
        else:
            raise LayoutError(f'Cannot place the torchvision ViT key {key!r}.')
    return finish_vit(out, {}, NAME, dropped, num_source=len(state),
                      num_heads=num_heads, fill_identity=fill_identity)


def detect(ckpt: dict) -> Optional[StateDict]:
    if not isinstance(ckpt, dict):
        return None
    if is_vit(ckpt) or (is_resnet(ckpt) and 'mask_token' not in ckpt):
        return ckpt
    return None


def convert(state: StateDict, num_heads: Optional[int] = None,
            fill_identity: bool = False) -> Conversion:
    """torchvision state dict -> our keys (pure)."""
    if is_vit(state):
        return convert_vit(state, num_heads, fill_identity)
    if is_resnet(state):
        return convert_resnet(state, source=NAME)
    raise LayoutError('Neither a torchvision ViT (conv_proj, encoder.layers.'
                      'encoder_layer_*) nor a ResNet (conv1, layer1..4).')
