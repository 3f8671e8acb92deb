"""ResNet: check and complete one in mmpretrain's names (``finish_resnet``)."""
from typing import Dict, List, Optional

import torch

from .common import (Conversion, LayoutError, Tensor, decoder_cfg,
                     layer_indices, mask_stage, mask_tokens, prefixed)


#: (block, stage blocks) -> depth of mmpretrain's ResNet
RESNET_DEPTHS = {
    ('basic', (2, 2, 2, 2)): 18,
    ('basic', (3, 4, 6, 3)): 34,
    ('bottleneck', (3, 4, 6, 3)): 50,
    ('bottleneck', (3, 4, 23, 3)): 101,
    ('bottleneck', (3, 8, 36, 3)): 152,
    ('bottleneck', (3, 24, 36, 3)): 200,
}


def finish_resnet(backbone: Dict[str, Tensor], neck: Dict[str, Tensor],
                  source: str, dropped: Dict[str, str], num_source: int,
                  notes: Optional[List[str]] = None,
                  method: Optional[str] = None) -> Conversion:
    """Check and complete a ResNet in mmpretrain's (= torchvision's) names."""
    notes = list(notes or [])
    added: Dict[str, str] = {}
    keys = list(backbone)
    if any(k.startswith(('stem.', 'conv1.0.')) for k in keys):
        raise LayoutError('Deep-stem ResNets (ResNetV1c/V1d, timm resnet*d) '
                          'are not supported: the 7x7-stem ResNet only.')
    if not {'conv1.weight', 'layer1.0.conv1.weight'} <= set(backbone):
        raise LayoutError('Not a ResNet: conv1.weight / layer1.0.conv1.weight '
                          'missing.')
    if backbone['conv1.weight'].dim() != 4 or \
            backbone['conv1.weight'].shape[-1] != 7:
        raise LayoutError('Only the 7x7-stem ResNet (torchvision / '
                          'mmpretrain ResNet) is supported, not deep stems.')
    blocks = tuple(len(layer_indices(keys, rf'layer{i}\.(\d+)\.'))
                   for i in range(1, 5))
    kind = 'bottleneck' if 'layer1.0.conv3.weight' in backbone else 'basic'
    depth = RESNET_DEPTHS.get((kind, blocks))
    if depth is None:
        raise LayoutError(f'A {kind} ResNet with stage blocks {blocks} is not '
                          f'a depth that mmpretrain\'s ResNet builds '
                          f'({sorted(set(RESNET_DEPTHS.values()))}).')
    stem = backbone['conv1.weight'].shape[0]
    base = backbone['layer1.0.conv1.weight'].shape[0]
    conv2 = backbone['layer1.0.conv2.weight']
    if conv2.shape[1] != conv2.shape[0]:
        raise LayoutError('Grouped 3x3 convolutions (ResNeXt) are not '
                          'supported.')
    for key in keys:
        if key.endswith('.running_mean'):
            nbt = key[:-len('running_mean')] + 'num_batches_tracked'
            if nbt not in backbone:
                backbone[nbt] = torch.tensor(0, dtype=torch.long)
                added[nbt] = 'BatchNorm counter (unused with a momentum)'
    # mmpretrain's ResNet stops at 152; DeepResNet (ours) also builds 200
    cfg = dict(type='DeepResNet' if depth == 200 else 'ResNet', depth=depth)
    if stem != 64:
        cfg['stem_channels'] = stem
    if base != 64:
        cfg['base_channels'] = base
    cfg['out_indices'] = (3, )
    pretrain = None
    if 'mask_token' in backbone:
        channels = backbone['mask_token'].numel()
        stage = mask_stage(channels, [
            backbone[f'layer{i + 1}.0.conv1.weight'].shape[1]
            for i in range(4)], notes)
        pretrain = mask_tokens(backbone, (1, channels, 1, 1), cfg, 'resnet',
                               method, notes, mask_layer=stage)
    else:
        mask_tokens(backbone, (), cfg, 'resnet', method, notes)
    return Conversion(
        state_dict=prefixed(backbone, neck), source=source, family='resnet',
        backbone=cfg, pretrain_backbone=pretrain,
        neck=decoder_cfg(neck, 8 * base * (4 if kind == 'bottleneck' else 1)),
        dropped=dropped, added=added, notes=notes, num_source=num_source)
