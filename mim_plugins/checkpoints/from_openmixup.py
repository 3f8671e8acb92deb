"""Westlake-AI/openmixup A2MIM / SimMIM checkpoints (ResNet, ViT, ConvNeXt,
Swin).

- Full: ``{'meta', 'state_dict': {'backbone.*', 'neck.*'}, 'optimizer'}``.
  The backbone uses mmcls names (``MIMResNet``: torchvision's; ``SimMIMViT``:
  ``layers.i.ln1``, ``attn.q_bias``/``v_bias`` and per-layer
  ``relative_position_bias_table`` with ``use_window=True``, else a full
  ``attn.qkv.bias``; ``gamma_1``/``gamma_2``; final ``ln1``), plus
  ``mask_token`` and ``mask_gamma`` (``(C,)`` in the ViT, ours
  ``(1, 1, C)``). A2MIM's ``NonLinearMIMNeck`` keeps its linear decoder in
  ``neck.decoder_pred.0``, SimMIM's ``SimMIMNeck`` in ``neck.decoder.0``:
  both are our ``SimMIMLinearDecoder`` (``decoder.0``). ``MIMConvNeXt``
  has mmcls's ConvNeXt names (mmpretrain's) with a ``(1, C, 1, 1)``
  ``mask_token`` and ``mask_gamma`` at the input of stage ``mask_layer``
  (A2MIM 3, SimMIM 0). Its Swin is mmcls's (mmpretrain's names); the A2MIM
  Swin adds a ``(1, 1, C)`` token (and, with ``mask_init``, a ``(C,)``
  gamma) to the patch embeddings.
- Backbone only (``tools/model_converters/extract_backbone_weights.py``):
  ``{'state_dict': {...}, 'author': 'openmixup'}``, the backbone's keys
  without the ``backbone.`` prefix.
"""
from collections import OrderedDict
from typing import Optional

from .common import Conversion, LayoutError, StateDict
from .from_mmpretrain import DECODERS, convert_parts, split_model

NAME = 'openmixup'
SUMMARY = ('Westlake-AI/openmixup A2MIM / SimMIM ResNet, ViT, ConvNeXt, '
           'Swin: full (backbone.*, neck.decoder_pred.0 / neck.decoder.0) or '
           'backbone only (author: openmixup)')
OPENMIXUP_DECODERS = DECODERS + (
    {'neck.decoder_pred.0.weight': 'decoder.0.weight',
     'neck.decoder_pred.0.bias': 'decoder.0.bias'}, )


def _is_mim_backbone(state: StateDict) -> bool:
    return 'mask_token' in state and (
        'conv1.weight' in state or 'patch_embed.projection.weight' in state
        or 'downsample_layers.0.0.weight' in state)


def detect(ckpt: dict) -> Optional[StateDict]:
    if not isinstance(ckpt, dict):
        return None
    state = ckpt.get('state_dict', ckpt)
    if not isinstance(state, dict):
        return None
    if ckpt.get('author') == 'openmixup' or _is_mim_backbone(state):
        return state
    if 'neck.decoder_pred.0.weight' in state or \
            'backbone.mask_token' in state:
        return state
    return None


def convert(state: StateDict, num_heads: Optional[int] = None,
            fill_identity: bool = False) -> Conversion:
    """openmixup state dict (full or backbone only) -> our keys (pure)."""
    dropped, prefix = {}, ''
    if any(k.startswith('backbone.') for k in state):
        backbone, neck = split_model(state, dropped, OPENMIXUP_DECODERS)
        prefix = 'backbone.'
    else:
        backbone, neck = OrderedDict(state), OrderedDict()
    if not backbone:
        raise LayoutError('No backbone keys.')
    # A2MIM's NonLinearMIMNeck vs SimMIM's SimMIMNeck
    method = ('a2mim' if 'neck.decoder_pred.0.weight' in state else
              'simmim' if 'neck.decoder.0.weight' in state else None)
    return convert_parts(backbone, neck, dropped, NAME, len(state),
                         num_heads=num_heads, fill_identity=fill_identity,
                         method=method, prefix=prefix)
