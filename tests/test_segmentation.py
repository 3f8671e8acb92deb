"""Pre-training checkpoints into mmseg UperNet and FCN, ADE20K-format data."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from helpers import ROOT, load_tool
from mim_plugins.apis import build_model_from_cfg
from mim_plugins.reproduce.synthetic import make_segmentation_folder
from mim_plugins.engine import adapt_cfg_to_device
from mim_plugins.engine.pretrained_check import (check_loaded_values,
                                                 check_pretrained)
train_tool = load_tool('train')
from mim_plugins.reproduce.tiny import tiny_segmentation
from transfer_utils import pretrain

CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs/segmentation/*/*.py')))


def _source(path):
    method = osp.basename(osp.dirname(path))
    name = osp.basename(path)
    kind = next((k for k in ('vit', 'convnext', 'swin')
                 if f'_{k}-' in name), 'resnet')
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


def _tiny_cfg(path, ckpt, ade='data/unused', work_dir=None):
    cfg = Config.fromfile(path)
    adapt_cfg_to_device(cfg)
    tiny_segmentation(cfg, ckpt, ade, iters=4, batch_size=2)
    head = cfg.model.decode_head
    if head.type == 'FCNHead':  # one level (the last) instead of UperNet's 4
        head.in_channels = head.in_channels[head.in_index]
    cfg.work_dir = work_dir
    return cfg


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_pretrain_checkpoint_loads_into_segmentor(path, checkpoints):
    ckpt = checkpoints[_source(path)]
    cfg = _tiny_cfg(path, ckpt)
    model = build_model_from_cfg(cfg)
    assert type(model).__name__ == 'EncoderDecoder'
    hook = next(h for h in cfg.custom_hooks
                if h.type == 'PretrainedCheckHook')
    reports = check_pretrained(model, hook.get('allow_missing', ()))
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
    # the paper's R50 protocol: FCN on a dilated ResNet
    'a2mim/fcn_resnet50-d8_a2mim-pre_8xb2-amp-160k_ade20k-512x512.py',
    # ConvNeXt (stage-wise lr decay) and Swin from mmpretrain in mmseg
    'a2mim/upernet_convnext-base_a2mim-pre_8xb2-amp-160k_ade20k-512x512.py',
    'a2mim/upernet_swin-base_a2mim-pre_8xb2-160k_ade20k-512x512.py',
])
def test_segmentor_trains_and_evaluates(name, checkpoints, ade_data, tmp_path):
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
