"""The tiny shapes have one source, ``mim_plugins.utils.tiny``: the demo
configs take theirs from it (and restate none), and its channel counts are
what the tiny backbones put out."""
import re

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

from helpers import TINY_CONFIGS
from mim_plugins.utils import tiny

#: what a demo config would restate if it spelled a tiny shape out
SHAPE_WORDS = ('embed_dims', 'num_layers', 'num_heads', 'depths', 'channels=[',
               'stem_channels', 'base_channels', 'depth=', 'window_size',
               'patch_size=8', 'max_iters', 'batch_size')


@pytest.mark.parametrize('name', sorted(TINY_CONFIGS))
def test_demo_config_takes_its_shapes_from_the_tiny_module(name):
    path = TINY_CONFIGS[name]
    text = open(path).read()
    assert 'import mim_plugins.utils.tiny as tiny' in text
    # mmengine reads a config whose first statement is an import as a
    # lazy-import one: the import comes after the _base_ line
    assert not Config._is_lazy_import(path)
    code = re.sub(r'#.*', '', text)
    assert [w for w in SHAPE_WORDS if w in code] == []
    cfg = Config.fromfile(path)
    backbone = cfg.model.backbone
    family = tiny.family(backbone.type)
    assert family == name.split('_')[1]
    for key, value in tiny.backbone(family).items():
        assert backbone[key] == value, key
    assert cfg.img_size == tiny.IMG_SIZE
    assert cfg.train_cfg.max_iters == tiny.DEMO_ITERS
    channels = cfg.model.get('neck', cfg.model.get('head')).in_channels
    assert channels == tiny.out_channels(family)


@pytest.mark.parametrize('family,cfg', [
    ('vit', dict(type='BEiTViT', out_indices=(0, 1, 2, 3),
                 out_type='featmap')),  # four layers, as UperNet's
    ('swin', dict(type='SwinTransformer', out_indices=(0, 1, 2, 3))),
    ('convnext', dict(type='ConvNeXt', out_indices=(0, 1, 2, 3),
                      gap_before_final_norm=False)),
    ('resnet', dict(type='ResNet', out_indices=(0, 1, 2, 3))),
])
def test_stage_channels_are_what_the_tiny_backbones_put_out(family, cfg):
    tiny.shrink_backbone(cfg, vit_layers=4)
    model = MODELS.build(cfg)
    model.eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, tiny.IMG_SIZE, tiny.IMG_SIZE))
    assert [o.shape[1] for o in outs] == tiny.stage_channels(family)
    assert outs[-1].shape[1] == tiny.out_channels(family)


def test_every_call_returns_fresh_dicts():
    """mmengine's merge pops ``_delete_`` from the dicts a config gives it,
    and code updates loaded configs in place: nothing is shared."""
    first = tiny.backbone('swin', delete=True)
    first['arch']['depths'].append(9)
    first['arch'].pop('_delete_')
    tiny.demo_hooks()['logger']['interval'] = 1
    assert tiny.backbone('swin', delete=True)['arch'] == dict(
        _delete_=True, **tiny.arch('swin'))
    assert tiny.arch('swin')['depths'] == [1, 1, 1, 1]
    assert tiny.demo_hooks()['logger']['interval'] == 5
    assert tiny.arch('vit', vit_layers=4)['num_layers'] == 4
    assert tiny.arch('vit')['num_layers'] == 2
