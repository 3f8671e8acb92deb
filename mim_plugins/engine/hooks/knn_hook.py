"""Online k-NN monitor of the representation during pre-training."""
import copy
import os.path as osp
from typing import Optional

from mmengine.hooks import Hook

from mmpretrain.registry import HOOKS
from ..knn import extract_features, knn_top1


@HOOKS.register_module()
class KNNMonitorHook(Hook):
    """k-NN top-1 of the backbone's frozen features every N iterations.

    Embeds a labelled image folder (``train`` as the memory bank, ``val``
    as the queries) with the backbone alone, no mask, in eval mode, and
    logs the weighted k-NN top-1 (:func:`~mim_plugins.engine.knn.knn_top1`)
    as ``knn/top1`` in mmengine's scalars (``vis_data/scalars.json``,
    TensorBoard/W&B if configured) and as a curve ``knn_top1.png`` in the
    work dir. Runs before training (the initialisation's value), every
    ``interval`` iterations and after the last one. Under DDP every rank
    embeds its shard and the features are gathered.

    Switch it on in a pre-training config::

        custom_hooks = [dict(type='KNNMonitorHook', interval=5000,
                             data_root='data/imagenet',
                             train_ann_file='meta/train_10pc.txt',
                             val_ann_file='meta/val.txt')]

    Args:
        data_root (str): Image folder with ``train_prefix`` and
            ``val_prefix`` sub-folders (the ImageNet layout,
            mmpretrain's ``CustomDataset``).
        interval (int): Iterations between probes. Defaults to 1000.
        k (int): Neighbours. Defaults to 20.
        temperature (float): Vote temperature. Defaults to 0.07.
        img_size (int): Centre crop after resizing the short edge to
            ``img_size * 8 / 7``. Defaults to 224.
        train_prefix (str): Defaults to 'train'.
        val_prefix (str): Defaults to 'val'.
        train_ann_file (str): mmpretrain annotation file selecting a subset
            of the memory bank (e.g. 10 images per ImageNet class).
            Defaults to '' (the whole folder).
        val_ann_file (str): Defaults to ''.
        batch_size (int): Per rank. Defaults to 64.
        num_workers (int): Defaults to 2.
        dataset_type (str): Defaults to 'CustomDataset'.
    """

    priority = 'LOW'

    def __init__(self,
                 data_root: str,
                 interval: int = 1000,
                 k: int = 20,
                 temperature: float = 0.07,
                 img_size: int = 224,
                 train_prefix: str = 'train',
                 val_prefix: str = 'val',
                 train_ann_file: str = '',
                 val_ann_file: str = '',
                 batch_size: int = 64,
                 num_workers: int = 2,
                 dataset_type: str = 'CustomDataset') -> None:
        for prefix in (train_prefix, val_prefix):
            if not osp.isdir(osp.join(data_root, prefix)):
                raise FileNotFoundError(
                    f'KNNMonitorHook: {osp.join(data_root, prefix)} does not '
                    'exist. Point data_root at a labelled image folder with '
                    f'{train_prefix}/ and {val_prefix}/ sub-folders (one '
                    'folder per class), or remove the hook.')
        self.interval = interval
        self.k = k
        self.temperature = temperature
        pipeline = [
            dict(type='LoadImageFromFile'),
            dict(type='ResizeEdge', scale=int(round(img_size * 8 / 7)),
                 edge='short', backend='pillow', interpolation='bicubic'),
            dict(type='CenterCrop', crop_size=img_size),
            dict(type='PackInputs'),
        ]
        self.loaders = {
            split: dict(
                batch_size=batch_size, num_workers=num_workers,
                persistent_workers=False,
                sampler=dict(type='DefaultSampler', shuffle=False),
                # stacked: what mmpretrain's SelfSupDataPreprocessor expects
                collate_fn=dict(type='default_collate'),
                dataset=dict(type=dataset_type, data_root=data_root,
                             data_prefix=prefix, ann_file=ann,
                             pipeline=pipeline))
            for split, prefix, ann in (('train', train_prefix, train_ann_file),
                                       ('val', val_prefix, val_ann_file))}
        self.history = []
        self._last = None
        self._built = None

    def _probe(self, runner, step: int) -> Optional[float]:
        if self._last == step:
            return None
        from mmengine.runner import Runner
        if self._built is None:  # the data sets are read once, not per probe
            self._built = {
                split: Runner.build_dataloader(copy.deepcopy(cfg), seed=0,
                                               diff_rank_seed=False)
                for split, cfg in self.loaders.items()}
        feats = {split: extract_features(runner.model, loader)
                 for split, loader in self._built.items()}
        (tf, tl), (vf, vl) = feats['train'], feats['val']
        acc = knn_top1(tf, tl, vf, vl, k=self.k, temperature=self.temperature)
        self._last = step
        self.history.append((step, acc))
        runner.visualizer.add_scalars({'knn/top1': acc}, step=step)
        runner.logger.info(f'k-NN top-1 (k={self.k}) at iteration {step}: '
                           f'{acc:.2f}% ({len(tf)} train, {len(vf)} val '
                           'images)')
        self._plot(runner)
        return acc

    def _plot(self, runner) -> None:
        from mmengine.dist import is_main_process
        if not is_main_process():
            return
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.plot(*zip(*self.history), marker='o')
        ax.set_xlabel('iteration')
        ax.set_ylabel('k-NN top-1 (%)')
        fig.tight_layout()
        fig.savefig(osp.join(runner.work_dir, 'knn_top1.png'), dpi=100)
        plt.close(fig)

    def before_train(self, runner) -> None:
        self._probe(runner, runner.iter)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            self._probe(runner, runner.iter + 1)

    def after_train(self, runner) -> None:
        self._probe(runner, runner.iter)
