"""facebookresearch/mae checkpoints: ``{'model': {...}}`` in timm's ViT names.

``mae_pretrain_vit_*.pth`` hold the encoder; a full pre-training checkpoint
also holds the MAE decoder (``decoder_embed``, ``mask_token``,
``decoder_pos_embed``, ``decoder_blocks``, ``decoder_norm``,
``decoder_pred``): a transformer over the visible tokens, not a linear
decoder, so it is listed as not carried (its ``mask_token`` is the
decoder's, of the decoder's width). Fine-tuned checkpoints add ``fc_norm``
(global pooling, our ``ln2``) and ``head``.
"""
from typing import Optional

from .common import Conversion, StateDict
from .from_timm import convert_vit, is_vit
from .rename import Drop, Rules

NAME = 'mae'
SUMMARY = ('facebookresearch/mae ViT: {"model": ...} with timm names '
           '(pre-trained encoder, full pre-training, or fine-tuned)')
DECODER = ('MAE decoder (a transformer over the visible tokens; ours is '
           'linear): not carried')
#: before timm's ViT rules: the MAE decoder is not carried
RULES: Rules = (
    (r'(decoder_embed\.|decoder_pos_embed|decoder_blocks\.|decoder_norm\.'
     r'|decoder_pred\.|mask_token).*', Drop(DECODER)),
)


def detect(ckpt: dict) -> Optional[StateDict]:
    """MAE checkpoints wrap a timm ViT in ``model`` (or hold its decoder)."""
    if not isinstance(ckpt, dict):
        return None
    state = ckpt.get('model')
    if isinstance(state, dict) and is_vit(state):
        return state
    if is_vit(ckpt) and 'decoder_embed.weight' in ckpt:
        return ckpt
    return None


def convert(state: StateDict, num_heads: Optional[int] = None,
            fill_identity: bool = False) -> Conversion:
    """MAE state dict -> our keys (pure)."""
    return convert_vit(state, NAME, RULES, num_heads=num_heads,
                       fill_identity=fill_identity)
