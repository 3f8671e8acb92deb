"""Our backbones -> timm's layout (``state_dict -> state_dict``).

- ResNet (``ResNet``/``A2MIMResNet``/``SimMIMResNet``) -> timm ``ResNet``
  (torchvision's names; timm's 7x7 stem has 64 channels).
- ViT (``BEiTViT``/``A2MIMViT``/``SimMIMViT``/``MaskDistillViT``) without
  relative position bias -> timm ``VisionTransformer``: ``attn.q_bias`` and
  ``v_bias`` become ``attn.qkv.bias`` with a zero key bias, ``gamma_1/2``
  ``ls1/ls2.gamma``.
- ViT with relative position bias (per layer or shared) -> timm ``Beit``,
  whose names are BEiT's.
- ConvNeXt (``ConvNeXt``/``A2MIMConvNeXt``/``SimMIMConvNeXt``, v1 or v2) ->
  timm ``ConvNeXt``: the same tensors under timm's names, ``norm3`` its
  ``head.norm`` (the extra output norms of detection backbones are listed).

The mask token (pre-training only) and our derived buffers are listed as
not exported.
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import torch

from .common import (LayoutError, Tensor, group_keys, int_sqrt,
                     layer_indices, strip_prefix)
from .from_mmpretrain import backbone_family
from .from_timm import CONVNEXT_NAMES, RESNET_RULES
from .rename import Drop, Rules, rename_all, replace_key, templates
from .vit import VIT_HEADS, grid_from_table

PRETRAIN_ONLY = 'pre-training only (the mask token of the MIM backbone)'
DERIVED = 'derived buffer (timm recomputes it, not persistent there)'
_MASK: Rules = ((r'mask_token|mask_gamma', Drop(PRETRAIN_ONLY)), )
_L = r'layers\.(\d+)\.'
#: ``BEiTViT`` names -> timm's ``VisionTransformer`` / ``Beit`` names
VIT_RULES: Rules = _MASK + (
    (r'.*relative_position_index', Drop(DERIVED)),
    (r'cls_token|pos_embed|rel_pos_bias\..*', r'\g<0>'),
    (r'patch_embed\.projection\.(weight|bias)', r'patch_embed.proj.\1'),
    (r'ln1\.(.+)', r'norm.\1'),
    (_L + r'ln([12])\.(.+)', r'blocks.\1.norm\2.\3'),
    (_L + r'attn\.(qkv\.(weight|bias)|[qv]_bias|relative_position_bias_table'
     r'|proj\..+)', r'blocks.\1.attn.\2'),
    (_L + r'ffn\.layers\.0\.0\.(.+)', r'blocks.\1.mlp.fc1.\2'),
    (_L + r'ffn\.layers\.1\.(.+)', r'blocks.\1.mlp.fc2.\2'),
)
#: layer scales in ``VisionTransformer`` and in ``Beit``
_LS_VIT: Rules = ((_L + r'gamma_([12])', r'blocks.\1.ls\2.gamma'), )
_LS_BEIT: Rules = ((_L + r'(gamma_[12])', r'blocks.\1.\2'), )
#: the pooled-feature norm: timm's ``fc_norm``, unless the token norm is kept
_FC_NORM: Rules = ((r'ln2\.(.+)', r'fc_norm.\1'), )
_POOLED_DROPPED: Rules = ((r'ln2\..+', Drop(
    'the pooled-feature norm: timm keeps one final norm, the token norm '
    '(ln1) is kept')), )
#: mmpretrain ``ConvNeXt`` -> timm ``ConvNeXt``
CONVNEXT_RULES: Rules = _MASK + (
    (r'norm[012]\.(weight|bias)', Drop(
        'an extra output norm (detection / segmentation outputs): timm\'s '
        'ConvNeXt has only the final one (norm3)')),
) + templates(CONVNEXT_NAMES, reverse=True)


@dataclass
class Export:
    """A backbone in timm's names.

    Attributes:
        state_dict: timm keys; loads strictly into ``timm.models.<module>.
            <model>(**kwargs)``.
        module, model, kwargs: The timm class and its arguments.
        dropped: Our keys not exported, with the reason.
        notes: What was inferred.
    """
    state_dict: 'OrderedDict[str, Tensor]'
    module: str
    model: str
    kwargs: Dict[str, Any]
    dropped: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    def build_code(self) -> str:
        """Python that builds the timm model (``block`` is a class)."""
        names = [self.model] + ([self.kwargs['block']]
                                if 'block' in self.kwargs else [])
        args = ', '.join(f'{k}={v}' if k == 'block' else f'{k}={v!r}'
                         for k, v in self.kwargs.items())
        return (f'from timm.models.{self.module} import {", ".join(names)}; '
                f'model = {self.model}({args})')

    def build(self):
        """The timm model (needs timm), weights not loaded."""
        import importlib
        module = importlib.import_module(f'timm.models.{self.module}')
        kwargs = dict(self.kwargs)
        if 'block' in kwargs:
            kwargs['block'] = getattr(module, kwargs['block'])
        return getattr(module, self.model)(**kwargs)

    def summary(self) -> str:
        lines = [f'timm model    : {self.build_code()}',
                 f'exported      : {len(self.state_dict)} tensors']
        lines += group_keys('not exported', self.dropped, 20)
        lines += [f'note          : {n}' for n in self.notes]
        return '\n'.join(lines)


def _resnet(state: Dict[str, Tensor], dropped: Dict[str, str]) -> Export:
    out = rename_all(state, _MASK + RESNET_RULES[1:], dropped, 'ResNet',
                     'export').state
    if out['conv1.weight'].shape[0] != 64:
        raise LayoutError('timm\'s ResNet has a 64-channel 7x7 stem; this '
                          f'one has {out["conv1.weight"].shape[0]}.')
    bottleneck = 'layer1.0.conv3.weight' in out
    blocks = [len(layer_indices(out, rf'layer{i}\.(\d+)\.'))
              for i in range(1, 5)]
    planes = [out[f'layer{i}.0.conv1.weight'].shape[0] for i in range(1, 5)]
    kwargs = dict(block='Bottleneck' if bottleneck else 'BasicBlock',
                  layers=blocks, num_classes=0)
    if planes != [64, 128, 256, 512]:
        kwargs['channels'] = planes
    return Export(out, 'resnet', 'ResNet', kwargs, dropped)


def _vit(state: Dict[str, Tensor], dropped: Dict[str, str],
         num_heads: Optional[int]) -> Export:
    notes = []
    embed = state['patch_embed.projection.weight'].shape[0]
    patch = state['patch_embed.projection.weight'].shape[-1]
    depth = len(layer_indices(state, r'layers\.(\d+)\.'))
    ffn = state['layers.0.ffn.layers.0.0.weight'].shape[0]
    per_layer = 'layers.0.attn.relative_position_bias_table' in state
    shared = 'rel_pos_bias.relative_position_bias_table' in state
    beit = per_layer or shared
    if not beit and 'pos_embed' not in state:
        raise LayoutError('A ViT with no position information at all.')
    if beit:
        table = state['layers.0.attn.relative_position_bias_table'
                      if per_layer else
                      'rel_pos_bias.relative_position_bias_table']
        grid = grid_from_table(table.shape[0], 'relative position table')
        num_heads = table.shape[1]
    else:
        grid = int_sqrt(state['pos_embed'].shape[1] - 1)
        if num_heads is None:
            num_heads = VIT_HEADS.get((embed, depth, ffn), max(embed // 64, 1))
            notes.append(f'num_heads={num_heads} inferred (the weights do not '
                         f'record it; pass num_heads otherwise).')
    final, pooled = 'ln1.weight' in state, 'ln2.weight' in state
    rules = VIT_RULES + (_LS_BEIT if beit else _LS_VIT) + (
        _POOLED_DROPPED if final else _FC_NORM)
    out = rename_all(state, rules, dropped, 'ViT', 'export').state
    for key in list(out):
        if beit and key.endswith('.attn.qkv.bias'):  # q and v, no k bias
            pre = key[:-len('qkv.bias')]
            q, _, v = out[key].chunk(3)
            replace_key(out, key, [(pre + 'q_bias', q), (pre + 'v_bias', v)])
        elif not beit and key.endswith('.attn.q_bias'):  # a zero key bias
            pre = key[:-len('q_bias')]
            q, v = out[key], out.pop(pre + 'v_bias')
            replace_key(out, key, [(pre + 'qkv.bias', torch.cat(
                [q, torch.zeros_like(q), v]))])
    common = dict(img_size=grid * patch, patch_size=patch, embed_dim=embed,
                  depth=depth, num_heads=num_heads, mlp_ratio=ffn / embed,
                  qkv_bias=True,
                  init_values=0.1 if 'layers.0.gamma_1' in state else None,
                  num_classes=0)
    pool = 'avg' if pooled and not final else 'token'
    if beit:
        kwargs = dict(common, global_pool=pool,
                      use_abs_pos_emb='pos_embed' in state,
                      use_rel_pos_bias=per_layer,
                      use_shared_rel_pos_bias=shared)
        return Export(out, 'beit', 'Beit', kwargs, dropped, notes)
    kwargs = dict(common, global_pool=pool, final_norm=final or pooled)
    return Export(out, 'vision_transformer', 'VisionTransformer', kwargs,
                  dropped, notes)


def _convnext(state: Dict[str, Tensor], dropped: Dict[str, str]) -> Export:
    out = rename_all(state, CONVNEXT_RULES, dropped, 'ConvNeXt',
                     'export').state
    if 'head.norm.weight' not in out:
        raise LayoutError('No final norm (norm3): timm\'s ConvNeXt needs it; '
                          'export a backbone whose out_indices include 3.')
    stages = layer_indices(state, r'stages\.(\d+)\.')
    depths = [len(layer_indices(state, rf'stages\.{s}\.(\d+)\.'))
              for s in stages]
    dims = [state[f'stages.{s}.0.depthwise_conv.weight'].shape[0]
            for s in stages]
    stem = state['downsample_layers.0.0.weight']
    kwargs = dict(depths=depths, dims=dims, num_classes=0)
    if stem.shape[-1] != 4:
        kwargs['patch_size'] = stem.shape[-1]
    if 'stages.0.0.gamma' not in state:
        kwargs['ls_init_value'] = None
    if state['stages.0.0.pointwise_conv1.weight'].dim() == 4:
        kwargs['conv_mlp'] = True
    if 'stages.0.0.grn.gamma' in state:
        kwargs['use_grn'] = True
    return Export(out, 'convnext', 'ConvNeXt', kwargs, dropped)


def export_timm(ckpt: Any, prefix: str = 'backbone.',
                num_heads: Optional[int] = None) -> Export:
    """One of our backbones (a checkpoint, its state dict, or the backbone's
    own state dict) -> timm's names (pure).

    Args:
        ckpt: ``{'state_dict': ...}`` or a state dict.
        prefix: Where the backbone is in the state dict; keys without it
            are listed as not exported. If no key has it, the whole state
            dict is the backbone.
        num_heads: A ViT's heads, where the weights do not record them.
    """
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    backbone = strip_prefix(state, prefix) if prefix else OrderedDict(state)
    others = {k: 'not the backbone' for k in state
              if backbone and not k.startswith(prefix)}
    if not backbone:
        backbone, prefix = OrderedDict(state), ''
    family = backbone_family(backbone)
    if family == 'resnet':
        exp = _resnet(backbone, {})
    elif family == 'vit':
        exp = _vit(backbone, {}, num_heads)
    elif family == 'convnext':
        exp = _convnext(backbone, {})
    else:
        raise LayoutError('Only ResNet, ViT and ConvNeXt backbones export '
                          'to timm.')
    exp.dropped = {**{prefix + k: v for k, v in exp.dropped.items()},
                   **others}
    return exp


__all__ = ['Export', 'export_timm']
