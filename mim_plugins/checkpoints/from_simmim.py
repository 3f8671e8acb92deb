"""microsoft/SimMIM checkpoints: ``{'model': {...}}``.

Pre-training checkpoints hold ``encoder.*`` (``VisionTransformerForSimMIM``
or ``SwinTransformerForSimMIM``, with ``mask_token``) and the linear decoder
``decoder.0.*`` (Conv1x1 + PixelShuffle, our ``SimMIMLinearDecoder``);
fine-tuned ones hold the encoder's keys without the prefix, plus ``head``.

- ViT: BEiT's names (``blocks.i.attn.q_bias``/``v_bias``, ``gamma_1``,
  shared ``rel_pos_bias``), see :mod:`.from_timm`.
- Swin: ``layers.i.blocks.j.attn.{qkv,proj,relative_position_bias_table}``,
  ``mlp.fc1/fc2``, final ``norm``; its ``PatchMerging`` concatenates the
  2x2 neighbours as (0,0), (1,0), (0,1), (1,1) along the channels, whereas
  mmcv's (used by mmpretrain's Swin) unfolds them channel-major, so
  ``downsample.reduction`` (its input columns) and ``downsample.norm`` are
  re-ordered, as mmseg's ``swin2mmseg.py`` does.
"""
from collections import OrderedDict
from typing import Dict, Optional

from .common import (CLASSIFIER, DERIVED, Conversion, LayoutError, StateDict,
                     Tensor, strip_prefix)
from .from_timm import convert_vit
from .rename import Drop, Rules, rename_all
from .swin import finish_swin

NAME = 'simmim'
SUMMARY = ('microsoft/SimMIM ViT and Swin: {"model": ...}, pre-training '
           '(encoder.*, decoder.0.*) or fine-tuned')

#: official (0,0),(1,0),(0,1),(1,1) -> unfold's (0,0),(0,1),(1,0),(1,1)
_MERGE_ORDER = [0, 2, 1, 3]
_S = r'layers\.(\d+)\.blocks\.(\d+)\.'
#: official Swin names -> mmpretrain ``SwinTransformer`` names (the final
#: ``norm`` becomes ``norm{last stage}`` and the patch merging is re-ordered
#: after the renaming)
SWIN_RULES: Rules = (
    (r'patch_embed\.proj\.(.+)', r'patch_embed.projection.\1'),
    (r'patch_embed\.norm\..+|absolute_pos_embed|mask_token|norm\..+',
     r'\g<0>'),
    (r'head\..*', Drop(CLASSIFIER)),
    (_S + 'attn_mask', Drop(DERIVED + ' (the shifted-window mask)')),
    (_S + r'(norm[12]\..+)', r'stages.\1.blocks.\2.\3'),
    (_S + r'attn\.((qkv|proj)\..+|relative_position_(bias_table|index))',
     r'stages.\1.blocks.\2.attn.w_msa.\3'),
    (_S + r'mlp\.fc1\.(.+)', r'stages.\1.blocks.\2.ffn.layers.0.0.\3'),
    (_S + r'mlp\.fc2\.(.+)', r'stages.\1.blocks.\2.ffn.layers.1.\3'),
    (r'layers\.(\d+)\.downsample\.(reduction\.weight|norm\.(weight|bias))',
     r'stages.\1.downsample.\2'),
)


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
    out = OrderedDict()
    stages = set()
    for key, value in rename_all(encoder, SWIN_RULES, dropped,
                                 'Swin').state.items():
        if key.startswith('stages.'):
            stages.add(int(key.split('.')[1]))
        if key.endswith('downsample.reduction.weight'):
            value = merging_weight_to_unfold(value)
        elif '.downsample.norm.' in key:
            value = merging_norm_to_unfold(value)
        out[key] = value
    # the final norm, after the stages: norm{last stage}
    for key in [k for k in out if k.startswith('norm.')]:
        out[f'norm{max(stages)}.{key[len("norm."):]}'] = out.pop(key)
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
