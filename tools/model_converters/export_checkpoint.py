"""Export one of our ResNet / ViT / ConvNeXt backbones to timm's layout.

    python tools/model_converters/export_checkpoint.py SRC DST [--prefix backbone.]

SRC: a checkpoint of ours (pre-training or fine-tuning; the backbone under
``--prefix``) or a backbone state dict. DST: a plain state dict in timm's
names (``.safetensors`` if DST ends so), loading strictly into the timm model
that is printed (``ResNet``, ``VisionTransformer``, ``Beit`` for a ViT
with relative position bias, or ``ConvNeXt``). The mapping is the pure function
``mim_plugins.checkpoints.export_timm``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from _mim_plugins_cli import quiet_upstream_warnings  # noqa: E402

quiet_upstream_warnings()

import torch  # noqa: E402

from mim_plugins.checkpoints import (LayoutError, export_timm,  # noqa: E402
                                     load_source)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='checkpoint of ours')
    parser.add_argument('dst', help='output (.pth or .safetensors)')
    parser.add_argument('--prefix', default='backbone.',
                        help='the backbone\'s key prefix (default: backbone.)')
    parser.add_argument('--num-heads', type=int,
                        help='ViT heads, where the weights do not record them')
    args = parser.parse_args(argv)
    try:
        exp = export_timm(load_source(args.src), prefix=args.prefix,
                          num_heads=args.num_heads)
    except (LayoutError, FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    if args.dst.endswith('.safetensors'):
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in exp.state_dict.items()},
                  args.dst)
    else:
        torch.save(exp.state_dict, args.dst)
    print(exp.summary())
    print(f'saved         : {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
