"""Pre-training checkpoints into mmdet Mask R-CNN on a COCO-format set."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from conftest import ROOT
from mim_plugins.apis import build_model_from_cfg
from mim_plugins.datasets import make_coco_instances
from mim_plugins.engine import adapt_cfg_to_device
from mim_plugins.engine.pretrained_check import (check_loaded_values,
                                                 check_pretrained)
from tools import train as train_tool
from transfer_utils import pretrain, shrink_backbone

CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs/detection/*/*.py')))
CLASSES = ('circle', 'square', 'triangle', 'cross')


def _source(path):
    method = osp.basename(osp.dirname(path))
    name = osp.basename(path)
    kind = 'vit' if '_vit-' in name else \
        ('resnet_c4' if '-c4_' in name else 'resnet')
    return f'{method}_{kind}'


@pytest.fixture(scope='module')
def checkpoints(demo_data, tmp_path_factory):
    work = tmp_path_factory.mktemp('pretrain')
    out = {}
    for n in sorted({_source(p) for p in CONFIGS}):
        base = 64 if n.endswith('_c4') else None  # mmdet's ResLayer is 64-wide
        out[n] = pretrain(n.replace('_c4', ''), demo_data, str(work / n),
                          resnet_base=base)
    return out


@pytest.fixture(scope='module')
def coco_data(tmp_path_factory):
    return make_coco_instances(str(tmp_path_factory.mktemp('coco')),
                               num_train=8, num_val=4, size=128)


def _shrink(cfg, kind):
    m, c = cfg.model, 32
    if kind.endswith('vit'):
        ch = shrink_backbone(m.backbone)
        m.backbone.img_size = (128, 128)
        m.backbone.out_indices = (1, )
        m.neck.update(backbone_channel=ch, in_channels=[16, 32, 64, 64],
                      out_channels=c)
        # the tiny ViT has 8-px patches: every level has half the stride
        m.rpn_head.anchor_generator.strides = [2, 4, 8, 16, 32]
        for key in ('bbox_roi_extractor', 'mask_roi_extractor'):
            m.roi_head[key].featmap_strides = [2, 4, 8, 16]
        m.data_preprocessor.batch_augments[0].size = (128, 128)
    elif kind.endswith('c4'):
        m.backbone.depth = 18
        m.roi_head.shared_head.depth = 18
        m.rpn_head.update(in_channels=256, feat_channels=64)
        m.roi_head.bbox_roi_extractor.out_channels = 256
        m.roi_head.bbox_head.in_channels = 512
        m.roi_head.mask_head.update(in_channels=512, conv_out_channels=32)
    else:
        shrink_backbone(m.backbone)
        m.neck.update(in_channels=[16, 32, 64, 128], out_channels=c)
    if not kind.endswith('c4'):
        m.rpn_head.update(in_channels=c, feat_channels=c)
        m.roi_head.bbox_roi_extractor.out_channels = c
        m.roi_head.mask_roi_extractor.out_channels = c
        m.roi_head.bbox_head.update(in_channels=c, fc_out_channels=64)
        m.roi_head.mask_head.update(in_channels=c, conv_out_channels=c)
    m.roi_head.bbox_head.num_classes = len(CLASSES)
    m.roi_head.mask_head.num_classes = len(CLASSES)


def _tiny_cfg(path, ckpt, coco=None, work_dir=None):
    cfg = Config.fromfile(path)
    adapt_cfg_to_device(cfg)
    _shrink(cfg, _source(path))
    for init in (cfg.model.backbone.init_cfg,
                 cfg.model.roi_head.get('shared_head', {}).get('init_cfg')):
        if init:
            init.checkpoint = ckpt
    if coco is not None:
        for loader, split in (('train_dataloader', 'train'),
                              ('val_dataloader', 'val'),
                              ('test_dataloader', 'val')):
            dl = cfg[loader]
            ds = dl.dataset.get('dataset', dl.dataset)
            pipeline = ds.pipeline
            for t in pipeline:
                if t.type in ('RandomResize', 'Resize'):
                    t.scale = (128, 128)
                if t.type == 'RandomChoiceResize':
                    t.scales = [(160, 96), (160, 128)]
                if t.type == 'RandomCrop':
                    t.crop_size = (128, 128)
            dl.update(batch_size=2, num_workers=0, persistent_workers=False)
            dl.dataset = dict(
                type='CocoDataset', data_root=coco,
                ann_file=f'annotations/instances_{split}.json',
                data_prefix=dict(img=f'{split}/'),
                metainfo=dict(classes=CLASSES),
                test_mode=split == 'val', pipeline=pipeline)
        for key in ('val_evaluator', 'test_evaluator'):
            cfg[key] = dict(type='CocoMetric', metric=['bbox', 'segm'],
                            ann_file=osp.join(coco, 'annotations',
                                              'instances_val.json'))
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=4,
                             val_interval=4)
        cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0,
                                    by_epoch=False, begin=0, end=4)]
        cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                            by_epoch=False, interval=4)
        cfg.default_hooks.logger.interval = 1
        cfg.work_dir = work_dir
    return cfg


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_pretrain_checkpoint_loads_into_mask_rcnn(path, checkpoints):
    ckpt = checkpoints[_source(path)]
    model = build_model_from_cfg(_tiny_cfg(path, ckpt))
    assert type(model).__name__ == 'MaskRCNN'
    reports = check_pretrained(model)
    model.init_weights()
    check_loaded_values(model, reports)
    pre = torch.load(ckpt, map_location='cpu')['state_dict']
    modules = [('backbone.', model.backbone)]
    if 'c4' in _source(path):  # stage 4 lives in the RoI head
        assert set(reports) == {'backbone', 'roi_head.shared_head'}
        modules.append(('backbone.', model.roi_head.shared_head))
    for prefix, module in modules:
        own = module.state_dict()
        same = [k for k in own if prefix + k in pre
                and own[k].shape == pre[prefix + k].shape]
        assert len(same) > 0.8 * len(own)
        for k in same:
            torch.testing.assert_close(own[k], pre[prefix + k], msg=k)


@pytest.mark.parametrize('name', [
    'a2mim/mask-rcnn_resnet50-fpn_a2mim-pre_8xb2-2x_coco.py',
    'a2mim/mask-rcnn_vit-base-p16-sfpn_a2mim-pre_8xb2-amp-lsj-100e_coco.py',
])
def test_mask_rcnn_trains_and_evaluates(name, checkpoints, coco_data,
                                        tmp_path):
    path = osp.join(ROOT, 'configs/detection', name)
    cfg = _tiny_cfg(path, checkpoints[_source(path)], coco_data,
                    str(tmp_path))
    runner = train_tool.build_runner(cfg)
    runner.train()
    for metric in ('val/coco/bbox_mAP', 'val/coco/segm_mAP'):
        value = runner.message_hub.get_scalar(metric).current()
        assert 0 <= value <= 1
    if 'vit' in name:  # layer-wise lr decay on a MaskRCNN
        groups = runner.optim_wrapper.optimizer.param_groups
        scales = {g['param_name']: g['lr_scale'] for g in groups}
        assert scales['backbone.layers.1.ffn.layers.1.weight'] > \
            scales['backbone.patch_embed.projection.weight']
        assert scales['rpn_head.rpn_cls.weight'] == 1.0
