"""The demo's table as a figure, and one reconstruction grid per method."""
import os
import os.path as osp
from typing import Dict, List

from . import demo

#: bar colours of the initialisations
COLOURS = {'scratch': '#9e9e9e', 'SimMIM': '#1f77b4', 'A2MIM': '#d62728'}


def plot_demo_table(rows: List[dict], path: str) -> str:
    """One panel per (task, backbone, metric) of the demo: the mean of each
    initialisation over seeds, its sample standard deviation as an error
    bar (none with one seed), the seeds under the bar and chance dashed."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = [r for r in rows if r.get('scale') == 'demo (CPU)']
    cells = []
    for r in rows:
        key = (r['task'], r['backbone'], r['metric'])
        if key not in cells:
            cells.append(key)
    cols = 4
    nrows = -(-len(cells) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(2.3 * cols, 2.3 * nrows),
                             squeeze=False)
    for ax, (task, backbone, metric) in zip(axes.flat, cells):
        group = {r['method']: r for r in rows if
                 (r['task'], r['backbone'], r['metric']) ==
                 (task, backbone, metric)}
        for i, init in enumerate(demo.INITS):
            r = group.get(init)
            if r is None or r.get('ours') is None:
                continue
            ax.bar(i, r['ours'], color=COLOURS[init], width=0.7,
                   yerr=r.get('std') or 0., capsize=3)
            ax.text(i, 0, f"n={r.get('seeds')}", ha='center', va='bottom',
                    fontsize=6, color='white')
        chance = next((r.get('chance') for r in group.values()
                       if r.get('chance') is not None), None)
        if chance is not None:
            ax.axhline(chance, ls='--', lw=0.8, color='k')
        ax.set_xticks(range(len(demo.INITS)))
        ax.set_xticklabels(demo.INITS, fontsize=7)
        ax.tick_params(axis='y', labelsize=7)
        short = backbone.split(' (')[0]
        ax.set_title(f'{short}: {task}\n{metric}', fontsize=8)
    for ax in list(axes.flat)[len(cells):]:
        ax.axis('off')
    fig.suptitle('Demo: mean over seeds (bars: sample std; dashed: chance)',
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)
    return path


def save_method_reconstructions(work_dir: str, done: Dict[str, dict],
                                images: str, out_dir: str,
                                num: int = 2) -> Dict[str, str]:
    """One PNG per method: the same ``num`` images (of the folder
    ``images``) reconstructed by its pre-trained ResNet and ViT, one row
    per image and backbone. Returns method -> path."""
    import numpy as np
    from mmengine.config import Config
    from PIL import Image

    from ..apis import find_mask_generator, list_images, load_pretrain_model
    from ..visualization import reconstruct_batch, save_reconstruction_grid
    os.makedirs(out_dir, exist_ok=True)
    files = list_images(images, num)
    out = {}
    for method in demo.METHODS:
        parts, labels = [], []
        for backbone in demo.BACKBONES:
            name = demo.pretrain_name(method, backbone)
            if name not in done or not done[name].get('checkpoint'):
                continue
            cfg = Config.fromfile(osp.join(work_dir, name, 'config.py'))
            gen = find_mask_generator(cfg)
            size = gen['input_size']
            arrays = [np.asarray(Image.open(f).convert('RGB').resize(
                (size, size), Image.BICUBIC)) for f in files]
            model = load_pretrain_model(cfg, done[name]['checkpoint'])
            parts.append(reconstruct_batch(
                model, arrays, mask_patch_size=gen['mask_patch_size']))
            labels += [demo.BACKBONES[backbone].split(' (')[0]] * len(files)
        if not parts:
            continue
        result = {k: np.concatenate([p[k] for p in parts])
                  for k in parts[0]}
        path = save_reconstruction_grid(
            result, osp.join(out_dir, f'demo_reconstruction_'
                             f'{method.lower()}.png'),
            title=f'{method} (demo pre-training)', with_frequency=False,
            row_labels=labels, dpi=60)
        # a small file for the README: 128 colours
        small = Image.open(path).convert('RGB').quantize(128)
        small.save(path, optimize=True)
        out[method] = path
    return out
