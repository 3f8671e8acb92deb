"""Every pre-training and ImageNet fine-tuning config schedules its lr as the
official code does, iteration by iteration.

The official schedules are written here as functions of the iteration, from
the code that computes them (``repository:path``):

- mmcv 1.x ``runner/hooks/lr_updater.py`` (openmixup's runner):
  ``CosineAnnealing`` spans the whole run (per epoch when ``by_epoch``, else
  per iteration) and the linear warm-up multiplies it by ``r + (1 - r) k / W``
  (``warmup_ratio`` r, iteration k of W); ``step`` multiplies by 0.1 at each
  milestone epoch;
- openmixup ``openmixup/core/hooks/lr_scheduler.py``
  ``StepFixCosineAnnealingLrUpdaterHook``: the cosine starts after the
  warm-up, whose ramp ``k / W`` (from 0; ``warmup_ratio`` unused) multiplies
  the cosine evaluated at the negative phase ``(k - W) / (T - W)``;
- timm's ``CosineLRScheduler`` (microsoft/SimMIM ``lr_scheduler.py``):
  ``warmup_lr + k (base - warmup_lr) / W`` during the warm-up, then the
  cosine of the whole run at phase ``k / T`` (``warmup_prefix=False``);
- BEiT v2's ``cosine_scheduler`` (microsoft/unilm ``beit2/utils.py``):
  ``linspace(0, base, W)`` then a cosine over the remaining ``T - W``.

Ours are built from the configs by mmengine (``convert_to_iter_based`` with
an epoch of L iterations) and stepped as its ``ParamSchedulerHook`` does.
What remains is mmengine's ``LinearLR`` reaching the base lr one iteration
earlier (at ``W - 1`` instead of W) and starting from ``start_factor > 0``:
at most ``1 / W + start_factor`` of the lr, during the warm-up only.
"""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import PARAM_SCHEDULERS

from helpers import ROOT

L = 64  # iterations per epoch in the simulation
OM = 'Westlake-AI/openmixup:configs/'
SM = 'microsoft/SimMIM:configs/'


def cos(base, floor, phase):
    return floor + (base - floor) * (1 + math.cos(math.pi * phase)) / 2


def mmcv_cosine(base, floor, warmup, ratio, epochs, by_epoch):
    W, T = warmup * L, epochs * L

    def lr(k):
        p = (k // L) / epochs if by_epoch else k / T
        factor = ratio + (1 - ratio) * k / W if k < W else 1.
        return cos(base, floor, p) * factor
    return lr


def stepfix(base, floor, warmup, epochs):
    W, T = warmup * L, epochs * L

    def lr(k):
        c = cos(base, floor, (k - W) / (T - W))
        return c * k / W if k < W else c
    return lr


def timm_cosine(base, floor, warmup, warmup_lr, epochs):
    W, T = warmup * L, epochs * L

    def lr(k):
        if k < W:
            return warmup_lr + k * (base - warmup_lr) / W
        return cos(base, floor, k / T)
    return lr


def mmcv_step(base, warmup, ratio, milestone):
    W = warmup * L

    def lr(k):
        factor = ratio + (1 - ratio) * k / W if k < W else 1.
        return base * factor * (0.1 if k // L >= milestone else 1.)
    return lr


def beit_cosine(base, floor, warmup, epochs):
    W, T = warmup * L, epochs * L

    def lr(k):
        if k < W:
            return base * k / (W - 1)
        return cos(base, floor, (k - W) / (T - W))
    return lr


def _pre(name):
    d = 'a2mim' if name.startswith('a2mim') else (
        'simmim' if name.startswith('simmim') else 'maskdistill')
    return f'configs/pretrain/{d}/{name}.py'


def _ft(method, name):
    return f'configs/classification/{method}/{name}.py'


#: config -> (official lr as a function of the iteration, total epochs,
#: warm-up epochs, the official file)
OFFICIAL = {}
for depth, epochs in ((50, 100), (50, 300), (101, 300), (152, 300),
                      (200, 300)):
    OFFICIAL[_pre(f'a2mim_resnet{depth}_8xb256-coslr-{epochs}e_in1k')] = (
        stepfix(1.2e-3, 1e-5, 10, epochs), epochs, 10,
        OM + f'selfsup/a2mim/imagenet/r{depth}_l3_sz224_init_8xb256_cos_'
        f'ep{epochs}.py')
for arch in ('tiny', 'small', 'base'):
    OFFICIAL[_pre(f'a2mim_convnext-{arch}_8xb256-amp-coslr-300e_in1k')] = (
        stepfix(1.2e-3, 1e-5, 10, 300), 300, 10,
        OM + f'selfsup/a2mim/imagenet/convnext_{arch[0]}_l3_sz224_init_'
        '8xb256_cos_ep300.py')
for depth in (50, 101, 152, 200):
    OFFICIAL[_pre(f'simmim_resnet{depth}_8xb256-amp-coslr-300e_in1k')] = (
        stepfix(8e-4, 1e-5, 10, 300), 300, 10,
        OM + f'selfsup/simmim/imagenet/r{depth}_sz224_8xb256_fp16_ep300.py')
for arch in ('small', 'base'):
    OFFICIAL[_pre(f'simmim_convnext-{arch}_8xb256-amp-coslr-300e_in1k')] = (
        stepfix(8e-4, 1e-5, 10, 300), 300, 10,
        OM + f'selfsup/simmim/imagenet/convnext_{arch}_sz224_8xb256_fp16_'
        'ep300.py')
# openmixup's ViT pre-training: warmup_ratio=5e-7*2048/512 is a *ratio*
for name, src in (
        ('a2mim_vit-small_8xb256-step-800e_in1k',
         'a2mim/imagenet/vit_small_l0_sz224_8xb256_step_ep800.py'),
        ('a2mim_vit-base_8xb128-accu2-step-800e_in1k',
         'a2mim/imagenet/vit_base_l0_sz224_8xb128_accu2_step_ep800.py'),
        ('a2mim_vit-large_8xb128-accu2-step-800e_in1k',
         'a2mim/imagenet/vit_large_l0_sz224_8xb128_accu2_step_ep800.py'),
        ('simmim_vit-small-p16_8xb256-amp-step-800e_in1k',
         'simmim/imagenet/vit_small_sz224_8xb256_step_fp16_ep800.py'),
        ('simmim_vit-large-p16_8xb128-accu2-amp-step-800e_in1k',
         'simmim/imagenet/vit_large_sz224_8xb128_accu2_step_fp16_ep800.py')):
    OFFICIAL[_pre(name)] = (mmcv_step(4e-4, 10, 2e-6, 700), 800, 10,
                            OM + 'selfsup/' + src)
# microsoft/SimMIM: absolute warm-up lr 5e-7 x 2048 / 512 = 2e-6
OFFICIAL[_pre('simmim_vit-base-p16_8xb128-accu2-step-800e_in1k')] = (
    mmcv_step(4e-4, 10, 2e-6 / 4e-4, 700), 800, 10,
    SM + 'vit_base__800ep/simmim_pretrain__vit_base__img224__800ep.yaml')
OFFICIAL[_pre('simmim_swin-base-w6_8xb256-amp-step-800e_in1k-192px')] = (
    mmcv_step(4e-4, 10, 2e-6 / 4e-4, 700), 800, 10,
    SM + 'swin_base__800ep/simmim_pretrain__swin_base__img192_window6__'
    '800ep.yaml')
OFFICIAL[_pre('simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px')] = (
    timm_cosine(8e-4, 4e-5, 10, 4e-6, 100), 100, 10,
    SM + 'swin_base__100ep/simmim_pretrain__swin_base__img192_window6__'
    '100ep.yaml')
# A2MIM Swin: openmixup's SimMIM Swin-B schedule (no official A2MIM one)
for arch in ('base', 'tiny'):
    OFFICIAL[_pre(f'a2mim_swin-{arch}-w6_8xb128-accu2-coslr-100e_in1k-'
                  '192px')] = (
        mmcv_cosine(8e-4, 4e-5, 10, 4e-6, 100, by_epoch=False), 100, 10,
        OM + 'selfsup/simmim/imagenet/swin_base_sz192_8xb128_accu2_cos_'
        'ep100.py')
OFFICIAL[_pre('maskdistill_vit-base-p16_8xb256-coslr-300e_in1k')] = (
    beit_cosine(1.5e-3, 1e-5, 10, 300), 300, 10,
    'microsoft/unilm:beit2/utils.py cosine_scheduler (MaskDistill: no code)')

for method in ('a2mim', 'simmim'):
    for depth in (50, 101, 152, 200):
        OFFICIAL[_ft(method, f'resnet{depth}_{method}-pre_8xb256-rsb-a2-'
                     '300e_in1k')] = (
            mmcv_cosine(5e-3, 1e-6, 5, 1e-5, 300, by_epoch=True), 300, 5,
            OM + f'benchmarks/classification/imagenet/r{depth}_rsb_a2_ft_'
            'sz224_8xb256_cos_fp16_ep300.py')
    for arch in ('small', 'base'):
        OFFICIAL[_ft(method, f'convnext-{arch}_{method}-pre_8xb256-accu2-amp-'
                     'coslr-300e_in1k')] = (
            mmcv_cosine(4e-3, 1e-6, 5, 1e-5, 300, by_epoch=False), 300, 5,
            OM + f'benchmarks/classification/imagenet/convnext_{arch[0]}_'
            'spark_ft_sz224_8xb256_cos_fp16_ep300.py')
for name in ('resnet50_a2mim-pre_8xb256-rsb-a3-100e_in1k',
             'resnet50_a2mim-pre-100e_8xb256-rsb-a3-100e_in1k'):
    OFFICIAL[_ft('a2mim', name)] = (
        mmcv_cosine(8e-3, 1e-6, 5, 1e-5, 100, by_epoch=True), 100, 5,
        OM + 'benchmarks/classification/imagenet/r50_rsb_a3_ft_sz160_4xb512_'
        'cos_fp16_ep100.py')
OFFICIAL[_ft('simmim', 'resnet50_simmim-pre_8xb256-rsb-a3-100e_in1k')] = (
    OFFICIAL[_ft('a2mim', 'resnet50_a2mim-pre_8xb256-rsb-a3-100e_in1k')])
for method, name, epochs, src in (
        ('a2mim', 'vit-small-p16_a2mim-pre_8xb128-amp-coslr-200e_in1k', 200,
         'vit_small_p16_swin_ft_simmim_sz224_8xb128_cos_ep200.py'),
        ('simmim', 'vit-small-p16_simmim-pre_8xb128-amp-coslr-100e_in1k',
         100, 'vit_small_p16_swin_ft_simmim_sz224_8xb128_cos_ep100.py'),
        ('a2mim', 'vit-base-p16_a2mim-pre_8xb128-amp-coslr-100e_in1k', 100,
         'vit_base_p16_swin_ft_simmim_sz224_4xb128_accu2_cos_ep100.py'),
        ('a2mim', 'vit-large-p16_a2mim-pre_8xb64-accu2-amp-coslr-150e_in1k',
         150, 'vit_large_p16_swin_ft_simmim_sz224_8xb64_accu2_cos_ep150.py'),
        ('simmim', 'vit-large-p16_simmim-pre_8xb64-accu2-amp-coslr-100e_in1k',
         100, 'vit_large_p16_swin_ft_simmim_sz224_8xb64_accu2_cos_ep100.py')):
    OFFICIAL[_ft(method, name)] = (
        stepfix(1e-2, 1e-6, 20, epochs), epochs, 20,
        OM + 'benchmarks/classification/imagenet/' + src)
OFFICIAL[_ft('simmim', 'vit-base-p16_simmim-pre_8xb128-coslr-100e_in1k')] = (
    timm_cosine(2.5e-3, 5e-7, 20, 5e-7, 100), 100, 20,
    SM + 'vit_base__800ep/simmim_finetune__vit_base__img224__800ep.yaml')
for method, name in (
        ('simmim', 'swin-base-w7_simmim-pre_8xb256-coslr-100e_in1k'),
        ('simmim', 'swin-base-w7_simmim-pre-800e_8xb256-coslr-100e_in1k'),
        ('a2mim', 'swin-base-w7_a2mim-pre_8xb256-coslr-100e_in1k')):
    OFFICIAL[_ft(method, name)] = (
        timm_cosine(5e-3, 1e-6, 20, 1e-6, 100), 100, 20,
        SM + 'swin_base__100ep/simmim_finetune__swin_base__img224_window7__'
        '100ep.yaml')
OFFICIAL[_ft('maskdistill',
             'vit-base-p16_maskdistill-pre_8xb128-coslr-100e_in1k')] = (
    beit_cosine(5e-4, 1e-6, 20, 100), 100, 20,
    'microsoft/unilm:beit2/run_class_finetuning.py + utils.py '
    'cosine_scheduler (MaskDistill: no code)')

for name in ('maskdistill_vit-large-p16_8xb64-accu4-coslr-300e_in1k',
             'maskdistill_vit-huge-p14_8xb256-fsdp-coslr-300e_in1k'):
    OFFICIAL[_pre(name)] = OFFICIAL[_pre(
        'maskdistill_vit-base-p16_8xb256-coslr-300e_in1k')]
for name in ('vit-large-p16_maskdistill-pre_8xb64-accu2-coslr-50e_in1k',
             'vit-huge-p14_maskdistill-pre_8xb32-accu4-coslr-50e_in1k'):
    OFFICIAL[_ft('maskdistill', name)] = (
        beit_cosine(5e-4, 1e-6, 5, 50), 50, 5,
        'microsoft/unilm:beit2/get_started_for_image_classification.md '
        '(ViT-L) + utils.py cosine_scheduler (MaskDistill: no code)')


def mae_cosine(base, warmup, epochs):
    """facebookresearch/mae util/lr_sched.py: linear warm-up from 0, then a
    half cosine to 0, per iteration."""
    W, T = warmup * L, epochs * L

    def lr(k):
        return base * k / W if k < W else cos(base, 0., (k - W) / (T - W))
    return lr


def moco_step(base, milestones):
    """facebookresearch/moco main_lincls.py: x0.1 at each milestone epoch."""
    def lr(k):
        return base * 0.1 ** sum(k // L >= m for m in milestones)
    return lr


# linear probes (our protocol, no paper value)
OFFICIAL[_ft('a2mim', 'vit-base-p16_a2mim-pre_8xb512-accu4-linear-coslr-'
             '90e_in1k')] = (mae_cosine(6.4, 10, 90), 90, 10,
                             'facebookresearch/mae:util/lr_sched.py')
for method, name in (
        ('a2mim', 'resnet50_a2mim-pre_8xb32-linear-steplr-100e_in1k'),
        ('a2mim', 'convnext-base_a2mim-pre_8xb32-linear-steplr-100e_in1k'),
        ('simmim', 'swin-base-w7_simmim-pre_8xb32-linear-steplr-100e_in1k')):
    OFFICIAL[_ft(method, name)] = (moco_step(30., (60, 80)), 100, 0,
                                   'facebookresearch/moco:main_lincls.py')


def simulate(cfg: Config, epochs: int) -> list:
    """The lr of every iteration, as mmengine's Runner schedules it (an
    epoch of L iterations; iteration-based schedulers step after every
    iteration, epoch-based ones after every epoch)."""
    lr = cfg.optim_wrapper.optimizer.lr
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    schedulers = []
    for s in cfg.param_scheduler:
        s = dict(s)
        s.pop('_scope_', None)
        schedulers.append(PARAM_SCHEDULERS.build(
            s, default_args=dict(optimizer=opt, epoch_length=L)))
    out = []
    for k in range(epochs * L):
        out.append(opt.param_groups[0]['lr'])
        for s in schedulers:
            if not s.by_epoch:
                s.step()
        if (k + 1) % L == 0:
            for s in schedulers:
                if s.by_epoch:
                    s.step()
    return out


def deviation(config: str) -> float:
    official, epochs, _, _ = OFFICIAL[config]
    cfg = Config.fromfile(osp.join(ROOT, config))
    ours = simulate(cfg, epochs)
    ref = [official(k) for k in range(epochs * L)]
    base = cfg.optim_wrapper.optimizer.lr
    return max(abs(a - b) for a, b in zip(ours, ref)) / base


@pytest.mark.parametrize('config', sorted(OFFICIAL),
                         ids=[osp.basename(c)[:-3] for c in sorted(OFFICIAL)])
def test_lr_follows_the_official_schedule(config):
    _, _, warmup, source = OFFICIAL[config]
    cfg = Config.fromfile(osp.join(ROOT, config))
    start = min(s.get('start_factor', 1.) for s in cfg.param_scheduler)
    bound = (1 / (warmup * L) + start if warmup else 0.) + 1e-9
    dev = deviation(config)
    assert dev <= bound, (
        f'{config}: max |lr - official| = {dev:.4f} of the lr (allowed: '
        f'{bound:.4f}, the warm-up end); official: {source}')


def test_every_schedule_is_checked():
    configs = {
        osp.relpath(p, ROOT) for d in ('pretrain', 'classification')
        for p in __import__('glob').glob(osp.join(ROOT, 'configs', d, '*',
                                                  '*.py'))
        if not p.endswith('_demo.py')}
    assert configs == set(OFFICIAL)


def test_the_check_fails_on_a_cosine_restarted_after_the_warm_up():
    """mmengine's CosineAnnealingLR from the end of the warm-up (what the
    configs had) is 20% of the peak away from timm's cosine."""
    config = _ft('simmim', 'vit-base-p16_simmim-pre_8xb128-coslr-100e_in1k')
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.param_scheduler[1] = dict(
        type='CosineAnnealingLR', by_epoch=True, begin=20, end=100,
        eta_min=5e-7, convert_to_iter_based=True)
    official = OFFICIAL[config][0]
    ours = simulate(cfg, 100)
    dev = max(abs(a - official(k)) for k, a in enumerate(ours)) / 2.5e-3
    assert dev > 0.15
