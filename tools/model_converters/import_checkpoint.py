"""Convert a published checkpoint into ours (an mmengine checkpoint).

    python tools/model_converters/import_checkpoint.py SRC DST [--format NAME]
        [--config CONFIG]

SRC: an openmixup A2MIM/SimMIM, microsoft/SimMIM, MAE, timm, torchvision or
mmpretrain model-zoo checkpoint (``.pth``/``.bin``/``.safetensors``); its
layout is recognised from the keys (``--format`` forces one). DST holds
``backbone.*`` and, where the source has them, the mask token and the linear
decoder (``neck.*``): use it downstream with ``init_cfg=dict(type=
'Pretrained', checkpoint=DST, prefix='backbone.')`` (``PRETRAINED=DST`` for
our configs), or as ``load_from`` of a pre-training config.

With ``--config`` (the downstream or pre-training config you will use), the
backbone is that config's ``model.backbone``: the result must load into it
strictly, or the tool names the keys that do not fit.

Prints the detected layout, the backbone (and decoder) config to use, the key
coverage and every source key not carried over. The conversion is the pure
function of ``mim_plugins.checkpoints`` for that source.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from _mim_plugins_cli import quiet_upstream_warnings  # noqa: E402

quiet_upstream_warnings()
from mim_plugins.checkpoints import (FORMATS, LayoutError,  # noqa: E402
                                     import_checkpoint, known_formats)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='layouts:\n' + known_formats())
    parser.add_argument('src', help='published checkpoint')
    parser.add_argument('dst', help='output mmengine checkpoint (.pth)')
    parser.add_argument('--format', choices=sorted(FORMATS),
                        help='source layout (default: detected from the keys)')
    parser.add_argument('--num-heads', type=int,
                        help='ViT attention heads, where the weights do not '
                        'record them (no relative position table)')
    parser.add_argument(
        '--fill-identity', action='store_true',
        help='ViT without layer scale / relative position bias (MAE, timm, '
        'torchvision): add layer scales of 1 and relative position tables '
        'of 0 (the same function) so the weights load into backbones that '
        'have them (our A2MIM ViT configs)')
    parser.add_argument('--allow-pickle', action='store_true',
                        help='let the loader build non-tensor Python objects '
                        '(e.g. microsoft/SimMIM\'s training config); only '
                        'for files you trust')
    parser.add_argument(
        '--config', help='downstream or pre-training config whose '
        'model.backbone the weights are converted into and checked against '
        'strictly (keys and shapes); gives the heads and the identity layer '
        'scales / relative position tables to add')
    parser.add_argument('--no-verify', action='store_true',
                        help='skip building the backbone and loading the '
                        'result strictly')
    args = parser.parse_args(argv)
    try:
        result = import_checkpoint(
            args.src, args.dst, format=args.format, num_heads=args.num_heads,
            fill_identity=args.fill_identity, allow_pickle=args.allow_pickle,
            verify=not args.no_verify, config=args.config)
    except (LayoutError, FileNotFoundError, RuntimeError) as err:
        # RuntimeError: the named backbone does not load the result strictly
        print(f'error: {err}', file=sys.stderr)
        return 2
    print(result.summary())
    return 0


if __name__ == '__main__':
    sys.exit(main())
