"""Helpers for the transfer tests: tiny pre-trainings and tiny overrides."""
import os.path as osp

from mmengine.config import Config

from helpers import TINY_CONFIGS, load_tool
from mim_plugins.reproduce.tiny import (shrink_backbone,  # noqa: F401
                                        shrink_pipeline)
train_tool = load_tool('train')


def pretrain(name, data_root, work_dir, iters=2, vit_layers=2,
             resnet_base=None, backbone=None):
    """Run a tiny pre-training; return its checkpoint. ``backbone``: extra
    backbone arguments (e.g. another position encoding)."""
    cfg = Config.fromfile(TINY_CONFIGS[name])
    cfg.model.backbone.update(backbone or {})
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
