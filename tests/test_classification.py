"""Pre-training checkpoints into mmpretrain ImageNet fine-tuning configs."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from helpers import ROOT, load_tool
from mim_plugins.apis import build_model_from_cfg
from mim_plugins.engine import adapt_cfg_to_device
from mim_plugins.engine.pretrained_check import (check_loaded_values,
                                                 check_pretrained)
train_tool = load_tool('train')
from mim_plugins.reproduce.tiny import tiny_classification
from transfer_utils import pretrain

CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs/classification/*/*.py')))


#: SimMIM ViT-S/L follow openmixup's ViT (absolute position embedding and
#: relative position bias per layer), not microsoft/SimMIM's ViT-B
OPENMIXUP_VIT = dict(use_abs_pos_emb=True, use_rel_pos_bias=True,
                     use_shared_rel_pos_bias=False)


def _source(path):
    """Which tiny pre-training feeds a fine-tuning config."""
    method = osp.basename(osp.dirname(path))
    name = osp.basename(path)
    arch = name.split('-')[0].split('_')[0]
    kind = 'resnet' if arch.startswith('resnet') else arch
    assert kind in ('vit', 'resnet', 'swin', 'convnext'), path
    if method == 'simmim' and name.startswith(('vit-small', 'vit-large')):
        kind = 'vit_openmixup'
    return f'{method}_{kind}'


@pytest.fixture(scope='module')
def checkpoints(demo_data, tmp_path_factory):
    work = tmp_path_factory.mktemp('pretrain')
    names = sorted({_source(p) for p in CONFIGS})
    return {n: pretrain(n.replace('_openmixup', ''), demo_data, str(work / n),
                        backbone=OPENMIXUP_VIT if 'openmixup' in n else None)
            for n in names}


def _tiny_cfg(path, ckpt, demo_data='data/unused', work_dir=None):
    cfg = Config.fromfile(path)
    adapt_cfg_to_device(cfg)
    tiny_classification(cfg, ckpt, demo_data, iters=8)
    cfg.work_dir = work_dir
    return cfg


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_pretrain_checkpoint_loads_completely(path, checkpoints):
    ckpt = checkpoints[_source(path)]
    cfg = _tiny_cfg(path, ckpt)
    init_default_scope('mmpretrain')
    model = build_model_from_cfg(cfg)
    hooks = [h for h in cfg.custom_hooks if h.type == 'PretrainedCheckHook']
    assert hooks, 'every fine-tuning config guards its pre-trained load'
    reports = check_pretrained(model, hooks[0].get('allow_missing', ()))
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
    'a2mim/vit-small-p16_a2mim-pre_8xb128-amp-coslr-200e_in1k.py',
    'a2mim/resnet50_a2mim-pre_8xb256-rsb-a3-100e_in1k.py',
    'simmim/swin-base-w7_simmim-pre_8xb256-coslr-100e_in1k.py',
    # the paper's other recipes: EMA, repeated augmentation and gradient
    # accumulation (ViT-L), RSB A2 on deeper ResNets, Swin-B 800 epochs
    'a2mim/vit-large-p16_a2mim-pre_8xb64-accu2-amp-coslr-150e_in1k.py',
    'simmim/vit-small-p16_simmim-pre_8xb128-amp-coslr-100e_in1k.py',
    'a2mim/resnet101_a2mim-pre_8xb256-rsb-a2-300e_in1k.py',
    'simmim/swin-base-w7_simmim-pre-800e_8xb256-coslr-100e_in1k.py',
    # ConvNeXt (AdamW, EMA, gradient accumulation)
    'a2mim/convnext-small_a2mim-pre_8xb256-accu2-amp-coslr-300e_in1k.py',
])
def test_fine_tune_trains_and_evaluates(name, checkpoints, demo_data,
                                        tmp_path):
    path = osp.join(ROOT, 'configs/classification', name)
    cfg = _tiny_cfg(path, checkpoints[_source(path)], demo_data,
                    str(tmp_path))
    runner = train_tool.build_runner(cfg)
    runner.train()
    top1 = runner.message_hub.get_scalar('val/accuracy/top1').current()
    assert 0 <= top1 <= 100
    assert osp.exists(tmp_path / 'iter_8.pth')


def test_wrong_prefix_stops_fine_tuning(checkpoints, demo_data, tmp_path):
    path = osp.join(ROOT, 'configs/classification/a2mim/'
                    'resnet50_a2mim-pre_8xb256-rsb-a3-100e_in1k.py')
    cfg = _tiny_cfg(path, checkpoints['a2mim_resnet'], demo_data,
                    str(tmp_path))
    cfg.model.backbone.init_cfg.prefix = 'encoder.'
    runner = train_tool.build_runner(cfg)
    with pytest.raises(RuntimeError, match='refusing a partial load'):
        runner.train()
