"""timm ``VisionTransformer``, ``Beit``, ``ResNet`` and ``ConvNeXt`` state
dicts.

timm's ViT names (``blocks.i.norm1``, ``attn.qkv``, ``mlp.fc1``, ``ls1.gamma``,
``patch_embed.proj``, ``norm``/``fc_norm``) are also those of the official
MAE and DeiT checkpoints; its Beit names (``attn.q_bias``/``v_bias``,
``gamma_1``, ``rel_pos_bias``) are those of BEiT and microsoft/SimMIM's ViT.
timm's ResNet names are torchvision's, which mmpretrain's ``ResNet`` keeps.
timm's ConvNeXt (``stem.0/1``, ``stages.i.downsample.0/1``,
``stages.i.blocks.j.{conv_dw,norm,mlp.fc1,mlp.grn,mlp.fc2,gamma}``,
``head.norm``; ConvNeXt-V2 with GRN too) renames one to one into
mmpretrain's ``ConvNeXt``; its pooled output (``head.norm`` after global
pooling) is ``ConvNeXt(gap_before_final_norm=True)``'s.
"""
import functools
import re
from collections import OrderedDict
from typing import Callable, Dict, Optional

import torch

from .common import (CLASSIFIER, K_BIAS, Conversion, LayoutError, StateDict,
                     Tensor, finish_convnext, finish_resnet, finish_vit,
                     int_sqrt, split_qkv_bias)

NAME = 'timm'
SUMMARY = ('timm ViT (vit_*, deit_*), BEiT (beit_*), ResNet (resnet*) and '
           'ConvNeXt (convnext*, convnextv2*): a plain state dict or '
           'model.safetensors')

#: block suffix in timm / BEiT names -> in BEiTViT names
BLOCK = (
    ('norm1.', 'ln1.'),
    ('norm2.', 'ln2.'),
    ('attn.qkv.weight', 'attn.qkv.weight'),
    ('attn.q_bias', 'attn.q_bias'),
    ('attn.v_bias', 'attn.v_bias'),
    ('attn.relative_position_bias_table', 'attn.relative_position_bias_table'),
    ('attn.relative_position_index', 'attn.relative_position_index'),
    ('attn.proj.', 'attn.proj.'),
    ('mlp.fc1.', 'ffn.layers.0.0.'),
    ('mlp.fc2.', 'ffn.layers.1.'),
    ('gamma_1', 'gamma_1'),
    ('gamma_2', 'gamma_2'),
    ('ls1.gamma', 'gamma_1'),
    ('ls2.gamma', 'gamma_2'),
)
#: top-level key in timm / BEiT names -> in BEiTViT names
TOP = {
    'cls_token': 'cls_token',
    'pos_embed': 'pos_embed',
    'patch_embed.proj.weight': 'patch_embed.projection.weight',
    'patch_embed.proj.bias': 'patch_embed.projection.bias',
    'rel_pos_bias.relative_position_bias_table':
    'rel_pos_bias.relative_position_bias_table',
    'rel_pos_bias.relative_position_index':
    'rel_pos_bias.relative_position_index',
    'norm.weight': 'ln1.weight',
    'norm.bias': 'ln1.bias',
    'fc_norm.weight': 'ln2.weight',
    'fc_norm.bias': 'ln2.bias',
}
UNSUPPORTED = {
    'reg_token': 'register tokens',
    'norm_pre.': 'a pre-norm (CLIP-style)',
    'attn_pool.': 'attention pooling',
    '.q_norm.': 'query/key normalisation',
    '.k_norm.': 'query/key normalisation',
    'mlp.norm.': 'a normalised (scale_mlp / SwiGLU) MLP',
}


def rename_vit(state: StateDict, dropped: Dict[str, str],
               special: Optional[Callable[[str, Tensor], bool]] = None
               ) -> 'OrderedDict[str, Tensor]':
    """timm / BEiT ViT keys -> ``BEiTViT`` keys.

    ``special(key, value)`` sees each key first and returns True when it
    placed (or dropped) the key itself. A key nobody places raises
    :class:`LayoutError`.
    """
    out = OrderedDict()
    for key, value in state.items():
        if special is not None and special(key, value):
            continue
        for marker, what in UNSUPPORTED.items():
            if marker in key or key.startswith(marker):
                raise LayoutError(f'{key}: ViTs with {what} are not '
                                  f'supported (mmpretrain\'s BEiTViT has '
                                  f'none).')
        if key in TOP:
            out[TOP[key]] = value
        elif key.startswith('head.') or key.startswith('head_dist.'):
            dropped[key] = CLASSIFIER
        elif key.startswith('blocks.'):
            idx, rest = key[len('blocks.'):].split('.', 1)
            pre = f'layers.{idx}.'
            if rest == 'attn.qkv.bias':
                q, k, v = split_qkv_bias(value)
                out[pre + 'attn.q_bias'], out[pre + 'attn.v_bias'] = q, v
                dropped[key + '[k]'] = K_BIAS
                continue
            for src, dst in BLOCK:
                if rest.startswith(src):
                    out[pre + dst + rest[len(src):]] = value
                    break
            else:
                raise LayoutError(f'Cannot place the ViT key {key!r}.')
        else:
            raise LayoutError(f'Cannot place the ViT key {key!r}.')
    return out


def _no_embed_class(backbone: Dict[str, Tensor], notes: list) -> None:
    """timm's ``no_embed_class``: a position embedding without the class
    token's slot; ours has it, so add a zero position for the class token."""
    pos = backbone.get('pos_embed')
    if pos is None or int_sqrt(pos.shape[1] - 1) is not None:
        return
    if int_sqrt(pos.shape[1]) is None:
        raise LayoutError(f'pos_embed {tuple(pos.shape)}: not a square grid.')
    backbone['pos_embed'] = torch.cat([pos.new_zeros(1, 1, pos.shape[2]), pos],
                                      dim=1)
    notes.append('pos_embed has no class-token position (timm '
                 'no_embed_class): a zero one is prepended, the same '
                 'function.')


def convert_vit(state: StateDict, source: str = NAME,
                special: Optional[Callable[[str, Tensor], bool]] = None,
                num_heads: Optional[int] = None, fill_identity: bool = False,
                neck: Optional[Dict[str, Tensor]] = None,
                dropped: Optional[Dict[str, str]] = None,
                extra: Optional[Dict[str, Tensor]] = None,
                num_source: Optional[int] = None,
                method: Optional[str] = None) -> Conversion:
    """A timm-named ViT / BEiT state dict -> our keys (pure).

    ``extra``: tensors already in our names (a mask token) to add;
    ``neck``: the decoder in our names.
    """
    dropped = {} if dropped is None else dropped
    backbone = rename_vit(state, dropped, special)
    backbone.update(extra or {})
    notes = []
    _no_embed_class(backbone, notes)
    return finish_vit(backbone, dict(neck or {}), source, dropped,
                      num_source=num_source or len(state),
                      num_heads=num_heads,
                      fill_identity=fill_identity, notes=notes,
                      method=method)


def convert_resnet(state: StateDict, source: str = NAME) -> Conversion:
    """A torchvision/timm-named ResNet -> our keys (pure); ``fc`` dropped."""
    dropped, backbone = {}, OrderedDict()
    for key, value in state.items():
        if key.startswith('fc.'):
            dropped[key] = CLASSIFIER
        elif key.split('.')[0] in ('conv1', 'bn1', 'layer1', 'layer2',
                                   'layer3', 'layer4'):
            backbone[key] = value
        else:
            raise LayoutError(f'Cannot place the ResNet key {key!r}.')
    return finish_resnet(backbone, {}, source, dropped, num_source=len(state))


#: timm ``ConvNeXt`` names <-> mmpretrain ``ConvNeXt`` names, both ways
#: (``{s}`` stage, ``{b}`` block, ``{i}`` layer of a downsampling, ``{p}``
#: parameter; the first match wins)
CONVNEXT_NAMES = (
    ('stem.{i}.{p}', 'downsample_layers.0.{i}.{p}'),
    ('stages.{s}.downsample.{i}.{p}', 'downsample_layers.{s}.{i}.{p}'),
    ('stages.{s}.blocks.{b}.conv_dw.{p}', 'stages.{s}.{b}.depthwise_conv.{p}'),
    ('stages.{s}.blocks.{b}.norm.{p}', 'stages.{s}.{b}.norm.{p}'),
    ('stages.{s}.blocks.{b}.mlp.fc1.{p}',
     'stages.{s}.{b}.pointwise_conv1.{p}'),
    ('stages.{s}.blocks.{b}.mlp.fc2.{p}',
     'stages.{s}.{b}.pointwise_conv2.{p}'),
    ('stages.{s}.blocks.{b}.mlp.grn.weight', 'stages.{s}.{b}.grn.gamma'),
    ('stages.{s}.blocks.{b}.mlp.grn.bias', 'stages.{s}.{b}.grn.beta'),
    ('stages.{s}.blocks.{b}.gamma', 'stages.{s}.{b}.gamma'),
    ('head.norm.{p}', 'norm3.{p}'),
)


@functools.lru_cache(maxsize=None)
def _template(name: str) -> 're.Pattern':
    parts = re.split(r'\{(\w)\}', name)
    rx = ''.join(re.escape(part) if i % 2 == 0 else
                 (f'(?P<{part}>.+)' if part == 'p' else f'(?P<{part}>\\d+)')
                 for i, part in enumerate(parts))
    return re.compile(rx)


def rename_convnext(key: str, to_timm: bool = False) -> Optional[str]:
    """A timm ConvNeXt key in mmpretrain's names (or, ``to_timm``, the
    other way); None if no name matches."""
    for timm_name, ours in CONVNEXT_NAMES:
        src, dst = (ours, timm_name) if to_timm else (timm_name, ours)
        match = _template(src).fullmatch(key)
        if match:
            return dst.format(**match.groupdict())
    return None


def convert_convnext(state: StateDict, source: str = NAME) -> Conversion:
    """A timm ConvNeXt (v1 or v2) -> mmpretrain ``ConvNeXt`` keys (pure);
    the classifier (``head.fc``) dropped."""
    dropped, backbone = {}, OrderedDict()
    for key, value in state.items():
        if key.startswith(('head.fc.', 'head.pre_logits.')):
            dropped[key] = CLASSIFIER
            continue
        if key.startswith('norm_pre.'):
            raise LayoutError(f'{key}: ConvNeXts with the norm before the '
                              f'head (head_norm_first) are not supported '
                              f'(mmpretrain\'s ConvNeXt pools first).')
        ours = rename_convnext(key)
        if ours is None:
            raise LayoutError(f'Cannot place the ConvNeXt key {key!r}.')
        backbone[ours] = value
    return finish_convnext(backbone, {}, source, dropped,
                           num_source=len(state))


def is_convnext(state: StateDict) -> bool:
    return 'stem.0.weight' in state and any(
        k.startswith('stages.0.blocks.0.conv_dw.') for k in state)


def is_vit(state: StateDict) -> bool:
    return 'patch_embed.proj.weight' in state and any(
        k.startswith('blocks.0.') for k in state)


def is_resnet(state: StateDict) -> bool:
    return 'conv1.weight' in state and 'layer1.0.conv1.weight' in state


def detect(ckpt: dict) -> Optional[StateDict]:
    """The state dict, if ``ckpt`` is a timm ViT / BEiT / ResNet."""
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        return None
    if (is_vit(state) or is_resnet(state) or is_convnext(state)) and \
            'mask_token' not in state:
        return state
    return None


def convert(state: StateDict, num_heads: Optional[int] = None,
            fill_identity: bool = False) -> Conversion:
    """timm state dict -> our keys (pure)."""
    if is_resnet(state):
        return convert_resnet(state)
    if is_vit(state):
        return convert_vit(state, num_heads=num_heads,
                           fill_identity=fill_identity)
    if is_convnext(state):
        return convert_convnext(state)
    raise LayoutError('None of a timm ViT/BEiT (patch_embed.proj, blocks.*), '
                      'ResNet (conv1, layer1..4) and ConvNeXt (stem.0, '
                      'stages.*.blocks.*.conv_dw).')


__all__ = ['convert', 'detect', 'convert_vit', 'convert_resnet',
           'convert_convnext', 'rename_convnext', 'rename_vit']
