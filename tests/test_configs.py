"""The paper's architectures and schedules as the configs set them (that
every config builds and trains: test_shipped_configs.py)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from helpers import ROOT
from mim_plugins.apis import build_model_from_cfg
from mim_plugins.engine import adapt_cfg_to_device

CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                         recursive=True)
    if '_base_' not in p)


def test_configs_are_found():
    assert len(CONFIGS) >= 6


@pytest.mark.parametrize('name,arch', [
    ('a2mim_vit-small_8xb256-step-800e_in1k.py', (768, 8, 8, 2304)),
    ('a2mim_vit-base_8xb128-accu2-step-800e_in1k.py', (768, 12, 12, 3072)),
])
def test_paper_vit_archs(name, arch):
    cfg = Config.fromfile(osp.join(ROOT, 'configs/pretrain/a2mim', name))
    model = build_model_from_cfg(cfg)
    b = model.backbone
    layer = b.layers[0]
    assert (b.embed_dims, b.num_layers, layer.attn.num_heads,
            layer.ffn.feedforward_channels) == arch
    assert layer.gamma_1.detach().eq(0.1).all()
    assert layer.attn.relative_position_bias_table is not None
    assert cfg.optim_wrapper.clip_grad.max_norm == 5.0


def test_paper_resnet_masks_stage4_input():
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs/pretrain/a2mim/a2mim_resnet50_8xb256-coslr-300e_in1k.py'))
    adapt_cfg_to_device(cfg)
    model = build_model_from_cfg(cfg)
    assert model.backbone.mask_token.shape == (1, 1024, 1, 1)
    assert model.backbone.mask_gamma is not None
    assert cfg.train_cfg.max_epochs == 300
    x = torch.randn(1, 3, 224, 224)
    mask = torch.zeros(1, 14, 14, dtype=torch.long)
    mask[0, :7] = 1
    model.eval()
    with torch.no_grad():
        assert model.reconstruct(x, mask)['pred'].shape == x.shape


def test_vit_step_schedule_decays_at_epoch_700():
    """mmengine's MultiStepLR milestones count from the scheduler's begin."""
    from mmengine.optim.scheduler import MultiStepLR
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs/pretrain/a2mim/a2mim_vit-small_8xb256-step-800e_in1k.py'))
    step = cfg.param_scheduler[1]
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = MultiStepLR(opt, milestones=step.milestones, gamma=step.gamma,
                        begin=step.begin, end=step.end, by_epoch=True)
    lrs = []
    for _ in range(cfg.train_cfg.max_epochs):
        lrs.append(opt.param_groups[0]['lr'])
        sched.step()
    assert lrs[699] == 1.0 and lrs[700] == pytest.approx(0.1)


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_dataloaders_build_their_collate_function(path):
    """mmengine tags dicts inherited from `pkg::` bases with `_scope_`, which
    a collate function then receives as an argument."""
    cfg = Config.fromfile(path)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        collate = (cfg.get(name) or {}).get('collate_fn')
        assert collate is None or '_scope_' not in collate, name
