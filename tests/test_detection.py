"""Pre-training checkpoints into mmdet Mask R-CNN on a COCO-format set."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from helpers import ROOT, load_tool
from mim_plugins.apis import build_model_from_cfg
from mim_plugins.reproduce.synthetic import make_coco_instances
from mim_plugins.engine import adapt_cfg_to_device
from mim_plugins.engine.pretrained_check import (check_loaded_values,
                                                 check_pretrained)
train_tool = load_tool('train')
from mim_plugins.reproduce.tiny import tiny_detection
from transfer_utils import pretrain

CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs/detection/*/*.py')))


def _source(path):
    method = osp.basename(osp.dirname(path))
    name = osp.basename(path)
    kind = next((k for k in ('vit', 'convnext', 'swin')
                 if f'_{k}-' in name), None) or \
        ('resnet_c4' if '-c4_' in name else 'resnet')
    return f'{method}_{kind}'


#: ViT layers of the tiny models: the paper's ViT Mask R-CNN takes four
VIT_LAYERS = 4


@pytest.fixture(scope='module')
def checkpoints(demo_data, tmp_path_factory):
    work = tmp_path_factory.mktemp('pretrain')
    out = {}
    for n in sorted({_source(p) for p in CONFIGS}):
        base = 64 if n.endswith('_c4') else None  # mmdet's ResLayer is 64-wide
        out[n] = pretrain(n.replace('_c4', ''), demo_data, str(work / n),
                          resnet_base=base, vit_layers=VIT_LAYERS)
    return out


@pytest.fixture(scope='module')
def coco_data(tmp_path_factory):
    return make_coco_instances(str(tmp_path_factory.mktemp('coco')),
                               num_train=8, num_val=4, size=128)


def _tiny_multi_level(cfg, necks, backbone_type, size=128, c=32):
    """The paper's ViT + FPN Mask R-CNN made tiny after ``tiny_detection``
    (which knows the single-map SimpleFPN neck only): four levels from the
    tiny ViT, its pyramid and FPN at its width, the DETR-style
    augmentation at the tiny image size."""
    m = cfg.model
    m.backbone.update(type=backbone_type, img_size=64,  # the pre-training's
                      out_indices=tuple(range(VIT_LAYERS)))
    necks[0].embed_dims = m.backbone.arch.embed_dims
    necks[1].update(in_channels=[necks[0].embed_dims] * 4, out_channels=c)
    m.neck = necks
    m.data_preprocessor.pop('batch_augments')
    m.roi_head.bbox_head.conv_out_channels = c
    for t in cfg.train_dataloader.dataset.pipeline:
        for group in t.get('transforms', []):
            for step in group:
                if step.type == 'RandomChoiceResize':
                    step.scales = [(size * 2, size * 3 // 4), (size * 2, size)]
                if step.type == 'RandomCrop':
                    step.crop_size = (size // 2, size * 3 // 4)


def _tiny_cfg(path, ckpt, coco='data/unused', work_dir=None):
    cfg = Config.fromfile(path)
    adapt_cfg_to_device(cfg)
    necks = cfg.model.get('neck')
    multi_level = isinstance(necks, list)
    if multi_level:
        backbone_type = cfg.model.backbone.type
        cfg.model.backbone.type = 'mmpretrain.BEiTViT'
        cfg.model.neck = dict()
        cfg.model.data_preprocessor.batch_augments = [dict()]
    tiny_detection(cfg, ckpt, coco, iters=4, vit_layers=VIT_LAYERS)
    if multi_level:
        _tiny_multi_level(cfg, necks, backbone_type)
    # a few RoIs per image: the C4 head runs stage 4 on every one
    m = cfg.model
    m.train_cfg.rpn_proposal.max_per_img = 64
    m.train_cfg.rcnn.sampler.num = 32
    m.test_cfg.rpn.max_per_img = 64
    cfg.work_dir = work_dir
    return cfg


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_pretrain_checkpoint_loads_into_mask_rcnn(path, checkpoints):
    ckpt = checkpoints[_source(path)]
    cfg = _tiny_cfg(path, ckpt)
    model = build_model_from_cfg(cfg)
    assert type(model).__name__ == 'MaskRCNN'
    hook = next(h for h in cfg.custom_hooks
                if h.type == 'PretrainedCheckHook')
    reports = check_pretrained(model, hook.get('allow_missing', ()))
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
    # the paper's protocols: R50-C4 with ResLayerExtraNorm, ViT-B + FPN
    'a2mim/mask-rcnn_resnet50-c4_a2mim-pre_8xb2-ms-2x_coco.py',
    'a2mim/mask-rcnn_vit-base-p16-fpn_a2mim-pre_8xb2-1x_coco.py',
    # ConvNeXt (layer-wise lr decay) and Swin from mmpretrain in mmdet
    'a2mim/mask-rcnn_convnext-base-fpn_a2mim-pre_8xb2-amp-ms-crop-3x_coco.py',
    'a2mim/mask-rcnn_swin-base-fpn_a2mim-pre_8xb2-amp-ms-crop-3x_coco.py',
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
    if '-sfpn_' in name:  # ViTDet: layer-wise lr decay on a MaskRCNN
        groups = runner.optim_wrapper.optimizer.param_groups
        scales = {g['param_name']: g['lr_scale'] for g in groups}
        assert scales['backbone.layers.1.ffn.layers.1.weight'] > \
            scales['backbone.patch_embed.projection.weight']
        assert scales['rpn_head.rpn_cls.weight'] == 1.0
