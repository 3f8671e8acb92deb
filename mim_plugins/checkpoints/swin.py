"""Swin: check and complete one in ``SwinTransformer`` names
(``finish_swin``)."""
from typing import Dict, List, Optional

import torch

from .common import (Conversion, LayoutError, Tensor, check_derived,
                     decoder_cfg, int_sqrt, layer_indices, mask_tokens,
                     prefixed)


SWIN_ARCHS = {
    'tiny': (96, (2, 2, 6, 2), (3, 6, 12, 24)),
    'small': (96, (2, 2, 18, 2), (3, 6, 12, 24)),
    'base': (128, (2, 2, 18, 2), (4, 8, 16, 32)),
    'large': (192, (2, 2, 18, 2), (6, 12, 24, 48)),
}


def swin_relative_position_index(window: int) -> Tensor:
    """Index of a window's tokens into a (2w-1)^2 table (row-major)."""
    coords = torch.stack(torch.meshgrid(torch.arange(window),
                                        torch.arange(window),
                                        indexing='ij')).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
    return (rel[..., 0] + window - 1) * (2 * window - 1) + rel[..., 1] + \
        window - 1


def finish_swin(backbone: Dict[str, Tensor], neck: Dict[str, Tensor],
                source: str, dropped: Dict[str, str], num_source: int,
                img_size: Optional[int] = None,
                notes: Optional[List[str]] = None,
                method: Optional[str] = None) -> Conversion:
    """Check and complete a Swin in mmpretrain ``SwinTransformer`` names."""
    notes = list(notes or [])
    added: Dict[str, str] = {}
    if 'patch_embed.projection.weight' not in backbone:
        raise LayoutError('Not a Swin: no patch embedding.')
    proj = backbone['patch_embed.projection.weight']
    embed, patch = proj.shape[0], proj.shape[-1]
    stages = layer_indices(backbone, r'stages\.(\d+)\.')
    depths, heads, windows = [], [], set()
    for s in stages:
        blocks = layer_indices(backbone, rf'stages\.{s}\.blocks\.(\d+)\.')
        depths.append(len(blocks))
        for b in blocks:
            pre = f'stages.{s}.blocks.{b}.attn.w_msa.'
            table = backbone[pre + 'relative_position_bias_table']
            side = int_sqrt(table.shape[0])
            if side is None or side % 2 == 0:
                raise LayoutError(f'{pre}relative_position_bias_table has '
                                  f'{table.shape[0]} rows, not (2w-1)^2.')
            windows.add((side + 1) // 2)
            if b == 0:
                heads.append(table.shape[1])
    if len(windows) != 1:
        raise LayoutError(f'Window sizes differ between blocks: {windows}.')
    window = windows.pop()
    index = swin_relative_position_index(window)
    for s, depth in enumerate(depths):
        for b in range(depth):
            check_derived(
                backbone,
                f'stages.{s}.blocks.{b}.attn.w_msa.relative_position_index',
                index, added)
    last = len(stages) - 1
    outs = layer_indices(backbone, r'norm(\d+)\.')
    if not outs:
        raise LayoutError('No output norm (norm0..3): not a Swin backbone.')
    if 'absolute_pos_embed' in backbone:
        side = int_sqrt(backbone['absolute_pos_embed'].shape[1])
        img_size = side * patch
    elif img_size is None:
        img_size = 32 * window
        notes.append(f'img_size={img_size} assumed (32 x window, the Swin '
                     f'convention): the weights do not fix it; the backbone '
                     f'accepts other sizes.')
    settings = (embed, tuple(depths), tuple(heads))
    arch = next((n for n, s in SWIN_ARCHS.items() if s == settings),
                dict(embed_dims=embed, depths=depths, num_heads=heads))
    # window and patch size as SimMIMSwinTransformer also accepts them
    cfg = dict(type='SwinTransformer', arch=arch, img_size=img_size,
               stage_cfgs=dict(block_cfgs=dict(window_size=window)),
               use_abs_pos_embed='absolute_pos_embed' in backbone,
               out_indices=tuple(outs))
    if patch != 4:
        cfg['patch_cfg'] = dict(kernel_size=patch, stride=patch)
    if 'mask_token' in backbone and \
            backbone['mask_token'].numel() != embed:
        raise LayoutError(
            f'A Swin mask token of {backbone["mask_token"].numel()} '
            f'channels: only tokens on the patch embeddings ({embed}, '
            f'mask_layer=0, as in the released models) are supported.')
    pretrain = mask_tokens(backbone, (1, 1, embed), cfg, 'swin', method,
                           notes)
    if pretrain is not None and method is None and source == 'openmixup' \
            and 'mask_gamma' not in backbone:
        notes.append('openmixup\'s A2MIM Swin adds its token (A2MIMSwin), '
                     'its SimMIM Swin substitutes it (SimMIMSwinTransformer); '
                     'a backbone-only checkpoint does not tell which: '
                     'SimMIMSwinTransformer assumed, use A2MIMSwin for an '
                     'A2MIM one.')
    channels = embed * 2**last
    return Conversion(
        state_dict=prefixed(backbone, neck), source=source, family='swin',
        backbone=cfg, pretrain_backbone=pretrain,
        neck=decoder_cfg(neck, channels), dropped=dropped,
        added=added, notes=notes, num_source=num_source)
