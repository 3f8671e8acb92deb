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
from collections import OrderedDict
from typing import Dict, Optional

import torch

from .common import (CLASSIFIER, K_BIAS, Conversion, LayoutError, StateDict,
                     Tensor, int_sqrt)
from .convnext import finish_convnext
from .rename import (Drop, Refuse, Rules, rename_all, split_qkv_biases,
                     templates)
from .resnet import finish_resnet
from .vit import finish_vit

NAME = 'timm'
SUMMARY = ('timm ViT (vit_*, deit_*), BEiT (beit_*), ResNet (resnet*) and '
           'ConvNeXt (convnext*, convnextv2*): a plain state dict or '
           'model.safetensors')

_UNSUPPORTED = ('{key}: ViTs with %s are not supported (mmpretrain\'s '
                'BEiTViT has none).')
_B = r'blocks\.(\d+)\.'
#: timm / BEiT ViT names -> ``BEiTViT`` names (``attn.qkv.bias`` is split
#: into q and v biases after the renaming)
VIT_RULES: Rules = (
    (r'.*reg_token.*', Refuse(_UNSUPPORTED % 'register tokens')),
    (r'(.*\.)?norm_pre\..*', Refuse(_UNSUPPORTED % 'a pre-norm (CLIP-style)')),
    (r'(.*\.)?attn_pool\..*', Refuse(_UNSUPPORTED % 'attention pooling')),
    (r'.*\.[qk]_norm\..*', Refuse(_UNSUPPORTED % 'query/key normalisation')),
    (r'(.*\.)?mlp\.norm\..*',
     Refuse(_UNSUPPORTED % 'a normalised (scale_mlp / SwiGLU) MLP')),
    (r'cls_token|pos_embed', r'\g<0>'),
    (r'patch_embed\.proj\.(weight|bias)', r'patch_embed.projection.\1'),
    (r'rel_pos_bias\.relative_position_(bias_table|index)', r'\g<0>'),
    (r'norm\.(weight|bias)', r'ln1.\1'),
    (r'fc_norm\.(weight|bias)', r'ln2.\1'),
    (r'(head|head_dist)\..*', Drop(CLASSIFIER)),
    (_B + r'norm([12])\.(.+)', r'layers.\1.ln\2.\3'),
    (_B + r'attn\.(qkv\.weight|qkv\.bias|q_bias|v_bias'
     r'|relative_position_bias_table|relative_position_index)',
     r'layers.\1.attn.\2'),
    (_B + r'attn\.proj\.(.+)', r'layers.\1.attn.proj.\2'),
    (_B + r'mlp\.fc1\.(.+)', r'layers.\1.ffn.layers.0.0.\2'),
    (_B + r'mlp\.fc2\.(.+)', r'layers.\1.ffn.layers.1.\2'),
    (_B + r'(gamma_[12])', r'layers.\1.\2'),
    (_B + r'ls([12])\.gamma', r'layers.\1.gamma_\2'),
)


def rename_vit(state: StateDict, dropped: Dict[str, str],
               rules: Rules = ()) -> 'OrderedDict[str, Tensor]':
    """timm / BEiT ViT keys -> ``BEiTViT`` keys (``rules`` come first)."""
    renamed = rename_all(state, tuple(rules) + VIT_RULES, dropped, 'ViT')
    split_qkv_biases(renamed, dropped, K_BIAS)
    return renamed.state


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


def convert_vit(state: StateDict, source: str = NAME, rules: Rules = (),
                num_heads: Optional[int] = None, fill_identity: bool = False,
                neck: Optional[Dict[str, Tensor]] = None,
                dropped: Optional[Dict[str, str]] = None,
                extra: Optional[Dict[str, Tensor]] = None,
                num_source: Optional[int] = None,
                method: Optional[str] = None) -> Conversion:
    """A timm-named ViT / BEiT state dict -> our keys (pure).

    ``rules``: the source's own rules, before timm's; ``extra``: tensors
    already in our names (a mask token) to add; ``neck``: the decoder in our
    names.
    """
    dropped = {} if dropped is None else dropped
    backbone = rename_vit(state, dropped, rules)
    backbone.update(extra or {})
    notes = []
    _no_embed_class(backbone, notes)
    return finish_vit(backbone, dict(neck or {}), source, dropped,
                      num_source=num_source or len(state),
                      num_heads=num_heads,
                      fill_identity=fill_identity, notes=notes,
                      method=method)


#: torchvision / timm ResNet names are mmpretrain's
RESNET_RULES: Rules = (
    (r'fc\..*', Drop(CLASSIFIER)),
    (r'(conv1|bn1|layer[1-4])\..*', r'\g<0>'),
)


def convert_resnet(state: StateDict, source: str = NAME) -> Conversion:
    """A torchvision/timm-named ResNet -> our keys (pure); ``fc`` dropped."""
    dropped = {}
    backbone = rename_all(state, RESNET_RULES, dropped, 'ResNet').state
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


#: timm ConvNeXt -> mmpretrain ``ConvNeXt``
CONVNEXT_RULES: Rules = (
    (r'head\.(fc|pre_logits)\..*', Drop(CLASSIFIER)),
    (r'norm_pre\..*', Refuse(
        '{key}: ConvNeXts with the norm before the head (head_norm_first) '
        'are not supported (mmpretrain\'s ConvNeXt pools first).')),
) + templates(CONVNEXT_NAMES)


def convert_convnext(state: StateDict, source: str = NAME) -> Conversion:
    """A timm ConvNeXt (v1 or v2) -> mmpretrain ``ConvNeXt`` keys (pure);
    the classifier (``head.fc``) dropped."""
    dropped = {}
    backbone = rename_all(state, CONVNEXT_RULES, dropped, 'ConvNeXt').state
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


__all__ = ['CONVNEXT_NAMES', 'CONVNEXT_RULES', 'RESNET_RULES', 'VIT_RULES',
           'convert', 'detect', 'convert_vit', 'convert_resnet',
           'convert_convnext', 'rename_vit']
