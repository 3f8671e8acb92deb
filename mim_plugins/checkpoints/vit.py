"""ViT: check and complete one in ``BEiTViT`` names (``finish_vit``)."""
from typing import Dict, List, Optional, Tuple

import torch

from .common import (Conversion, LayoutError, Tensor, check_derived,
                     decoder_cfg, int_sqrt, layer_indices, mask_tokens,
                     prefixed)


#: mmpretrain BEiTViT arch names: (embed, layers, heads, ffn)
VIT_ARCHS = {
    'small': (768, 8, 8, 2304),
    'base': (768, 12, 12, 3072),
    'large': (1024, 24, 16, 4096),
    'deit-tiny': (192, 12, 3, 768),
    'deit-small': (384, 12, 6, 1536),
}
#: heads of common ViTs that have no BEiTViT arch name: (embed, layers, ffn)
VIT_HEADS = {(1280, 32, 5120): 16, (1024, 24, 4096): 16, (768, 12, 3072): 12,
             (768, 8, 2304): 8, (384, 12, 1536): 6, (192, 12, 768): 3}


def beit_relative_position_index(grid: Tuple[int, int]) -> Tensor:
    """BEiT's index into a (2h-1)(2w-1)+3 table, cls token first."""
    h, w = grid
    coords = torch.stack(torch.meshgrid(torch.arange(h), torch.arange(w),
                                        indexing='ij')).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
    index = (rel[..., 0] + h - 1) * (2 * w - 1) + (rel[..., 1] + w - 1)
    n = (2 * h - 1) * (2 * w - 1)
    out = torch.zeros((h * w + 1, ) * 2, dtype=torch.long)
    out[1:, 1:] = index
    out[0, :] = n
    out[:, 0] = n + 1
    out[0, 0] = n + 2
    return out


def grid_from_table(rows: int, key: str) -> int:
    side = int_sqrt(rows - 3)
    if side is None or side % 2 == 0:
        raise LayoutError(f'{key} has {rows} rows, not (2g-1)^2 + 3.')
    return (side + 1) // 2


def _grid(backbone: Dict[str, Tensor]) -> Optional[int]:
    """The side of the token grid that ``pos_embed`` is for, if any."""
    if 'pos_embed' not in backbone:
        return None
    side = int_sqrt(backbone['pos_embed'].shape[1] - 1)
    if side is None:
        raise LayoutError(f'pos_embed {tuple(backbone["pos_embed"].shape)}'
                          f' is not a square grid plus a class token.')
    return side


def _tables(backbone: Dict[str, Tensor], grid: Optional[int],
            num_heads: Optional[int]):
    """(per-layer, shared, grid, heads): what the relative position tables,
    where there are any, fix."""
    per_layer = 'layers.0.attn.relative_position_bias_table' in backbone
    shared = 'rel_pos_bias.relative_position_bias_table' in backbone
    if per_layer and shared:
        raise LayoutError('Both per-layer and shared relative position bias: '
                          'mmpretrain\'s BEiTViT has one or the other.')
    if not (per_layer or shared):
        return per_layer, shared, grid, num_heads
    key = ('layers.0.attn.relative_position_bias_table' if per_layer
           else 'rel_pos_bias.relative_position_bias_table')
    table = backbone[key]
    table_grid = grid_from_table(table.shape[0], key)
    if grid is not None and grid != table_grid:
        raise LayoutError(f'pos_embed is for a {grid}x{grid} grid, the '
                          f'relative position table for {table_grid}.')
    if num_heads is not None and num_heads != table.shape[1]:
        raise LayoutError(f'num_heads={num_heads}, but the relative '
                          f'position table has {table.shape[1]} heads.')
    return per_layer, shared, table_grid, table.shape[1]


def _guess_heads(settings: Tuple[int, int, int], fill_identity: bool,
                 notes: List[str]) -> int:
    """Heads of a ViT (embed, layers, ffn) whose weights do not record
    them: a known arch's, else head dim 64 (a note says so)."""
    num_heads = VIT_HEADS.get(settings)
    guess = 'a known arch' if num_heads else 'head dim 64'
    if num_heads is None and fill_identity:
        raise LayoutError(
            'fill_identity adds relative position tables with one column '
            'per head, and the weights do not record the number of heads '
            'of this ViT: give num_heads (--num-heads).')
    num_heads = num_heads or max(settings[0] // 64, 1)
    notes.append(f'num_heads={num_heads} inferred from {guess}: the '
                 f'weights do not record it (give num_heads / '
                 f'--num-heads if the source used another).')
    return num_heads


def _complete_layer(backbone: Dict[str, Tensor], added: Dict[str, str],
                    pre: str, embed: int, fill_identity: bool,
                    table: Optional[Tuple[int, int]]) -> None:
    """Zero q/v biases where the source has none; with ``fill_identity``,
    layer scales of 1 and (``table``: its shape) a zero position table."""
    if f'{pre}attn.q_bias' not in backbone:
        if f'{pre}attn.v_bias' in backbone:
            raise LayoutError(f'{pre}attn.v_bias without q_bias.')
        for name in ('q_bias', 'v_bias'):
            backbone[f'{pre}attn.{name}'] = torch.zeros(embed)
            added[f'{pre}attn.{name}'] = 'no qkv bias in the source: 0'
    if fill_identity and f'{pre}gamma_1' not in backbone:
        for name in ('gamma_1', 'gamma_2'):
            backbone[pre + name] = torch.ones(embed)
            added[pre + name] = ('layer scale of 1 (identity): loads into '
                                 'layer-scale configs, same function')
    if table is not None:
        key = f'{pre}attn.relative_position_bias_table'
        backbone[key] = torch.zeros(table)
        added[key] = ('relative position bias of 0 (identity): loads into '
                      'relative-position configs, same function')


def _check_same_layers(backbone: Dict[str, Tensor], layers: List[int]):
    """Every layer must have the same parameters as layer 0."""
    first = {k[len('layers.0.'):] for k in backbone
             if k.startswith('layers.0.')}
    for i in layers[1:]:
        have = {k[len(f'layers.{i}.'):] for k in backbone
                if k.startswith(f'layers.{i}.')}
        if have != first:
            raise LayoutError(f'Layer {i} has other keys than layer 0: '
                              f'{sorted(have ^ first)}.')


def finish_vit(backbone: Dict[str, Tensor], neck: Dict[str, Tensor],
               source: str, dropped: Dict[str, str], num_source: int,
               num_heads: Optional[int] = None, fill_identity: bool = False,
               notes: Optional[List[str]] = None,
               method: Optional[str] = None) -> Conversion:
    """Check and complete a ViT in ``BEiTViT`` names (``bias='qv_bias'``).

    Args:
        num_heads: Heads, where the weights do not say (no relative position
            table): a known arch's, else embed_dims // 64. Importing with a
            config (:mod:`.target`), they are the config's.
        fill_identity: Add the parameters that make a plain ViT load into a
            ``BEiTViT`` with layer scale and per-layer relative position bias
            while computing the same function: layer-scale gammas of 1 and
            relative position tables of 0.
    """
    notes = list(notes or [])
    added: Dict[str, str] = {}
    if 'patch_embed.projection.weight' not in backbone:
        raise LayoutError('Not a ViT: no patch embedding.')
    if 'cls_token' not in backbone:
        raise LayoutError('ViTs without a class token are not supported.')
    proj = backbone['patch_embed.projection.weight']
    embed, patch = proj.shape[0], proj.shape[-1]
    layers = layer_indices(backbone, r'layers\.(\d+)\.')
    if layers != list(range(len(layers))) or not layers:
        raise LayoutError(f'Transformer layers {layers} are not 0..n-1.')
    num_layers = len(layers)
    ffn = backbone['layers.0.ffn.layers.0.0.weight'].shape[0]
    if 'patch_embed.projection.bias' not in backbone:
        backbone['patch_embed.projection.bias'] = torch.zeros(embed)
        added['patch_embed.projection.bias'] = 'the source has none: zeros'
    per_layer, shared, grid, num_heads = _tables(backbone, _grid(backbone),
                                                 num_heads)
    if num_heads is None:
        num_heads = _guess_heads((embed, num_layers, ffn), fill_identity,
                                 notes)
    if grid is None:
        grid = 224 // patch
        notes.append('img_size=224 assumed: the weights fix no grid (no '
                     'position embedding or table).')
    fill_tables = fill_identity and not (per_layer or shared)
    table = ((2 * grid - 1)**2 + 3, num_heads) if fill_tables else None
    for i in layers:
        _complete_layer(backbone, added, f'layers.{i}.', embed, fill_identity,
                        table)
    per_layer = per_layer or fill_tables
    index = beit_relative_position_index((grid, grid))
    for i in layers:
        if per_layer:
            check_derived(backbone,
                          f'layers.{i}.attn.relative_position_index', index,
                          added)
    if shared:
        check_derived(backbone, 'rel_pos_bias.relative_position_index',
                      index, added)
    _check_same_layers(backbone, layers)
    settings = (embed, num_layers, num_heads, ffn)
    arch = next((name for name, s in VIT_ARCHS.items() if s == settings),
                dict(embed_dims=embed, num_layers=num_layers,
                     num_heads=num_heads, feedforward_channels=ffn))
    cfg = dict(type='BEiTViT', arch=arch, img_size=grid * patch,
               patch_size=patch,
               use_abs_pos_emb='pos_embed' in backbone,
               use_rel_pos_bias=per_layer, use_shared_rel_pos_bias=shared,
               layer_scale_init_value=0.1 if 'layers.0.gamma_1' in backbone
               else 0.,
               final_norm='ln1.weight' in backbone,
               out_type='avg_featmap' if 'ln2.weight' in backbone
               else 'featmap')
    pretrain = mask_tokens(backbone, (1, 1, embed), cfg, 'vit', method,
                           notes)
    return Conversion(
        state_dict=prefixed(backbone, neck), source=source, family='vit',
        backbone=cfg, pretrain_backbone=pretrain,
        neck=decoder_cfg(neck, embed), dropped=dropped,
        added=added, notes=notes, num_source=num_source)
