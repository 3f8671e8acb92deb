"""OpenAI CLIP / open_clip visual weights -> :class:`CLIPViTTeacher` keys."""
from collections import OrderedDict
from typing import Dict

import torch

from ...checkpoints.rename import Rules, rename

_R = r'transformer\.resblocks\.(\d+)\.'
#: the visual tower's keys (without ``visual.``) -> :class:`CLIPViTTeacher`'s
#: (the class and position embeddings are reshaped after the renaming)
RULES: Rules = (
    (r'conv1\.weight', 'vit.patch_embed.projection.weight'),
    (r'class_embedding', 'vit.cls_token'),
    (r'positional_embedding', 'vit.pos_embed'),
    (r'ln_pre\.(.+)', r'vit.pre_norm.\1'),
    (r'ln_post\..+|proj', r'\g<0>'),
    (_R + r'ln_([12])(.*)', r'vit.layers.\1.ln\2\3'),
    (_R + r'attn\.in_proj_(weight|bias)', r'vit.layers.\1.attn.qkv.\2'),
    (_R + r'attn\.out_proj(.*)', r'vit.layers.\1.attn.proj\2'),
    (_R + r'mlp\.c_fc(.*)', r'vit.layers.\1.ffn.layers.0.0\2'),
    (_R + r'mlp\.c_proj(.*)', r'vit.layers.\1.ffn.layers.1\2'),
)


def convert_clip_visual(state_dict: Dict[str, torch.Tensor]
                        ) -> 'OrderedDict[str, torch.Tensor]':
    """Convert a CLIP state dict (OpenAI ``ViT-B-16.pt`` or open_clip, whole
    model or visual tower, with or without the ``visual.`` prefix) to the
    keys of :class:`CLIPViTTeacher`. Text-tower keys are dropped.

    A pure function: raises ``KeyError`` naming the first key it cannot map.
    """
    visual = {k[len('visual.'):]: v for k, v in state_dict.items()
              if k.startswith('visual.')}
    if not visual:  # already the visual tower alone
        visual = dict(state_dict)
    renamed = rename(visual, RULES, {})
    if renamed.unmatched:
        raise KeyError(f'Cannot convert CLIP key visual.'
                       f'{renamed.unmatched[0]}.')
    out = renamed.state
    if 'vit.cls_token' in out:
        out['vit.cls_token'] = out['vit.cls_token'].reshape(1, 1, -1)
    if 'vit.pos_embed' in out:
        out['vit.pos_embed'] = out['vit.pos_embed'].unsqueeze(0)
    return out


#: mmpretrain ViT arch names of the CLIP image towers
_ARCHS = {(768, 12): 'b', (1024, 24): 'l'}


def clip_teacher_config(state: Dict[str, torch.Tensor]) -> dict:
    """The :class:`CLIPViTTeacher` arguments of converted CLIP weights
    (``arch``, ``patch_size``, ``img_size``, ``out_channels``), read off
    their shapes: ViT-B/16 gives ``arch='b', patch_size=16, out_channels=
    512``, ViT-L/14 ``arch='l', patch_size=14, out_channels=768``."""
    width, _, patch, _ = state['vit.patch_embed.projection.weight'].shape
    layers = 1 + max(int(k.split('.')[2]) for k in state
                     if k.startswith('vit.layers.'))
    grid = int(round((state['vit.pos_embed'].shape[1] - 1)**0.5))
    heads = 64  # CLIP's head width
    arch = _ARCHS.get((width, layers), dict(
        embed_dims=width, num_layers=layers, num_heads=max(width // heads, 1),
        feedforward_channels=4 * width))
    return dict(type='CLIPViTTeacher', arch=arch, patch_size=patch,
                img_size=grid * patch, out_channels=state['proj'].shape[1])
