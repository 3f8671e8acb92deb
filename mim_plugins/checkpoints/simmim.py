"""microsoft/SimMIM checkpoints: ``{'model': {...}}``.

Pre-training checkpoints hold ``encoder.*`` (``VisionTransformerForSimMIM``
or ``SwinTransformerForSimMIM``, with ``mask_token``) and the linear decoder
``decoder.0.*`` (Conv1x1 + PixelShuffle, our ``SimMIMLinearDecoder``);
fine-tuned ones hold the encoder's keys without the prefix, plus ``head``.

- ViT: BEiT's names (``blocks.i.attn.q_bias``/``v_bias``, ``gamma_1``,
  shared ``rel_pos_bias``), see :mod:`.timm`.
- Swin: ``layers.i.blocks.j.attn.{qkv,proj,relative_position_bias_table}``,
  ``mlp.fc1/fc2``, final ``norm``; its ``PatchMerging`` concatenates the
  2x2 neighbours as (0,0), (1,0), (0,1), (1,1) along the channels, whereas
  mmcv's (used by mmpretrain's Swin) unfolds them channel-major, so
  ``downsample.reduction`` (its input columns) and ``downsample.norm`` are
  re-ordered, as mmseg's ``swin2mmseg.py`` does.
"""
import re
from collections import OrderedDict
from typing import Dict, Optional

from .common import (CLASSIFIER, DERIVED, Conversion, LayoutError, StateDict,
                     Tensor, finish_swin, strip_prefix)
from .timm import convert_vit

NAME = 'simmim'
SUMMARY = ('microsoft/SimMIM ViT and Swin: {"model": ...}, pre-training '
           '(encoder.*, decoder.0.*) or fine-tuned')

#: official (0,0),(1,0),(0,1),(1,1) -> unfold's (0,0),(0,1),(1,0),(1,1)
_MERGE_ORDER = [0, 2, 1, 3]
_SWIN_BLOCK = (
    ('norm1.', 'norm1.'),
    ('norm2.', 'norm2.'),
    ('attn.qkv.', 'attn.w_msa.qkv.'),
    ('attn.proj.', 'attn.w_msa.proj.'),
    ('attn.relative_position_bias_table',
     'attn.w_msa.relative_position_bias_table'),
    ('attn.relative_position_index', 'attn.w_msa.relative_position_index'),
    ('mlp.fc1.', 'ffn.layers.0.0.'),
    ('mlp.fc2.', 'ffn.layers.1.'),
)
_SWIN_KEY = re.compile(r'layers\.(\d+)\.(blocks\.\d+\.|downsample\.)(.+)')


def merging_weight_to_unfold(weight: Tensor) -> Tensor:
    """``PatchMerging.reduction.weight`` (out, 4C): official -> mmcv order."""
    out, in4 = weight.shape
    return weight.reshape(out, 4, in4 // 4)[:, _MERGE_ORDER].transpose(
        1, 2).reshape(out, in4)


def merging_norm_to_unfold(value: Tensor) -> Tensor:
    """``PatchMerging.norm`` weight or bias (4C,): official -> mmcv order."""
    return value.reshape(4, -1)[_MERGE_ORDER].transpose(0, 1).reshape(-1)


def _encoder(state: StateDict):
    """(encoder keys without prefix, decoder keys, other keys)."""
    if any(k.startswith('encoder.') for k in state):
        encoder = strip_prefix(state, 'encoder.')
        decoder = strip_prefix(state, 'decoder.')
        other = [k for k in state
                 if not k.startswith(('encoder.', 'decoder.'))]
        return encoder, decoder, other
    return OrderedDict(state), {}, []


def is_swin(encoder: StateDict) -> bool:
    return any(k.startswith('layers.0.blocks.0.attn.qkv') for k in encoder)


def is_beit_vit(encoder: StateDict) -> bool:
    return 'patch_embed.proj.weight' in encoder and any(
        k.startswith('blocks.0.') and (
            k.endswith(('q_bias', 'gamma_1', 'relative_position_bias_table')))
        for k in encoder) or 'rel_pos_bias.relative_position_bias_table' in \
        encoder


def convert_swin(encoder: StateDict, neck: Dict[str, Tensor],
                 dropped: Dict[str, str], num_source: int) -> Conversion:
    """Official Swin -> mmpretrain ``SwinTransformer`` keys (pure)."""
    out, final_norm = OrderedDict(), {}
    for key, value in encoder.items():
        match = _SWIN_KEY.match(key)
        if key.startswith('patch_embed.proj.'):
            out['patch_embed.projection.' + key[len('patch_embed.proj.'):]] = \
                value
        elif key.startswith('patch_embed.norm.') or key in (
                'absolute_pos_embed', 'mask_token'):
            out[key] = value
        elif key.startswith('norm.'):
            final_norm[key[len('norm.'):]] = value
        elif key.startswith('head.'):
            dropped[key] = CLASSIFIER
        elif match:
            stage, part, rest = match.groups()
            pre = f'stages.{stage}.{part}'
            if part == 'downsample.':
                if rest == 'reduction.weight':
                    out[pre + rest] = merging_weight_to_unfold(value)
                elif rest in ('norm.weight', 'norm.bias'):
                    out[pre + rest] = merging_norm_to_unfold(value)
                else:
                    raise LayoutError(f'Cannot place the Swin key {key!r}.')
                continue
            if rest == 'attn_mask':
                dropped[key] = DERIVED + ' (the shifted-window mask)'
                continue
            for src, dst in _SWIN_BLOCK:
                if rest.startswith(src):
                    out[pre + dst + rest[len(src):]] = value
                    break
            else:
                raise LayoutError(f'Cannot place the Swin key {key!r}.')
        else:
            raise LayoutError(f'Cannot place the Swin key {key!r}.')
    stages = {int(k.split('.')[1]) for k in out if k.startswith('stages.')}
    for name, value in final_norm.items():
        out[f'norm{max(stages)}.{name}'] = value
    return finish_swin(out, neck, NAME, dropped, num_source, method='simmim')


def detect(ckpt: dict) -> Optional[StateDict]:
    if not isinstance(ckpt, dict):
        return None
    state = ckpt.get('model')
    if not isinstance(state, dict):
        return None
    encoder, _, _ = _encoder(state)
    if is_swin(encoder) or is_beit_vit(encoder):
        return state
    return None


def convert(state: StateDict, num_heads: Optional[int] = None,
            fill_identity: bool = False) -> Conversion:
    """microsoft/SimMIM state dict (the ``model`` entry) -> our keys (pure)."""
    encoder, decoder, other = _encoder(state)
    if other:
        raise LayoutError(f'Keys outside encoder.* / decoder.*: {other[:5]}.')
    neck, dropped = OrderedDict(), {}
    for key, value in decoder.items():
        if not key.startswith('0.'):
            raise LayoutError(f'Cannot place the decoder key decoder.{key}.')
        neck['decoder.' + key] = value
    if is_swin(encoder):
        conv = convert_swin(encoder, neck, dropped, len(state))
    elif is_beit_vit(encoder):
        extra = {}
        if 'mask_token' in encoder:
            encoder = OrderedDict(encoder)
            extra['mask_token'] = encoder.pop('mask_token')
        conv = convert_vit(encoder, NAME, num_heads=num_heads,
                           fill_identity=fill_identity, neck=neck,
                           dropped=dropped, extra=extra,
                           num_source=len(state), method='simmim')
    else:
        raise LayoutError('Neither a SimMIM Swin (layers.*.blocks.*) nor a '
                          'SimMIM/BEiT ViT (blocks.* with q_bias, gamma_1 or '
                          'relative position bias).')
    if any(k.startswith('encoder.') for k in state):  # the source's names
        conv.dropped = {f'encoder.{k}': v for k, v in conv.dropped.items()}
    return conv
