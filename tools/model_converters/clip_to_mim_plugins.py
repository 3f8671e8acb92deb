"""Convert OpenAI CLIP / open_clip weights for the MaskDistill teacher.

    python tools/model_converters/clip_to_mim_plugins.py SRC DST

SRC: OpenAI's ``ViT-B-16.pt`` (a TorchScript archive or a state dict) or an
open_clip checkpoint; DST: a state dict with the keys of
``mim_plugins.models.CLIPViTTeacher`` (visual tower only). The mapping is the
pure function ``mim_plugins.models.target_generators.convert_clip_visual``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from _mim_plugins_cli import quiet_upstream_warnings  # noqa: E402

quiet_upstream_warnings()

import torch  # noqa: E402

from mim_plugins.models.target_generators import convert_clip_visual  # noqa


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
    proj = state.get('proj')
    print(f'saved {len(state)} tensors to {args.dst}'
          + (f' (projection {tuple(proj.shape)})' if proj is not None else ''))
    return args.dst


if __name__ == '__main__':
    main()
