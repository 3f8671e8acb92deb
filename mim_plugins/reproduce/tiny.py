"""Shrink full downstream recipes to tiny models on the generated data
(demo, tests).

The same full config a user runs on ImageNet/COCO/ADE20K, with a tiny
backbone and heads, small images and the synthetic data sets. The backbone
shapes are the tiny pre-trainings' (:mod:`mim_plugins.utils.tiny`, which
the ``configs/pretrain/*/*_demo.py`` configs import too), so their
checkpoints load without key surgery; this module adds what only the
downstream tasks need (heads, necks, data sets, schedules).
"""
from typing import Optional

from mmengine.config import Config

from ..utils.tiny import (IMG_SIZE, family, shrink_backbone,
                          shrink_pipeline, stage_channels)
from .synthetic import CLASSES

__all__ = ['HEAVY_AUGMENTS', 'shrink_backbone', 'shrink_pipeline',
           'stretch_iters', 'tiny_classification', 'tiny_detection',
           'tiny_segmentation']


def stretch_iters(cfg: Config, iters: int) -> Config:
    """Stretch an iteration-based tiny config (and its schedule) to
    ``iters`` iterations."""
    scale = iters / cfg.train_cfg.max_iters
    cfg.train_cfg.max_iters = iters
    for sched in cfg.param_scheduler:
        for key in ('begin', 'end'):
            if key in sched:
                sched[key] = int(round(sched[key] * scale))
        if 'milestones' in sched:
            sched['milestones'] = [int(round(m * scale))
                                   for m in sched['milestones']]
    cfg.default_hooks.checkpoint.interval = max(iters // 2, 1)
    cfg.default_hooks.logger.interval = max(iters // 20, 1)
    return cfg


def _iter_schedule(cfg: Config, iters: int, val_interval: int) -> None:
    # an EMA tuned for ~10^5 iterations would still be the initial weights:
    # keep its horizon at a quarter of the short run
    for hook in cfg.get('custom_hooks', []):
        if hook.get('type') == 'EMAHook':
            hook['momentum'] = min(
                0.5, max(hook.get('momentum', 2e-4), 4.0 / iters))
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=val_interval)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
             end=max(iters // 10, 1)),
        dict(type='CosineAnnealingLR', by_epoch=False,
             begin=max(iters // 10, 1), end=iters, eta_min=0.)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=val_interval,
                                        max_keep_ckpts=1)
    cfg.default_hooks.logger = dict(type='LoggerHook',
                                    interval=max(iters // 20, 1))
    cfg.log_processor = dict(by_epoch=False)
    cfg.pop('auto_scale_lr', None)


def _sampler(loader: str) -> dict:
    """Training draws from an endless shuffled stream: mmengine restarts a
    finite loader after every pass with a 2-second pause, which on a few
    dozen images would double a short run. Evaluation passes once."""
    if loader == 'train_dataloader':
        return dict(type='InfiniteSampler', shuffle=True)
    return dict(type='DefaultSampler', shuffle=False)


#: augmentations that regularise ImageNet-scale training and only slow a
#: few hundred iterations on a few hundred images down
HEAVY_AUGMENTS = ('RandAugment', 'AutoAugment', 'RandomErasing',
                  'ColorJitter')


def tiny_classification(cfg: Config, ckpt: Optional[str], data_root: str,
                        iters: int = 100, batch_size: int = 8,
                        val_interval: Optional[int] = None,
                        vit_layers: int = 2, lr: Optional[float] = None,
                        light: bool = False, workers: int = 0) -> Config:
    """An mmpretrain fine-tuning config on the generated image folder.

    ``light=True`` drops mixup/cutmix (and so BCE for cross-entropy) and the
    heavy augmentations (:data:`HEAVY_AUGMENTS`), crops 50-100% of the
    image instead of 8-100%, and ``lr`` replaces the recipe's learning rate
    (tuned for batch 1024-2048): what a few hundred iterations need.
    """
    channels = shrink_backbone(cfg.model.backbone, vit_layers=vit_layers)
    if light:
        cfg.model.train_cfg = None
        if cfg.model.head.get('loss', {}).get('use_sigmoid'):
            # BCE expects mixup's soft labels
            cfg.model.head.loss = dict(type='CrossEntropyLoss',
                                       loss_weight=1.0)
    if lr is not None:
        cfg.optim_wrapper.optimizer.lr = lr
    if ckpt is not None:
        cfg.model.backbone.init_cfg.checkpoint = ckpt
    cfg.model.head.in_channels = channels
    cfg.model.head.num_classes = len(CLASSES)
    cfg.data_preprocessor.num_classes = len(CLASSES)
    for split, loader in (('train', 'train_dataloader'),
                          ('val', 'val_dataloader'),
                          ('val', 'test_dataloader')):
        dl = cfg[loader]
        dl.update(batch_size=batch_size, num_workers=workers,
                  persistent_workers=workers > 0)
        pipeline = shrink_pipeline(dl.dataset.pipeline)
        if light:
            pipeline = [t for t in pipeline if t.type not in HEAVY_AUGMENTS]
            for t in pipeline:
                if t.type == 'RandomResizedCrop':  # keep the object in view
                    t.crop_ratio_range = (0.5, 1.0)
        dl.dataset = dict(type='CustomDataset', data_root=data_root,
                          data_prefix=split, pipeline=pipeline)
        dl.sampler = _sampler(loader)
    cfg.val_evaluator = dict(type='Accuracy', topk=(1, ))
    cfg.test_evaluator = cfg.val_evaluator
    _iter_schedule(cfg, iters, val_interval or iters)
    return cfg


def _source_kind(cfg: Config) -> str:
    if 'ViT' in cfg.model.backbone.type:
        return 'vit'
    return 'c4' if 'shared_head' in cfg.model.roi_head else 'resnet'


def tiny_detection(cfg: Config, ckpt: Optional[str], data_root: str,
                   iters: int = 100, batch_size: int = 2, size: int = 128,
                   val_interval: Optional[int] = None,
                   vit_layers: int = 2) -> Config:
    """An mmdet Mask R-CNN config on the generated COCO-format set."""
    m, c, kind = cfg.model, 32, _source_kind(cfg)
    if kind == 'vit':
        ch = shrink_backbone(m.backbone, vit_layers=vit_layers)
        m.backbone.img_size = (size, size)
        m.backbone.out_indices = (vit_layers - 1, )
        # SimpleFPN's four levels from the one map: 1/4, 1/2, 1, 1 its width
        m.neck.update(backbone_channel=ch,
                      in_channels=[ch // 4, ch // 2, ch, ch], out_channels=c)
        # the tiny ViT has 8-px patches: every level has half the stride
        m.rpn_head.anchor_generator.strides = [2, 4, 8, 16, 32]
        for key in ('bbox_roi_extractor', 'mask_roi_extractor'):
            m.roi_head[key].featmap_strides = [2, 4, 8, 16]
        m.data_preprocessor.batch_augments[0].size = (size, size)
    elif kind == 'c4':  # mmdet's ResLayer is 64 channels wide
        m.backbone.depth = 18
        m.roi_head.shared_head.depth = 18
        m.rpn_head.update(in_channels=256, feat_channels=64)
        m.roi_head.bbox_roi_extractor.out_channels = 256
        m.roi_head.bbox_head.in_channels = 512
        m.roi_head.mask_head.update(in_channels=512, conv_out_channels=32)
    else:
        shrink_backbone(m.backbone)
        m.neck.update(in_channels=stage_channels(family(m.backbone.type)),
                      out_channels=c)
    if kind != 'c4':
        m.rpn_head.update(in_channels=c, feat_channels=c)
        m.roi_head.bbox_roi_extractor.out_channels = c
        m.roi_head.mask_roi_extractor.out_channels = c
        # conv_out_channels: the shared convs of a 4conv1fc head
        m.roi_head.bbox_head.update(in_channels=c, fc_out_channels=64,
                                    conv_out_channels=c)
        m.roi_head.mask_head.update(in_channels=c, conv_out_channels=c)
    # a few objects per small image: a few dozen RoIs, not COCO's 512
    m.train_cfg.rpn_proposal.max_per_img = 64
    m.train_cfg.rcnn.sampler.num = 64
    m.test_cfg.rpn.max_per_img = 64
    m.roi_head.bbox_head.num_classes = len(CLASSES)
    m.roi_head.mask_head.num_classes = len(CLASSES)
    for init in (m.backbone.get('init_cfg'),
                 m.roi_head.get('shared_head', {}).get('init_cfg')):
        if init and ckpt is not None:
            init.checkpoint = ckpt
    for loader, split in (('train_dataloader', 'train'),
                          ('val_dataloader', 'val'),
                          ('test_dataloader', 'val')):
        dl = cfg[loader]
        ds = dl.dataset.get('dataset', dl.dataset)
        pipeline = ds.pipeline
        for t in pipeline:
            if t.type in ('RandomResize', 'Resize'):
                t.scale = (size, size)
            if t.type == 'RandomChoiceResize':
                t.scales = [(size * 5 // 4, size * 3 // 4), (size * 5 // 4,
                                                             size)]
            if t.type == 'RandomCrop':
                t.crop_size = (size, size)
        dl.update(batch_size=batch_size if split == 'train' else 1,
                  num_workers=0, persistent_workers=False,
                  sampler=_sampler(loader))
        dl.dataset = dict(
            type='CocoDataset', data_root=data_root,
            ann_file=f'annotations/instances_{split}.json',
            data_prefix=dict(img=f'{split}/'),
            metainfo=dict(classes=CLASSES),
            test_mode=split == 'val', pipeline=pipeline)
    for key in ('val_evaluator', 'test_evaluator'):
        cfg[key] = dict(type='CocoMetric', metric=['bbox', 'segm'],
                        ann_file=f'{data_root}/annotations/instances_val.json')
    _iter_schedule(cfg, iters, val_interval or iters)
    return cfg


def tiny_segmentation(cfg: Config, ckpt: Optional[str], data_root: str,
                      iters: int = 100, batch_size: int = 4,
                      vit_layers: int = 4,
                      val_interval: Optional[int] = None,
                      lr: Optional[float] = None) -> Config:
    """An mmseg UperNet config on the generated ADE20K-format set.

    A ViT needs four layers here (``vit_layers``): UperNet takes four levels.
    ``lr`` replaces the recipe's learning rate.
    """
    if lr is not None:
        cfg.optim_wrapper.optimizer.lr = lr
    m = cfg.model
    name = family(m.backbone.type)
    shrink_backbone(m.backbone, vit_layers=vit_layers)
    stages = stage_channels(name)
    if name == 'vit':  # the last four layers, made a pyramid by the neck
        m.backbone.out_indices = tuple(range(vit_layers))[-4:]
        m.neck.embed_dim = stages[-1]
    m.decode_head.in_channels = stages
    m.auxiliary_head.in_channels = stages[2]
    m.decode_head.channels = 32
    m.auxiliary_head.channels = 16
    m.decode_head.num_classes = len(CLASSES)
    m.auxiliary_head.num_classes = len(CLASSES)
    m.data_preprocessor.size = (IMG_SIZE, IMG_SIZE)
    m.test_cfg = dict(mode='whole')
    if ckpt is not None:
        m.backbone.init_cfg.checkpoint = ckpt
    palette = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]]
    for loader, split in (('train_dataloader', 'training'),
                          ('val_dataloader', 'validation'),
                          ('test_dataloader', 'validation')):
        dl = cfg[loader]
        pipeline = dl.dataset.pipeline
        for t in pipeline:
            if t.type in ('RandomResize', 'Resize'):
                t.scale = (4 * IMG_SIZE, IMG_SIZE)
            if t.type == 'RandomCrop':
                t.crop_size = (IMG_SIZE, IMG_SIZE)
        dl.update(batch_size=batch_size if split == 'training' else 1,
                  num_workers=0, persistent_workers=False,
                  sampler=_sampler(loader))
        dl.dataset = dict(
            type='BaseSegDataset', data_root=data_root,
            data_prefix=dict(img_path=f'images/{split}',
                             seg_map_path=f'annotations/{split}'),
            img_suffix='.png', seg_map_suffix='.png', reduce_zero_label=True,
            metainfo=dict(classes=CLASSES, palette=palette),
            pipeline=pipeline)
    _iter_schedule(cfg, iters, val_interval or iters)
    return cfg
