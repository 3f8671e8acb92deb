"""OpenAI CLIP / open_clip visual weights -> :class:`CLIPViTTeacher` keys."""
from collections import OrderedDict
from typing import Dict

import torch

_BLOCK = {
    'ln_1': 'ln1',
    'ln_2': 'ln2',
    'attn.in_proj_weight': 'attn.qkv.weight',
    'attn.in_proj_bias': 'attn.qkv.bias',
    'attn.out_proj': 'attn.proj',
    'mlp.c_fc': 'ffn.layers.0.0',
    'mlp.c_proj': 'ffn.layers.1',
}


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
    out = OrderedDict()
    for key, value in visual.items():
        if key == 'conv1.weight':
            out['vit.patch_embed.projection.weight'] = value
        elif key == 'class_embedding':
            out['vit.cls_token'] = value.reshape(1, 1, -1)
        elif key == 'positional_embedding':
            out['vit.pos_embed'] = value.unsqueeze(0)
        elif key.startswith('ln_pre.'):
            out['vit.pre_norm.' + key[len('ln_pre.'):]] = value
        elif key.startswith('ln_post.'):
            out[key] = value
        elif key == 'proj':
            out['proj'] = value
        elif key.startswith('transformer.resblocks.'):
            idx, rest = key[len('transformer.resblocks.'):].split('.', 1)
            for src, dst in _BLOCK.items():
                if rest.startswith(src):
                    out[f'vit.layers.{idx}.{dst}{rest[len(src):]}'] = value
                    break
            else:
                raise KeyError(f'Cannot convert CLIP key visual.{key}.')
        else:
            raise KeyError(f'Cannot convert CLIP key visual.{key}.')
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
