"""Convert OpenAI CLIP / open_clip weights for the MaskDistill teacher.

    python tools/model_converters/clip_to_mim_plugins.py SRC DST

SRC: OpenAI's ``ViT-B-16.pt`` or ``ViT-L-14.pt`` (a TorchScript archive or
a state dict) or an open_clip checkpoint; DST: a state dict with the keys of
``mim_plugins.models.CLIPViTTeacher`` (visual tower only). The mapping is the
pure function ``mim_plugins.models.target_generators.convert_clip_visual``;
the architecture is read off the weights and printed as the teacher's
config (``arch``, ``patch_size``, ``out_channels``), e.g. for ViT-L/14
``arch='l', patch_size=14, out_channels=768``, plus ``input_size=196`` for
a ViT/16 student at 224 px.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from _mim_plugins_cli import quiet_upstream_warnings  # noqa: E402

quiet_upstream_warnings()

import torch  # noqa: E402

from mim_plugins.models.target_generators import (  # noqa: E402
    clip_teacher_config, convert_clip_visual)


def load_clip_state_dict(path: str) -> dict:
    """State dict of a CLIP checkpoint: TorchScript archive or pickle."""
    try:
        return torch.jit.load(path, map_location='cpu').state_dict()
    except RuntimeError:
        pass
    # a trusted, user-provided pickle; open_clip stores plain tensors
    state = torch.load(path, map_location='cpu', weights_only=True)
    return state.get('state_dict', state)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='OpenAI CLIP or open_clip checkpoint')
    parser.add_argument('dst', help='output path (.pth)')
    args = parser.parse_args(argv)
    state = convert_clip_visual(load_clip_state_dict(args.src))
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save(state, args.dst)
    print(f'saved {len(state)} tensors to {args.dst}')
    teacher = clip_teacher_config(state)
    arch = teacher['arch']
    width = state['vit.patch_embed.projection.weight'].shape[0]
    layers = 1 + max(int(k.split('.')[2]) for k in state
                     if k.startswith('vit.layers.'))
    print(f'CLIP image tower: width {width}, {layers} layers, patch '
          f'{teacher["patch_size"]}, {teacher["img_size"]} px, projection '
          f'{teacher["out_channels"]}. Teacher config: '
          f'target_generator=dict(type=\'CLIPViTTeacher\', arch={arch!r}, '
          f'img_size={teacher["img_size"]}, '
          f'patch_size={teacher["patch_size"]}, '
          f'out_channels={teacher["out_channels"]}, checkpoint={args.dst!r})'
          + ('' if isinstance(arch, str) else ' (num_heads cannot be read '
             'off the weights: CLIP uses 64-dim heads)')
          + '; for a student with another patch grid g x g, add '
          f'input_size=g*{teacher["patch_size"]} (196 for a 224-px ViT/16 '
          f'student and a /14 teacher).')
    return args.dst


if __name__ == '__main__':
    main()
