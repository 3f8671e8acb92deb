"""mmpretrain (and mmselfsup / mmcls 1.x) model-zoo checkpoints.

``{'meta': ..., 'state_dict': {'backbone.*', 'neck.*', 'head.*'}}``, as our
own checkpoints. The backbone is kept where its names are already ours
(``ResNet``, ``BEiTViT`` and its subclasses, ``SwinTransformer`` and
``SimMIMSwinTransformer``, ``ConvNeXt`` and ours); mmpretrain's plain
``VisionTransformer`` (ViT, DeiT, MAE, ... checkpoints) differs from
``BEiTViT`` in three names: the full ``attn.qkv.bias`` (q and v biases kept,
the key bias dropped), and the layer scales ``attn.gamma1.weight`` /
``ffn.gamma2.weight`` (our ``gamma_1`` / ``gamma_2``). The neck is carried
when it is the linear decoder (``neck.decoder.0``, ``SimMIMLinearDecoder``);
heads, other necks and teachers are listed as not carried.
"""
from collections import OrderedDict
from typing import Dict, Optional

from .common import (DERIVED, K_BIAS, Conversion, LayoutError, StateDict,
                     Tensor, strip_prefix)
from .convnext import finish_convnext
from .rename import Drop, Refuse, Rules, rename_all, split_qkv_biases
from .resnet import finish_resnet
from .swin import finish_swin
from .vit import finish_vit

NAME = 'mmpretrain'
SUMMARY = ('mmpretrain / mmselfsup model zoo and mim_plugins checkpoints: '
           'state_dict with backbone.* (ResNet, BEiTViT, VisionTransformer, '
           'Swin, ConvNeXt), neck.*, head.*')

_L = r'layers\.(\d+)\.'
#: mmpretrain ``VisionTransformer`` / ``BEiTViT`` names -> ``BEiTViT`` names
#: (``attn.qkv.bias`` is split into q and v biases after the renaming)
VIT_RULES: Rules = (
    (_L + r'attn\.gamma1\.weight', r'layers.\1.gamma_1'),
    (_L + r'ffn\.gamma2\.weight', r'layers.\1.gamma_2'),
    (_L + r'(ln[12]\.|attn\.qkv\.(weight|bias)$|attn\.[qv]_bias$'
     r'|attn\.relative_position_(bias_table|index)$|attn\.proj\.'
     r'|ffn\.layers\.0\.0\.|ffn\.layers\.1\.|gamma_[12]$).*', r'\g<0>'),
    (r'pre_norm\..*', Refuse('ViTs with a pre-norm (CLIP-style) are not '
                             'supported (mmpretrain\'s BEiTViT has none).')),
    (r'(cls_token|pos_embed|patch_embed\.projection\.|ln[12]\.'
     r'|rel_pos_bias\.|mask_token|mask_gamma).*', r'\g<0>'),
)
#: a Swin in our names: only the derived shifted-window masks go
SWIN_RULES: Rules = (
    (r'.*attn_mask', Drop(DERIVED + ' (the shifted-window mask)')),
    (r'.*', r'\g<0>'),
)


def rename_vit(state: StateDict, dropped: Dict[str, str]
               ) -> 'OrderedDict[str, Tensor]':
    """mmpretrain ``VisionTransformer`` / ``BEiTViT`` names -> ``BEiTViT``."""
    renamed = rename_all(state, VIT_RULES, dropped, 'ViT')
    split_qkv_biases(renamed, dropped, K_BIAS)
    return renamed.state


def backbone_family(backbone: StateDict) -> str:
    if 'conv1.weight' in backbone or any(k.startswith('stem.')
                                         for k in backbone):
        return 'resnet'
    if any(k.startswith('stages.0.blocks.0.attn.w_msa.') for k in backbone):
        return 'swin'
    if 'downsample_layers.0.0.weight' in backbone:
        return 'convnext'
    if 'patch_embed.projection.weight' in backbone and any(
            k.startswith('layers.0.') for k in backbone):
        return 'vit'
    raise LayoutError('The backbone is none of ResNet (conv1, layer1..4), '
                      'ViT (patch_embed.projection, layers.*), Swin '
                      '(stages.*.blocks.*.attn.w_msa) and ConvNeXt '
                      '(downsample_layers.*, stages.*.*.depthwise_conv).')


def convert_parts(backbone: StateDict, neck: Dict[str, Tensor],
                  dropped: Dict[str, str], source: str, num_source: int,
                  num_heads: Optional[int] = None,
                  fill_identity: bool = False,
                  method: Optional[str] = None,
                  prefix: str = '') -> Conversion:
    """A backbone in mmpretrain names (+ our decoder) -> our keys (pure).

    ``method``: 'a2mim' / 'simmim' where the source tells how its mask
    token is applied; ``prefix``: the backbone's prefix in the source, to
    name its keys in ``dropped``."""
    before = dict(dropped)
    dropped.clear()
    conv = _convert_backbone(backbone, neck, dropped, source, num_source,
                             num_heads, fill_identity, method)
    conv.dropped = {**before,
                    **{prefix + k: v for k, v in conv.dropped.items()}}
    return conv


def _convert_backbone(backbone, neck, dropped, source, num_source, num_heads,
                      fill_identity, method) -> Conversion:
    family = backbone_family(backbone)
    if family == 'resnet':
        return finish_resnet(OrderedDict(backbone), neck, source, dropped,
                             num_source, method=method)
    if family == 'swin':
        out = rename_all(backbone, SWIN_RULES, dropped, 'Swin').state
        return finish_swin(out, neck, source, dropped, num_source,
                           method=method)
    if family == 'convnext':
        return finish_convnext(OrderedDict(backbone), neck, source, dropped,
                               num_source, method=method)
    return finish_vit(rename_vit(backbone, dropped), neck, source, dropped,
                      num_source, num_heads=num_heads,
                      fill_identity=fill_identity, method=method)


#: source keys of a linear decoder -> ours (``SimMIMLinearDecoder``)
DECODERS = ({'neck.decoder.0.weight': 'decoder.0.weight',
             'neck.decoder.0.bias': 'decoder.0.bias'}, )
GROUPS = {
    'head': 'head (classifier or loss head)',
    'neck': 'neck that is not a linear pixel decoder (Conv1x1 + '
            'PixelShuffle)',
    'target_generator': 'teacher / target generator',
    'teacher': 'teacher / target generator',
    'data_preprocessor': 'data preprocessor',
}


def split_model(state: StateDict, dropped: Dict[str, str],
                decoders=DECODERS):
    """(backbone, linear decoder in our names) of a whole-model state dict;
    the other parts are listed in ``dropped``.

    The neck is carried only when its keys are exactly those of one of
    ``decoders`` (source key -> our key).
    """
    backbone = strip_prefix(state, 'backbone.')
    neck_keys = {k for k in state if k.startswith('neck.')}
    decoder = next((d for d in decoders if set(d) == neck_keys), {})
    neck = OrderedDict((ours, state[src]) for src, ours in decoder.items())
    for key in state:
        if key.startswith('backbone.') or key in decoder:
            continue
        group = key.split('.', 1)[0]
        dropped[key] = GROUPS.get(
            group, f'{group}.* is not the backbone or a linear decoder')
    return backbone, neck


def detect(ckpt: dict) -> Optional[StateDict]:
    if not isinstance(ckpt, dict):
        return None
    state = ckpt.get('state_dict', ckpt)
    if not isinstance(state, dict) or 'neck.decoder_pred.0.weight' in state:
        return None  # openmixup's NonLinearMIMNeck: see .openmixup
    if any(k.startswith('backbone.') for k in state):
        return state
    return None


def convert(state: StateDict, num_heads: Optional[int] = None,
            fill_identity: bool = False) -> Conversion:
    """mmpretrain whole-model state dict -> our keys (pure)."""
    dropped = {}
    backbone, neck = split_model(state, dropped)
    if not backbone:
        raise LayoutError('No backbone.* keys.')
    return convert_parts(backbone, neck, dropped, NAME, len(state),
                         num_heads=num_heads, fill_identity=fill_identity,
                         prefix='backbone.')
