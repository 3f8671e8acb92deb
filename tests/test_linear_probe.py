"""Linear probes: the pre-trained backbone stays frozen, the head learns.

Each probe config is shrunk to a tiny backbone on the generated image folder,
starts from a checkpoint that a tiny pre-training writes here, and trains a
few iterations with the real Runner (``tools/train.py``'s ``build_runner``).
Every backbone parameter and buffer (BatchNorm running statistics included)
must come out bit-identical to the checkpoint, the optimizer must step the
head alone, and the head must have moved. The protocol of the full configs
(MAE's probe for the ViT, MoCo's for the pooled backbones) is checked on the
resolved configs.
"""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from helpers import ROOT, load_config, load_tool
from mim_plugins.engine import adapt_cfg_to_device
from mim_plugins.reproduce import paper
from mim_plugins.reproduce.tiny import tiny_classification
from transfer_utils import pretrain

train_tool = load_tool('train')

C = 'configs/classification/'
#: probe config -> (tiny pre-training that feeds it, pre-training of PRETRAINS)
PROBES = {
    C + 'a2mim/vit-base-p16_a2mim-pre_8xb512-accu4-linear-coslr-90e_in1k.py':
        ('a2mim_vit', 'a2mim-vit-b'),
    C + 'a2mim/resnet50_a2mim-pre_8xb32-linear-steplr-100e_in1k.py':
        ('a2mim_resnet', 'a2mim-r50-300e'),
    C + 'a2mim/convnext-base_a2mim-pre_8xb32-linear-steplr-100e_in1k.py':
        ('a2mim_convnext', 'a2mim-convnext-b'),
    C + 'simmim/swin-base-w7_simmim-pre_8xb32-linear-steplr-100e_in1k.py':
        ('simmim_swin', 'simmim-swin-b-100e'),
}
VIT_PROBE, RESNET_PROBE = list(PROBES)[:2]
CNN_PROBES = list(PROBES)[1:]
GPUS = 8
ITERS = 4  # one optimizer step of the ViT probe (4 accumulated batches)


@pytest.fixture(scope='module')
def checkpoints(demo_data, tmp_path_factory):
    work = tmp_path_factory.mktemp('probe_pretrain')
    names = sorted({name for name, _ in PROBES.values()})
    return {n: pretrain(n, demo_data, str(work / n)) for n in names}


class _Snapshot(Hook):
    """Records the model once its weights are loaded (``before_train``) and
    which backbone BatchNorms are in training mode during the iterations."""

    def __init__(self):
        self.before, self.training = None, set()

    def before_train(self, runner):
        self.before = {k: v.clone() for k, v in
                       runner.model.state_dict().items()}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.training |= {
            name for name, m in runner.model.backbone.named_modules()
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
            and m.training}


def _tiny(path, ckpt, data, work_dir, **backbone):
    cfg = Config.fromfile(osp.join(ROOT, path))
    adapt_cfg_to_device(cfg)
    # SGD's lr 30 is for batch 256 over 1000 classes: on 4 classes and 8
    # images it overshoots (and the divergence guard stops the run)
    sgd = cfg.optim_wrapper.optimizer.type == 'SGD'
    tiny_classification(cfg, ckpt, data, iters=ITERS,
                        lr=0.1 if sgd else None)
    bb = cfg.model.backbone
    if bb.type == 'BEiTViT':  # all of the tiny ViT's layers
        bb.frozen_stages = bb.arch.num_layers
        for t in cfg.train_dataloader.dataset.pipeline:
            if t.type == 'MAERandomResizedCrop':
                t.size = 64
    neck = cfg.model.get('neck') or {}
    if neck.get('type') == 'ClsBatchNormNeck':
        neck.input_features = cfg.model.head.in_channels
    bb.update(backbone)
    cfg.work_dir = str(work_dir)
    return cfg


def _probe(path, checkpoints, data, work_dir, **backbone):
    """Train the tiny probe; (runner, state before, state after, ckpt)."""
    name, _ = PROBES[path]
    cfg = _tiny(path, checkpoints[name], data, work_dir, **backbone)
    runner = train_tool.build_runner(cfg)
    snap = _Snapshot()
    runner.register_hook(snap, priority='LOWEST')
    runner.train()
    after = runner.model.state_dict()
    ckpt = torch.load(checkpoints[name], map_location='cpu')['state_dict']
    return runner, snap, after, ckpt


def frozen_violations(before, after, prefix='backbone.'):
    """The backbone entries (parameters and buffers) that changed."""
    return sorted(k for k in before if k.startswith(prefix)
                  and not torch.equal(before[k], after[k]))


def _optimized(runner):
    """The parameters the optimizer holds."""
    ids = {id(p) for g in runner.optim_wrapper.optimizer.param_groups
           for p in g['params']}
    return sorted(n for n, p in runner.model.named_parameters()
                  if id(p) in ids)


def _stepped(runner):
    """The parameters it updated (SGD and LARS keep a momentum buffer for
    each)."""
    state = runner.optim_wrapper.optimizer.state
    return sorted(n for n, p in runner.model.named_parameters()
                  if p in state)


@pytest.mark.parametrize('path', list(PROBES),
                         ids=[osp.basename(p)[:-3] for p in PROBES])
def test_probe_trains_the_head_of_a_frozen_pretrained_backbone(
        path, checkpoints, demo_data, tmp_path):
    runner, snap, after, ckpt = _probe(path, checkpoints, demo_data,
                                       tmp_path)
    assert runner.iter == ITERS
    before = snap.before
    backbone = [k for k in before if k.startswith('backbone.')]
    # the pre-trained weights were loaded: every backbone entry, buffers
    # included, is the checkpoint's
    absent = [k for k in backbone if k not in ckpt]
    assert not absent, f'not in the checkpoint: {absent}'
    for k in backbone:
        assert torch.equal(before[k], ckpt[k]), k
    # ... and nothing of it moved in training
    assert frozen_violations(before, after) == []
    assert not snap.training, f'BatchNorm in training mode: {snap.training}'
    # the optimizer steps the head alone (the ViT's BatchNorm neck has no
    # affine parameters), and the head learned
    head = sorted(n for n, _ in runner.model.named_parameters()
                  if n.startswith('head.'))
    assert _stepped(runner) == head
    assert all(not p.requires_grad for p in
               runner.model.backbone.parameters())
    if runner.model.backbone.__class__.__name__ == 'SwinTransformer':
        # mmpretrain's Swin freezes its stages in train(), after the Runner
        # has built the optimizer: it lists them, but they get no gradient
        assert set(head) < set(_optimized(runner))
    else:  # the others freeze when built: the optimizer holds the head
        assert _optimized(runner) == head
    if runner.model.with_neck:
        assert not list(runner.model.neck.parameters())
    assert any(not torch.equal(before[k], after[k]) for k in head
               if k.endswith('weight'))
    assert torch.isfinite(
        torch.as_tensor(runner.message_hub.get_scalar('train/loss')
                        .current()))


def test_freezing_check_catches_a_trainable_backbone(checkpoints, demo_data,
                                                     tmp_path):
    """Without frozen stages and with BatchNorm in training mode, the same
    checks see the weights, the running statistics and the optimizer."""
    runner, snap, after, _ = _probe(RESNET_PROBE, checkpoints, demo_data,
                                    tmp_path, frozen_stages=-1,
                                    norm_eval=False)
    changed = frozen_violations(snap.before, after)
    assert any(k.endswith('conv1.weight') for k in changed), changed
    assert any(k.endswith('running_mean') for k in changed), changed
    assert any(k.endswith('num_batches_tracked') for k in changed), changed
    assert snap.training
    assert any(n.startswith('backbone.') for n in _stepped(runner))


def test_vit_frozen_stages_must_cover_every_layer(checkpoints, demo_data,
                                                  tmp_path):
    """One layer short of all: its weights and the final norm train."""
    _, snap, after, _ = _probe(VIT_PROBE, checkpoints, demo_data, tmp_path,
                               frozen_stages=1)
    changed = frozen_violations(snap.before, after)
    assert any(k.startswith('backbone.layers.1.') for k in changed)
    assert any(k.startswith('backbone.ln1.') for k in changed)
    assert not any(k.startswith('backbone.layers.0.') for k in changed)


# ---- the protocol of the full configs ----------------------------------

def _total_batch(cfg):
    return (cfg.train_dataloader.batch_size * GPUS *
            cfg.optim_wrapper.get('accumulative_counts', 1))


@pytest.mark.parametrize('path', list(PROBES),
                         ids=[osp.basename(p)[:-3] for p in PROBES])
def test_probe_starts_from_its_pretraining(path):
    cfg = load_config(path)
    pre = paper.PRETRAIN[PROBES[path][1]]
    epochs = load_config(pre).train_cfg.max_epochs
    init = cfg.model.backbone.init_cfg
    assert init.type == 'Pretrained' and init.prefix == 'backbone.'
    assert init.checkpoint == \
        f'work_dirs/{paper.work_dir_name(pre)}/epoch_{epochs}.pth'
    assert cfg.runner_type == 'MIMRunner'
    assert cfg.custom_imports.imports == ['mim_plugins']
    assert [h.type for h in cfg.custom_hooks] == ['PretrainedCheckHook']
    assert not cfg.custom_hooks[0].get('allow_missing')


def test_vit_probe_is_maes():
    """facebookresearch/mae main_linprobe.py, FINETUNE.md."""
    cfg = load_config(VIT_PROBE)
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.weight_decay) == \
        ('LARS', 6.4, 0.9, 0.0)
    assert _total_batch(cfg) == 16384 and opt.lr == 0.1 * 16384 / 256
    assert cfg.train_dataloader.batch_size == 512  # MAE's per-GPU batch
    assert cfg.train_dataloader.drop_last
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys == {
        'bias': dict(lars_exclude=True)}
    assert cfg.train_cfg.max_epochs == 90
    warm, cos = cfg.param_scheduler
    assert (warm.type, warm.begin, warm.end, warm.by_epoch) == \
        ('LinearLR', 0, 10, True)
    assert warm.start_factor <= 1e-4 and warm.convert_to_iter_based
    assert (cos.type, cos.begin, cos.end, cos.T_max, cos.eta_min) == \
        ('CosineAnnealingLR', 10, 90, 80, 0.)
    assert cos.convert_to_iter_based
    bb = cfg.model.backbone
    assert bb.type == 'BEiTViT' and bb.arch == 'base'
    assert bb.frozen_stages == 12  # every layer of ViT-B
    assert (bb.out_type, bb.final_norm, bb.drop_path_rate) == \
        ('cls_token', True, 0.)
    neck = cfg.model.neck
    assert neck.type == 'ClsBatchNormNeck' and neck.input_features == 768
    assert not neck.get('affine', False) and neck.get('eps', 1e-6) == 1e-6
    head = cfg.model.head
    assert head.in_channels == 768 and head.num_classes == 1000
    assert head.init_cfg == [dict(type='TruncNormal', layer='Linear',
                                  std=0.01)]
    train = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert train == ['LoadImageFromFile', 'ToPIL', 'MAERandomResizedCrop',
                     'torchvision/RandomHorizontalFlip', 'ToNumpy',
                     'PackInputs']
    crop = cfg.train_dataloader.dataset.pipeline[2]
    assert (crop.size, crop.interpolation) == (224, 3)  # bicubic
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        _, resize, center, _ = loader.dataset.pipeline
        assert (resize.type, resize.scale, resize.interpolation) == \
            ('ResizeEdge', 256, 'bicubic')
        assert (center.type, center.crop_size) == ('CenterCrop', 224)


@pytest.mark.parametrize('path', CNN_PROBES,
                         ids=[osp.basename(p)[:-3] for p in CNN_PROBES])
def test_pooled_probe_is_the_classic_one(path):
    """MoCo's protocol: mmpretrain configs/mocov2/benchmarks/
    resnet50_8xb32-linear-steplr-100e_in1k.py, openmixup
    r50_linear_sz224_4xb64_step_ep100.py."""
    cfg = load_config(path)
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.weight_decay) == \
        ('SGD', 30., 0.9, 0.)
    assert _total_batch(cfg) == 256
    assert cfg.train_cfg.max_epochs == 100
    step, = cfg.param_scheduler
    assert (step.type, step.milestones, step.gamma) == \
        ('MultiStepLR', [60, 80], 0.1)
    bb = cfg.model.backbone
    if bb.type == 'ConvNeXt':  # pools before its output norm
        assert cfg.model.neck is None
        assert bb.get('gap_before_final_norm', True)
    else:
        assert cfg.model.neck.type == 'GlobalAveragePooling'
    assert cfg.model.head.type == 'LinearClsHead'
    assert cfg.model.head.in_channels == \
        {'ResNet': 2048}.get(cfg.model.backbone.type, 1024)
    train = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert train == ['LoadImageFromFile', 'RandomResizedCrop', 'RandomFlip',
                     'PackInputs']
    assert cfg.train_dataloader.dataset.pipeline[1].scale == 224
    _, resize, center, _ = cfg.val_dataloader.dataset.pipeline
    assert (resize.scale, center.crop_size) == (256, 224)
    # every part frozen, as each backbone counts its stages
    if bb.type == 'ResNet':
        assert (bb.depth, bb.frozen_stages, bb.norm_eval) == (50, 4, True)
    elif bb.type == 'ConvNeXt':
        assert (bb.arch, bb.frozen_stages) == ('base', 4)
        assert bb.norm_cfg.requires_grad is False  # the output norm too
    else:
        assert (bb.type, bb.arch, bb.frozen_stages) == \
            ('SwinTransformer', 'base', 3)
        assert bb.stage_cfgs.block_cfgs.window_size == 7
