"""Helpers for the transfer tests: tiny pre-trainings and tiny overrides."""
import os.path as osp

from mmengine.config import Config

from conftest import TINY_CONFIGS
from tools import train as train_tool

TINY_VIT_ARCH = dict(embed_dims=64, num_layers=2, num_heads=2,
                     feedforward_channels=128)
TINY_SWIN_ARCH = dict(embed_dims=32, depths=[1, 1, 1, 1],
                      num_heads=[1, 1, 2, 2])


def pretrain(name, data_root, work_dir, iters=2, vit_layers=2,
             resnet_base=None):
    """Run a tiny pre-training; return its checkpoint."""
    cfg = Config.fromfile(TINY_CONFIGS[name])
    if resnet_base and 'ResNet' in cfg.model.backbone.type:
        cfg.model.backbone.update(stem_channels=resnet_base,
                                  base_channels=resnet_base)
        cfg.model.neck.in_channels = resnet_base * 8
    if isinstance(cfg.model.backbone.get('arch'), dict) and \
            'num_layers' in cfg.model.backbone.arch:
        cfg.model.backbone.arch.num_layers = vit_layers
    cfg.train_dataloader.dataset.data_root = data_root
    cfg.train_dataloader.batch_size = 4
    cfg.train_cfg.max_iters = iters
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0,
                                by_epoch=False, begin=0, end=iters)]
    cfg.default_hooks.checkpoint.interval = iters
    cfg.work_dir = work_dir
    train_tool.build_runner(train_tool.adapt_cfg_to_device(cfg)).train()
    return osp.join(work_dir, f'iter_{iters}.pth')


def shrink_backbone(backbone: dict, vit_layers: int = 2) -> int:
    """Tiny arch in place (as the tiny pre-training configs); out channels."""
    t = backbone['type']
    if t in ('BEiTViT', 'mmpretrain.BEiTViT'):
        backbone.update(arch=dict(TINY_VIT_ARCH, num_layers=vit_layers),
                        img_size=64, patch_size=8)
        return 64
    if t in ('SwinTransformer', 'mmpretrain.SwinTransformer'):
        backbone.update(arch=TINY_SWIN_ARCH, img_size=64,
                        stage_cfgs=dict(block_cfgs=dict(window_size=2)))
        return 256
    backbone.update(depth=18, stem_channels=16, base_channels=16)
    return 128


def shrink_pipeline(pipeline, size=64):
    """Image sizes of a pipeline scaled down to ``size`` px."""
    for t in pipeline:
        if t['type'] in ('RandomResizedCrop', 'Resize') and 'scale' in t:
            t['scale'] = size
        elif t['type'] == 'ResizeEdge':
            t['scale'] = int(size * 8 / 7)
        elif t['type'] == 'CenterCrop':
            t['crop_size'] = size
    return pipeline
