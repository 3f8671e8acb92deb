"""What the checkpoint converters share.

Every source module renames its keys to those of our backbones (mmpretrain's
``ResNet``, ``BEiTViT``, ``SwinTransformer`` and ``ConvNeXt``, which
``A2MIMResNet``, ``A2MIMViT``/``SimMIMViT``, ``SimMIMSwinTransformer`` and
``A2MIMConvNeXt``/``SimMIMConvNeXt`` extend) and of the
linear decoder (``SimMIMLinearDecoder``), and passes them to one of the
``finish_*`` functions here. Those check that the weights form one
consistent backbone, recompute the derived buffers (comparing them with the
source's own, when it has them), infer the architecture from the shapes, and
prefix the keys with ``backbone.`` and ``neck.``.

Every source key ends up either carried or listed in ``dropped`` with the
reason; a key a converter does not know raises :class:`LayoutError`.
"""
import math
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

import torch

Tensor = torch.Tensor
StateDict = Mapping[str, Tensor]

#: reasons used by several sources
CLASSIFIER = 'classifier head (not part of the backbone)'
DERIVED = 'derived buffer, recomputed by the backbone'
K_BIAS = ('key bias: a constant added to every key of a query; the softmax '
          'is invariant to it, so the attention is unchanged without it')


class LayoutError(ValueError):
    """A state dict that a converter cannot place, or an unknown layout."""


@dataclass
class Conversion:
    """A source checkpoint converted to our keys.

    Attributes:
        state_dict: ``backbone.*`` (and ``neck.*`` where the source has a
            linear decoder) in our names.
        source: The format name (see :data:`mim_plugins.checkpoints.FORMATS`).
        family: 'resnet', 'vit', 'swin' or 'convnext'.
        backbone: The backbone config these weights load into
            (mmpretrain type and arguments; strict load, no missing key).
        neck: The decoder config (``SimMIMLinearDecoder``) or None.
        pretrain_backbone: Where the source has a mask token: the
            pre-training backbone (ours) that loads every ``backbone.*``
            tensor, for continued pre-training; else None.
        dropped: Source keys not carried over, with the reason.
        added: Our keys that the source does not have, with the reason.
        notes: What was inferred rather than read, and other remarks.
        num_source: Number of tensors in the source state dict.
    """
    state_dict: 'OrderedDict[str, Tensor]'
    source: str
    family: str
    backbone: dict
    neck: Optional[dict] = None
    pretrain_backbone: Optional[dict] = None
    dropped: Dict[str, str] = field(default_factory=dict)
    added: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    num_source: int = 0

    def keys_under(self, prefix: str) -> List[str]:
        return [k for k in self.state_dict if k.startswith(prefix)]

    def summary(self, limit: int = 20) -> str:
        """Human-readable: source, configs, key coverage, what is left out."""
        n_bb = len(self.keys_under('backbone.'))
        n_neck = len(self.keys_under('neck.'))
        # 'key[part]' entries drop part of a tensor that is carried
        partly = sum('[' in k for k in self.dropped)
        carried = self.num_source - len(self.dropped) + partly
        lines = [
            f'source layout : {self.source} ({self.family})',
            f'backbone      : {format_cfg(self.backbone)}',
            f'neck          : {format_cfg(self.neck) if self.neck else "none (the source has no linear decoder)"}',  # noqa: E501
            f'pre-training  : {format_cfg(self.pretrain_backbone) if self.pretrain_backbone else "no mask token in the source"}',  # noqa: E501
            f'coverage      : {carried} of {self.num_source} source tensors '
            f'carried over' + (f' ({partly} in part)' if partly else '')
            + f' -> {n_bb} backbone.* + {n_neck} neck.*'
            + (f', {len(self.added)} added' if self.added else ''),
        ]
        lines += group_keys('not carried', self.dropped, limit)
        lines += group_keys('added', self.added, limit)
        lines += [f'note          : {n}' for n in self.notes]
        return '\n'.join(lines)


def format_cfg(cfg: Optional[dict]) -> str:
    if cfg is None:
        return 'None'
    args = ', '.join(f'{k}={v!r}' for k, v in cfg.items())
    return f'dict({args})'


def group_keys(title: str, reasons: Dict[str, str], limit: int) -> List[str]:
    """Keys grouped by reason, layer indices folded (``layers.*.attn...``)."""
    by_reason: Dict[str, List[str]] = {}
    for key, reason in reasons.items():
        folded = re.sub(r'\.\d+\.', '.*.', key)
        names = by_reason.setdefault(reason, [])
        if folded not in names:
            names.append(folded)
    lines = []
    for reason, names in by_reason.items():
        count = sum(1 for r in reasons.values() if r == reason)
        shown = ', '.join(names[:limit])
        more = f' ... (+{len(names) - limit})' if len(names) > limit else ''
        lines.append(f'{title:<14}: {count} x {shown}{more}\n'
                     f'{"":<16}({reason})')
    return lines


def strip_prefix(state: StateDict, prefix: str) -> 'OrderedDict[str, Tensor]':
    return OrderedDict((k[len(prefix):], v) for k, v in state.items()
                       if k.startswith(prefix))


def layer_indices(keys, pattern: str) -> List[int]:
    """Sorted distinct integers captured by ``pattern`` in ``keys``."""
    rx = re.compile(pattern)
    found = {int(m.group(1)) for k in keys for m in [rx.match(k)] if m}
    return sorted(found)


def as_token(value: Tensor, shape: Tuple[int, ...], key: str) -> Tensor:
    """A mask token / gamma reshaped to ``shape`` (same number of values)."""
    if value.numel() != math.prod(shape):
        raise LayoutError(f'{key} has shape {tuple(value.shape)}; expected '
                          f'{math.prod(shape)} values for {shape}.')
    return value.reshape(shape)


def split_qkv_bias(bias: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    q, k, v = bias.chunk(3)
    return q, k, v


def int_sqrt(n: int) -> Optional[int]:
    r = int(round(math.sqrt(n)))
    return r if r * r == n else None


def _check_derived(out: Dict[str, Tensor], key: str, expected: Tensor,
                   added: Dict[str, str]) -> None:
    """Use ``expected`` for a derived buffer; a source copy must equal it."""
    have = out.get(key)
    if have is not None and not torch.equal(have.long(), expected):
        raise LayoutError(
            f'{key}: the source\'s buffer differs from the one our backbone '
            f'computes, so its relative position tables would be read in '
            f'another order.')
    if have is None:
        added[key] = DERIVED
    out[key] = expected


def _prefixed(backbone: Dict[str, Tensor], neck: Dict[str, Tensor]
              ) -> 'OrderedDict[str, Tensor]':
    out = OrderedDict((f'backbone.{k}', v) for k, v in backbone.items())
    out.update((f'neck.{k}', v) for k, v in neck.items())
    return out


def decoder_cfg(neck: Dict[str, Tensor], in_channels: int) -> Optional[dict]:
    """``SimMIMLinearDecoder`` config from ``decoder.0.weight``."""
    if not neck:
        return None
    weight = neck.get('decoder.0.weight')
    if weight is None or set(neck) != {'decoder.0.weight', 'decoder.0.bias'}:
        raise LayoutError(f'The decoder keys {sorted(neck)} are not those of '
                          f'a linear decoder (decoder.0.weight/bias).')
    out, cin = weight.shape[:2]
    stride = int_sqrt(out // 3) if out % 3 == 0 else None
    if cin != in_channels or stride is None or weight.shape[2:] != (1, 1):
        raise LayoutError(f'decoder.0.weight {tuple(weight.shape)} is not a '
                          f'1x1 conv from {in_channels} channels to '
                          f'stride^2 x 3.')
    return dict(type='SimMIMLinearDecoder', in_channels=in_channels,
                encoder_stride=stride)


#: our pre-training backbones by family and method ('a2mim': the mask token
#: is added, 'simmim': it replaces; None: not known from the checkpoint)
PRETRAIN_TYPES = {
    'resnet': {'a2mim': 'A2MIMResNet', 'simmim': 'SimMIMResNet',
               None: 'MIMResNet'},
    'vit': {'a2mim': 'A2MIMViT', 'simmim': 'SimMIMViT', None: 'MIMViT'},
    'swin': {'a2mim': 'A2MIMSwin',
             'simmim': 'SimMIMSwinTransformer',
             None: 'SimMIMSwinTransformer'},
    'convnext': {'a2mim': 'A2MIMConvNeXt', 'simmim': 'SimMIMConvNeXt',
                 None: 'MIMConvNeXt'},
}


def _mask_tokens(backbone: Dict[str, Tensor], shape: Tuple[int, ...],
                 cfg: dict, family: str, method: Optional[str],
                 notes: List[str], **extra) -> Optional[dict]:
    """Reshape ``mask_token``/``mask_gamma`` to ours; the pre-training
    backbone config that holds them (None without a mask token)."""
    if 'mask_token' not in backbone:
        if 'mask_gamma' in backbone:
            raise LayoutError('mask_gamma without mask_token.')
        return None
    for name in ('mask_token', 'mask_gamma'):
        if name in backbone:
            backbone[name] = as_token(backbone[name], shape, name)
    if 'mask_gamma' in backbone:
        method = 'a2mim'  # the gamma exists only with the residual token
        extra['mask_init'] = 1e-6  # > 0 builds it; the value is loaded
    pretrain = dict(cfg, type=PRETRAIN_TYPES[family][method], **extra)
    if method is None and family != 'swin':
        notes.append('the checkpoint does not tell whether its mask token is '
                     'added (A2MIM, replace=False) or replaces the patch '
                     f'features (SimMIM, replace=True): set replace, or use '
                     f'{PRETRAIN_TYPES[family]["a2mim"]} / '
                     f'{PRETRAIN_TYPES[family]["simmim"]}.')
    return pretrain


def _mask_stage(width: int, stage_inputs: List[int], notes: List[str]) -> int:
    """The stage whose input a CNN's mask token of ``width`` channels
    fits: stage 3 (A2MIM) if it fits there, else the first that fits."""
    fits = [i for i, c in enumerate(stage_inputs) if c == width]
    if not fits:
        raise LayoutError(f'A mask token of {width} channels fits the input '
                          f'of no stage (stage inputs {stage_inputs}).')
    stage = 3 if 3 in fits else fits[0]
    if len(fits) > 1:
        notes.append(f'the mask token fits the input of stages {fits}; '
                     f'mask_layer={stage} assumed.')
    return stage


# --------------------------------------------------------------- ResNet ----
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
        stage = _mask_stage(channels, [
            backbone[f'layer{i + 1}.0.conv1.weight'].shape[1]
            for i in range(4)], notes)
        pretrain = _mask_tokens(backbone, (1, channels, 1, 1), cfg, 'resnet',
                                method, notes, mask_layer=stage)
    else:
        _mask_tokens(backbone, (), cfg, 'resnet', method, notes)
    return Conversion(
        state_dict=_prefixed(backbone, neck), source=source, family='resnet',
        backbone=cfg, pretrain_backbone=pretrain,
        neck=decoder_cfg(neck, 8 * base * (4 if kind == 'bottleneck' else 1)),
        dropped=dropped, added=added, notes=notes, num_source=num_source)


# ------------------------------------------------------------------ ViT ----
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


def finish_vit(backbone: Dict[str, Tensor], neck: Dict[str, Tensor],
               source: str, dropped: Dict[str, str], num_source: int,
               num_heads: Optional[int] = None, fill_identity: bool = False,
               notes: Optional[List[str]] = None,
               method: Optional[str] = None) -> Conversion:
    """Check and complete a ViT in ``BEiTViT`` names (``bias='qv_bias'``).

    Args:
        num_heads: Heads, where the weights do not say (no relative position
            table): a known arch's, else embed_dims // 64.
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
    grid = None
    if 'pos_embed' in backbone:
        side = int_sqrt(backbone['pos_embed'].shape[1] - 1)
        if side is None:
            raise LayoutError(f'pos_embed {tuple(backbone["pos_embed"].shape)}'
                              f' is not a square grid plus a class token.')
        grid = side
    per_layer = 'layers.0.attn.relative_position_bias_table' in backbone
    shared = 'rel_pos_bias.relative_position_bias_table' in backbone
    if per_layer and shared:
        raise LayoutError('Both per-layer and shared relative position bias: '
                          'mmpretrain\'s BEiTViT has one or the other.')
    table_key = ('layers.0.attn.relative_position_bias_table' if per_layer
                 else 'rel_pos_bias.relative_position_bias_table')
    if per_layer or shared:
        table = backbone[table_key]
        table_grid = grid_from_table(table.shape[0], table_key)
        if grid is not None and grid != table_grid:
            raise LayoutError(f'pos_embed is for a {grid}x{grid} grid, the '
                              f'relative position table for {table_grid}.')
        grid = table_grid
        if num_heads is not None and num_heads != table.shape[1]:
            raise LayoutError(f'num_heads={num_heads}, but the relative '
                              f'position table has {table.shape[1]} heads.')
        num_heads = table.shape[1]
    if num_heads is None:
        num_heads = VIT_HEADS.get((embed, num_layers, ffn))
        guess = 'a known arch' if num_heads else 'head dim 64'
        if num_heads is None and fill_identity:
            raise LayoutError(
                'fill_identity adds relative position tables with one column '
                'per head, and the weights do not record the number of heads '
                'of this ViT: give num_heads (--num-heads).')
        num_heads = num_heads or max(embed // 64, 1)
        notes.append(f'num_heads={num_heads} inferred from {guess}: the '
                     f'weights do not record it (give num_heads / '
                     f'--num-heads if the source used another).')
    if grid is None:
        grid = 224 // patch
        notes.append('img_size=224 assumed: the weights fix no grid (no '
                     'position embedding or table).')
    for i in layers:
        pre = f'layers.{i}.'
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
        if fill_identity and not (per_layer or shared):
            rows = (2 * grid - 1)**2 + 3
            key = f'{pre}attn.relative_position_bias_table'
            backbone[key] = torch.zeros(rows, num_heads)
            added[key] = ('relative position bias of 0 (identity): loads into '
                          'relative-position configs, same function')
    if fill_identity and not (per_layer or shared):
        per_layer = True
    index = beit_relative_position_index((grid, grid))
    for i in layers:
        if per_layer:
            _check_derived(backbone,
                           f'layers.{i}.attn.relative_position_index', index,
                           added)
    if shared:
        _check_derived(backbone, 'rel_pos_bias.relative_position_index',
                       index, added)
    # every layer must have the same parameters
    first = {k[len('layers.0.'):] for k in backbone
             if k.startswith('layers.0.')}
    for i in layers[1:]:
        have = {k[len(f'layers.{i}.'):] for k in backbone
                if k.startswith(f'layers.{i}.')}
        if have != first:
            raise LayoutError(f'Layer {i} has other keys than layer 0: '
                              f'{sorted(have ^ first)}.')
    layer_scale = 'layers.0.gamma_1' in backbone
    settings = (embed, num_layers, num_heads, ffn)
    arch = next((name for name, s in VIT_ARCHS.items() if s == settings),
                dict(embed_dims=embed, num_layers=num_layers,
                     num_heads=num_heads, feedforward_channels=ffn))
    cfg = dict(type='BEiTViT', arch=arch, img_size=grid * patch,
               patch_size=patch,
               use_abs_pos_emb='pos_embed' in backbone,
               use_rel_pos_bias=per_layer, use_shared_rel_pos_bias=shared,
               layer_scale_init_value=0.1 if layer_scale else 0.,
               final_norm='ln1.weight' in backbone,
               out_type='avg_featmap' if 'ln2.weight' in backbone
               else 'featmap')
    pretrain = _mask_tokens(backbone, (1, 1, embed), cfg, 'vit', method,
                            notes)
    return Conversion(
        state_dict=_prefixed(backbone, neck), source=source, family='vit',
        backbone=cfg, pretrain_backbone=pretrain,
        neck=decoder_cfg(neck, embed), dropped=dropped,
        added=added, notes=notes, num_source=num_source)


# ----------------------------------------------------------------- Swin ----
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
            _check_derived(
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
    pretrain = _mask_tokens(backbone, (1, 1, embed), cfg, 'swin', method,
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
        state_dict=_prefixed(backbone, neck), source=source, family='swin',
        backbone=cfg, pretrain_backbone=pretrain,
        neck=decoder_cfg(neck, channels), dropped=dropped,
        added=added, notes=notes, num_source=num_source)


# ------------------------------------------------------------- ConvNeXt ----
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
        extra = dict(mask_layer=_mask_stage(width, channels, notes))
        if source == 'openmixup' and method == 'simmim' and \
                'mask_gamma' not in backbone:
            # openmixup's SimMIM ConvNeXt models set replace=False
            extra['replace'] = False
            notes.append('openmixup\'s SimMIM ConvNeXt adds its mask token '
                         'to the features (replace=False), as its configs '
                         'and ours set.')
        pretrain = _mask_tokens(backbone, (1, width, 1, 1), cfg, 'convnext',
                                method, notes, **extra)
    else:
        _mask_tokens(backbone, (), cfg, 'convnext', method, notes)
    return Conversion(
        state_dict=_prefixed(backbone, neck), source=source,
        family='convnext', backbone=cfg, pretrain_backbone=pretrain,
        neck=decoder_cfg(neck, channels[-1]), dropped=dropped, added={},
        notes=notes, num_source=num_source)
