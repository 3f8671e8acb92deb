"""Pre-training checkpoints into mmseg UperNet on an ADE20K-format set."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from conftest import ROOT
from mim_plugins.apis import build_model_from_cfg
from mim_plugins.datasets import make_segmentation_folder
from mim_plugins.engine import adapt_cfg_to_device
from mim_plugins.engine.pretrained_check import (check_loaded_values,
                                                 check_pretrained)
from tools import train as train_tool
from transfer_utils import pretrain, shrink_backbone

CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs/segmentation/*/*.py')))
CLASSES = ('circle', 'square', 'triangle', 'cross')


def _source(path):
    method = osp.basename(osp.dirname(path))
    kind = 'vit' if '_vit-' in osp.basename(path) else 'resnet'
    return f'{method}_{kind}'


@pytest.fixture(scope='module')
def checkpoints(demo_data, tmp_path_factory):
    work = tmp_path_factory.mktemp('pretrain')
    names = sorted({_source(p) for p in CONFIGS})
    return {n: pretrain(n, demo_data, str(work / n), vit_layers=4)
            for n in names}


@pytest.fixture(scope='module')
def ade_data(tmp_path_factory):
    return make_segmentation_folder(str(tmp_path_factory.mktemp('ade')),
                                    num_train=8, num_val=4)


def _shrink(cfg):
    m = cfg.model
    channels = shrink_backbone(m.backbone, vit_layers=4)
    if 'ViT' in m.backbone.type:
        m.backbone.out_indices = (0, 1, 2, 3)
        m.neck.embed_dim = channels
        m.decode_head.in_channels = [channels] * 4
        m.auxiliary_head.in_channels = channels
    else:
        m.backbone.depth = 18
        m.decode_head.in_channels = [16, 32, 64, 128]
        m.auxiliary_head.in_channels = 64
    m.decode_head.channels = 32
    m.auxiliary_head.channels = 16
    m.decode_head.num_classes = len(CLASSES)
    m.auxiliary_head.num_classes = len(CLASSES)
    m.data_preprocessor.size = (64, 64)
    m.test_cfg = dict(mode='whole')


def _tiny_cfg(path, ckpt, ade=None, work_dir=None):
    cfg = Config.fromfile(path)
    adapt_cfg_to_device(cfg)
    _shrink(cfg)
    cfg.model.backbone.init_cfg.checkpoint = ckpt
    if ade is not None:
        for loader, split in (('train_dataloader', 'training'),
                              ('val_dataloader', 'validation'),
                              ('test_dataloader', 'validation')):
            dl = cfg[loader]
            pipeline = dl.dataset.pipeline
            for t in pipeline:
                if t.type in ('RandomResize', 'Resize'):
                    t.scale = (256, 64)
                if t.type == 'RandomCrop':
                    t.crop_size = (64, 64)
            dl.update(batch_size=2, num_workers=0, persistent_workers=False)
            dl.dataset = dict(
                type='BaseSegDataset', data_root=ade,
                data_prefix=dict(img_path=f'images/{split}',
                                 seg_map_path=f'annotations/{split}'),
                img_suffix='.png', seg_map_suffix='.png',
                reduce_zero_label=True,
                metainfo=dict(classes=CLASSES,
                              palette=[[255, 0, 0], [0, 255, 0], [0, 0, 255],
                                       [255, 255, 0]]),
                pipeline=pipeline)
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
def test_pretrain_checkpoint_loads_into_upernet(path, checkpoints):
    ckpt = checkpoints[_source(path)]
    cfg = _tiny_cfg(path, ckpt)
    model = build_model_from_cfg(cfg)
    assert type(model).__name__ == 'EncoderDecoder'
    reports = check_pretrained(model)
    model.init_weights()
    check_loaded_values(model, reports)
    pre = torch.load(ckpt, map_location='cpu')['state_dict']
    own = model.backbone.state_dict()
    same = [k for k in own if 'backbone.' + k in pre
            and own[k].shape == pre['backbone.' + k].shape]
    assert len(same) > 0.8 * len(own)
    for k in same:
        torch.testing.assert_close(own[k], pre['backbone.' + k], msg=k)


@pytest.mark.parametrize('name', [
    'a2mim/upernet_vit-base-p16_a2mim-pre_8xb2-amp-160k_ade20k-512x512.py',
    'a2mim/upernet_resnet50_a2mim-pre_8xb2-160k_ade20k-512x512.py',
])
def test_upernet_trains_and_evaluates(name, checkpoints, ade_data, tmp_path):
    path = osp.join(ROOT, 'configs/segmentation', name)
    cfg = _tiny_cfg(path, checkpoints[_source(path)], ade_data,
                    str(tmp_path))
    runner = train_tool.build_runner(cfg)
    runner.train()
    miou = runner.message_hub.get_scalar('val/mIoU').current()
    assert 0 <= miou <= 100
    if 'vit' in name:  # layer-wise lr decay on an EncoderDecoder
        groups = runner.optim_wrapper.optimizer.param_groups
        scales = {g['param_name']: g['lr_scale'] for g in groups}
        assert scales['backbone.layers.3.ffn.layers.1.weight'] > \
            scales['backbone.layers.0.ffn.layers.1.weight'] > \
            scales['backbone.patch_embed.projection.weight']
        assert scales['decode_head.conv_seg.weight'] == 1.0
