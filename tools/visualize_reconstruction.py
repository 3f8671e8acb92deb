"""Save a PNG grid of original / masked input / reconstruction for a MIM model.

    python tools/visualize_reconstruction.py CONFIG CHECKPOINT IMAGE_OR_DIR \
        [--out recon.png] [--num 4] [--seed 0] [--cfg-options k=v ...]

Images are resized to the mask generator's input size; the mask is drawn
with the config's block size on the backbone's masked grid. For A2MIM the
last column shows the frequency-domain error (log |FFT(pred) - FFT(target)|).
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np
from mmengine.config import Config, DictAction
from PIL import Image

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mim_plugins.apis import load_pretrain_model  # noqa: E402
from mim_plugins.visualization import (reconstruct_batch,  # noqa: E402
                                       save_reconstruction_grid)


def find_mask_generator(cfg: Config) -> dict:
    for t in cfg.train_dataloader.dataset.get('pipeline', []):
        if 'MaskGenerator' in t.get('type', ''):
            return t
    return dict(input_size=224, mask_patch_size=32)


def list_images(path: str, num: int):
    if osp.isfile(path):
        return [path]
    files = []
    for root, _, names in sorted(os.walk(path)):
        files += [osp.join(root, n) for n in sorted(names)
                  if n.lower().endswith(('.png', '.jpg', '.jpeg', '.bmp'))]
    if not files:
        raise FileNotFoundError(f'No images under {path}.')
    # spread the picks over the folder (e.g. one per class)
    idx = np.linspace(0, len(files) - 1, num).round().astype(int)
    return [files[i] for i in idx]


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
    gen = find_mask_generator(cfg)
    size = gen['input_size']
    model = load_pretrain_model(cfg, args.checkpoint)
    images = [
        np.asarray(Image.open(f).convert('RGB').resize((size, size),
                                                       Image.BICUBIC))
        for f in list_images(args.images, args.num)
    ]
    result = reconstruct_batch(
        model, images, mask_patch_size=gen['mask_patch_size'], seed=args.seed)
    title = f'{cfg.model.type} {cfg.model.backbone.type}: ' + \
        osp.basename(args.checkpoint)
    save_reconstruction_grid(result, args.out, title=title,
                             with_frequency=cfg.model.type == 'A2MIM')
    print(f'saved {args.out}')
    return args.out


if __name__ == '__main__':
    main()
