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
from mim_plugins.reproduce.tiny import tiny_detection
from transfer_utils import pretrain

CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs/detection/*/*.py')))


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


def _tiny_cfg(path, ckpt, coco='data/unused', work_dir=None):
    cfg = Config.fromfile(path)
    adapt_cfg_to_device(cfg)
    tiny_detection(cfg, ckpt, coco, iters=4)
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
