"""ConvNeXt: check and complete one in mmpretrain's names
(``finish_convnext``)."""
from typing import Dict, List, Optional

from .common import (Conversion, LayoutError, Tensor, decoder_cfg,
                     layer_indices, mask_stage, mask_tokens, prefixed)


#: parameters of a ConvNeXt block (mmpretrain / mmcls / openmixup names)
CONVNEXT_BLOCK = ('depthwise_conv.weight', 'depthwise_conv.bias',
                  'norm.weight', 'norm.bias', 'pointwise_conv1.weight',
                  'pointwise_conv1.bias', 'pointwise_conv2.weight',
                  'pointwise_conv2.bias', 'gamma', 'grn.gamma', 'grn.beta')


def _convnext_arch(depths: List[int], channels: List[int]):
    """mmpretrain's arch name for (depths, channels), else the dict."""
    from mmpretrain.models import ConvNeXt
    for name, arch in ConvNeXt.arch_settings.items():
        if list(arch['depths']) == depths and \
                list(arch['channels']) == channels:
            return name
    return dict(depths=depths, channels=channels)


def finish_convnext(backbone: Dict[str, Tensor], neck: Dict[str, Tensor],
                    source: str, dropped: Dict[str, str], num_source: int,
                    notes: Optional[List[str]] = None,
                    method: Optional[str] = None) -> Conversion:
    """Check and complete a ConvNeXt in mmpretrain ``ConvNeXt`` names
    (``downsample_layers.i``, ``stages.i.j``, ``norm{i}``), which mmcls and
    openmixup share."""
    notes = list(notes or [])
    stem = backbone.get('downsample_layers.0.0.weight')
    if stem is None or stem.dim() != 4:
        raise LayoutError('Not a ConvNeXt: no stem convolution '
                          '(downsample_layers.0.0.weight).')
    stages = layer_indices(backbone, r'stages\.(\d+)\.')
    if stages != list(range(len(stages))) or not stages:
        raise LayoutError(f'ConvNeXt stages {stages} are not 0..n-1.')
    depths, channels = [], []
    for s in stages:
        blocks = layer_indices(backbone, rf'stages\.{s}\.(\d+)\.')
        if blocks != list(range(len(blocks))):
            raise LayoutError(f'Blocks {blocks} of stage {s} are not 0..n-1.')
        depths.append(len(blocks))
        channels.append(backbone[f'stages.{s}.0.depthwise_conv.weight']
                        .shape[0])
    first = {k[len('stages.0.0.'):] for k in backbone
             if k.startswith('stages.0.0.')}
    unknown = sorted(first - set(CONVNEXT_BLOCK))
    if unknown:
        raise LayoutError(f'Cannot place the ConvNeXt block keys {unknown}.')
    for s, depth in enumerate(depths):
        for b in range(depth):
            pre = f'stages.{s}.{b}.'
            have = {k[len(pre):] for k in backbone if k.startswith(pre)}
            if have != first:
                raise LayoutError(f'Block {pre[:-1]} has other keys than '
                                  f'stages.0.0: {sorted(have ^ first)}.')
    for s in stages[1:]:
        conv = backbone.get(f'downsample_layers.{s}.1.weight')
        if conv is None or conv.shape[:2] != (channels[s], channels[s - 1]):
            raise LayoutError(f'downsample_layers.{s}.1.weight is not a '
                              f'{channels[s - 1]} -> {channels[s]} '
                              f'convolution.')
    outs = layer_indices(backbone, r'norm(\d+)\.')
    if not outs:
        raise LayoutError('No output norm (norm0..3): not a ConvNeXt '
                          'backbone.')
    linear = backbone['stages.0.0.pointwise_conv1.weight'].dim() == 2
    grn = 'grn.gamma' in first
    cfg = dict(type='ConvNeXt', arch=_convnext_arch(depths, channels))
    if stem.shape[-1] != 4:
        cfg['stem_patch_size'] = stem.shape[-1]
    if not linear:
        cfg['linear_pw_conv'] = False
    if grn:
        cfg['use_grn'] = True
    if 'gamma' not in first:
        cfg['layer_scale_init_value'] = 0.
    cfg['out_indices'] = tuple(outs)
    pretrain = None
    if 'mask_token' in backbone:
        width = backbone['mask_token'].numel()
        extra = dict(mask_layer=mask_stage(width, channels, notes))
        if source == 'openmixup' and method == 'simmim' and \
                'mask_gamma' not in backbone:
            # openmixup's SimMIM ConvNeXt models set replace=False
            extra['replace'] = False
            notes.append('openmixup\'s SimMIM ConvNeXt adds its mask token '
                         'to the features (replace=False), as its configs '
                         'and ours set.')
        pretrain = mask_tokens(backbone, (1, width, 1, 1), cfg, 'convnext',
                               method, notes, **extra)
    else:
        mask_tokens(backbone, (), cfg, 'convnext', method, notes)
    return Conversion(
        state_dict=prefixed(backbone, neck), source=source,
        family='convnext', backbone=cfg, pretrain_backbone=pretrain,
        neck=decoder_cfg(neck, channels[-1]), dropped=dropped, added={},
        notes=notes, num_source=num_source)
