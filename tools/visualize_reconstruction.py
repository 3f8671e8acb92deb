"""Save a PNG grid of original / masked input / reconstruction for a MIM model.

    python tools/visualize_reconstruction.py CONFIG CHECKPOINT IMAGE_OR_DIR \
        [--out recon.png] [--num 4] [--seed 0] [--cfg-options k=v ...]

Images are resized to the mask generator's input size; the mask is drawn
with the config's block size on the backbone's masked grid. For A2MIM the
last column shows the frequency-domain error (log |FFT(pred) - FFT(target)|).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from _mim_plugins_cli import quiet_upstream_warnings  # noqa: E402

quiet_upstream_warnings()

from mmengine.config import Config, DictAction  # noqa: E402

from mim_plugins.apis import visualize_reconstruction  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('images', help='an image file or a folder of images')
    parser.add_argument('--out', default='reconstruction.png')
    parser.add_argument('--num', type=int, default=4)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    out = visualize_reconstruction(cfg, args.checkpoint, args.images,
                                   args.out, num=args.num, seed=args.seed)
    print(f'saved {out}')
    return out


if __name__ == '__main__':
    main()
