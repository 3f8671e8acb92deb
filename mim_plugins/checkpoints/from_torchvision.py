"""torchvision ``resnet*`` and ``vit_*`` state dicts.

torchvision's ResNet names are mmpretrain's (``conv1``, ``bn1``,
``layer1.0.downsample.0``); its ViT packs q, k, v in ``in_proj_weight`` of
``nn.MultiheadAttention`` (the same row order as timm's ``qkv``) and puts the
class token's position first in ``encoder.pos_embedding``.
"""
from typing import Optional

from .common import CLASSIFIER, K_BIAS, Conversion, LayoutError, StateDict
from .from_timm import convert_resnet, is_resnet
from .rename import Drop, Rules, rename_all, split_qkv_biases
from .vit import finish_vit

NAME = 'torchvision'
SUMMARY = 'torchvision ResNet (resnet18..152) and ViT (vit_b_16, ...)'

_L = r'encoder\.layers\.encoder_layer_(\d+)\.'
#: torchvision ``VisionTransformer`` names -> ``BEiTViT`` names
VIT_RULES: Rules = (
    (r'class_token', 'cls_token'),
    (r'conv_proj\.(weight|bias)', r'patch_embed.projection.\1'),
    (r'encoder\.pos_embedding', 'pos_embed'),
    (r'encoder\.ln\.(weight|bias)', r'ln1.\1'),
    (r'heads\..*', Drop(CLASSIFIER)),
    (_L + r'ln_([12])\.(.+)', r'layers.\1.ln\2.\3'),
    (_L + r'self_attention\.in_proj_(weight|bias)', r'layers.\1.attn.qkv.\2'),
    (_L + r'self_attention\.out_proj\.(.+)', r'layers.\1.attn.proj.\2'),
    # mlp.linear_1/2: torchvision < 0.13 names
    (_L + r'mlp\.(0|linear_1)\.(.+)', r'layers.\1.ffn.layers.0.0.\3'),
    (_L + r'mlp\.(3|linear_2)\.(.+)', r'layers.\1.ffn.layers.1.\3'),
)


def is_vit(state: StateDict) -> bool:
    return 'conv_proj.weight' in state and any(
        k.startswith('encoder.layers.encoder_layer_0.') for k in state)


def convert_vit(state: StateDict, num_heads: Optional[int] = None,
                fill_identity: bool = False) -> Conversion:
    """torchvision ``VisionTransformer`` -> ``BEiTViT`` keys (pure)."""
    dropped = {}
    renamed = rename_all(state, VIT_RULES, dropped, 'torchvision ViT')
    split_qkv_biases(renamed, dropped, K_BIAS)
    out = renamed.state
    return finish_vit(out, {}, NAME, dropped, num_source=len(state),
                      num_heads=num_heads, fill_identity=fill_identity)


def detect(ckpt: dict) -> Optional[StateDict]:
    if not isinstance(ckpt, dict):
        return None
    if is_vit(ckpt) or (is_resnet(ckpt) and 'mask_token' not in ckpt):
        return ckpt
    return None


def convert(state: StateDict, num_heads: Optional[int] = None,
            fill_identity: bool = False) -> Conversion:
    """torchvision state dict -> our keys (pure)."""
    if is_vit(state):
        return convert_vit(state, num_heads, fill_identity)
    if is_resnet(state):
        return convert_resnet(state, source=NAME)
    raise LayoutError('Neither a torchvision ViT (conv_proj, encoder.layers.'
                      'encoder_layer_*) nor a ResNet (conv1, layer1..4).')
