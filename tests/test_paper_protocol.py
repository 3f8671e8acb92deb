"""Every row of the benchmark table runs the protocol that produced its number.

``OFFICIAL`` below is written from the official configs (their repository
and path beside each entry), independently of ``mim_plugins/reproduce/
paper.py``: each row's config (and its pre-training's) is resolved after
inheritance and the values that define the protocol are compared with it.
Batches are totals on 8 GPUs (per-GPU batch x 8 x accumulation), as in the
configs' names and the paper preset's ``--gpus 8``.
"""
import os.path as osp

import pytest
from mmengine.config import Config

from helpers import ROOT
from mim_plugins.reproduce import paper
from protocol_helpers import _checkpoint_of, _load, protocol

OM = 'Westlake-AI/openmixup'
OM_PRE = 'configs/selfsup/'
OM_FT = 'configs/benchmarks/classification/imagenet/'
A2MIM = 'Westlake-AI/A2MIM'
SIMMIM = 'microsoft/SimMIM'

#: the official fine-tuning protocols (a subset of keys per config)
_VIT_FT = dict(  # openmixup *_swin_ft_simmim_*: lr 2.5e-3 x 1024 / 256
    lr=1e-2, batch=1024, layer_decay=0.65, drop_path=0.1, amp=True,
    train_size=224, test_resize=256, test_crop=224, mixup=(0.8, 1.0),
    warmup=20, clip=5.0, pool='avg_featmap', abs_pos=True)
_RSB_A2 = dict(  # openmixup r*_rsb_a2_ft_sz224_8xb256_cos_fp16_ep300
    lr=5e-3, batch=2048, optimizer='Lamb', weight_decay=0.02, epochs=300,
    warmup=5, train_size=224, test_resize=236, test_crop=224,
    rand_augment=7, mixup=(0.1, 1.0), amp=True, sampler='RepeatAugSampler')
_RSB_A3 = dict(  # openmixup r50_rsb_a3_ft_sz160_4xb512_cos_fp16_ep100
    lr=8e-3, batch=2048, optimizer='Lamb', weight_decay=0.02, epochs=100,
    warmup=5, train_size=160, test_resize=236, test_crop=224,
    rand_augment=6, mixup=(0.1, 1.0), amp=True, ema=None, drop_path=0.)
_A2MIM_R50_PRE = dict(  # openmixup a2mim r50_l3_sz224_init_8xb256_cos_ep*
    lr=1.2e-3, batch=2048, crop=(0.8, 1.0), interpolation='bilinear',
    warmup=10, amp=False, mask_layer=3, mask_init=1e-6, fft_weight=0.5,
    fft_focal=True, depth=50, mask_token_lr=0.1)
_SIMMIM_R_PRE = dict(  # openmixup simmim r*_sz224_8xb256_fp16_ep300
    lr=8e-4, batch=2048, crop=(0.67, 1.0), interpolation='bilinear',
    warmup=10, epochs=300, amp=True, mask_layer=0)
_A2MIM_CONVNEXT_PRE = dict(  # openmixup a2mim convnext_*_l3_..._ep300
    lr=1.2e-3, batch=2048, crop=(0.8, 1.0), interpolation='bilinear',
    warmup=10, epochs=300, amp=True, mask_layer=3, mask_init=1e-6,
    replace=False, fft_weight=0., fft_focal=False, drop_path=0.,
    mask_token_lr=0.1, mask_gamma_lr=0.1, mask_token_decay=0.)
_SIMMIM_CONVNEXT_PRE = dict(  # openmixup simmim convnext_*_fp16_ep300
    lr=8e-4, batch=2048, crop=(0.67, 1.0), interpolation='bilinear',
    warmup=10, epochs=300, amp=True, mask_layer=0, replace=False,
    mask_init=0., drop_path=0., mask_token_decay=0.)
_CONVNEXT_FT = dict(  # openmixup convnext_*_spark_ft_sz224_8xb256_..._ep300
    lr=4e-3, batch=4096, optimizer='AdamW', weight_decay=0.05, epochs=300,
    warmup=5, train_size=224, test_resize=256, test_crop=224,
    rand_augment=9, mixup=(0.8, 1.0), amp=True, ema=1e-4, clip=None,
    layer_decay=None, sampler='DefaultSampler')
_VIT_PRE = dict(  # openmixup a2mim / simmim vit_*_step_ep800
    lr=4e-4, batch=2048, crop=(0.67, 1.0), interpolation='bilinear',
    warmup=10, epochs=800, step=700, clip=5.0, drop_path=0.1, abs_pos=True,
    layer_scale=0.1)

OFFICIAL = {
    # ---- pre-training ----------------------------------------------------
    'a2mim_resnet50_8xb256-coslr-100e_in1k': dict(
        _A2MIM_R50_PRE, epochs=100, mask_gamma_lr=0.1,
        source=(OM, OM_PRE + 'a2mim/imagenet/'
                'r50_l3_sz224_init_8xb256_cos_ep100.py')),
    'a2mim_resnet50_8xb256-coslr-300e_in1k': dict(
        _A2MIM_R50_PRE, epochs=300, mask_gamma_lr=1.0,
        source=(OM, OM_PRE + 'a2mim/imagenet/'
                'r50_l3_sz224_init_8xb256_cos_ep300.py')),
    'a2mim_resnet101_8xb256-coslr-300e_in1k': dict(
        _A2MIM_R50_PRE, epochs=300, depth=101, fft_weight=0.1,
        fft_focal=False, source=(OM, OM_PRE + 'a2mim/imagenet/'
                                 'r101_l3_sz224_init_8xb256_cos_ep300.py')),
    'a2mim_resnet152_8xb256-coslr-300e_in1k': dict(
        _A2MIM_R50_PRE, epochs=300, depth=152, fft_weight=0.,
        fft_focal=False, source=(OM, OM_PRE + 'a2mim/imagenet/'
                                 'r152_l3_sz224_init_8xb256_cos_ep300.py')),
    'simmim_resnet101_8xb256-amp-coslr-300e_in1k': dict(
        _SIMMIM_R_PRE, depth=101, source=(
            OM, OM_PRE + 'simmim/imagenet/r101_sz224_8xb256_fp16_ep300.py')),
    'simmim_resnet152_8xb256-amp-coslr-300e_in1k': dict(
        _SIMMIM_R_PRE, depth=152, source=(
            OM, OM_PRE + 'simmim/imagenet/r152_sz224_8xb256_fp16_ep300.py')),
    # ResNet-200: (3, 24, 36, 3) Bottlenecks; no frequency loss (r200.py)
    'a2mim_resnet200_8xb256-coslr-300e_in1k': dict(
        _A2MIM_R50_PRE, epochs=300, depth=200, fft_weight=0.,
        fft_focal=False, source=(OM, OM_PRE + 'a2mim/imagenet/'
                                 'r200_l3_sz224_init_8xb256_cos_ep300.py')),
    'simmim_resnet200_8xb256-amp-coslr-300e_in1k': dict(
        _SIMMIM_R_PRE, depth=200, source=(
            OM, OM_PRE + 'simmim/imagenet/r200_sz224_8xb256_fp16_ep300.py')),
    **{f'a2mim_convnext-{a}_8xb256-amp-coslr-300e_in1k': dict(
        _A2MIM_CONVNEXT_PRE, arch=a, source=(
            OM, OM_PRE + f'a2mim/imagenet/convnext_{a[0]}_l3_sz224_init_'
            '8xb256_cos_ep300.py')) for a in ('small', 'base')},
    # the SimMIM ConvNeXt baselines add the token (replace=False)
    **{f'simmim_convnext-{a}_8xb256-amp-coslr-300e_in1k': dict(
        _SIMMIM_CONVNEXT_PRE, arch=a, source=(
            OM, OM_PRE + f'simmim/imagenet/convnext_{a}_sz224_8xb256_fp16_'
            'ep300.py')) for a in ('small', 'base')},
    'a2mim_vit-small_8xb256-step-800e_in1k': dict(
        _VIT_PRE, arch='small', amp=False, replace=False, fft_weight=0.1,
        source=(OM, OM_PRE + 'a2mim/imagenet/'
                'vit_small_l0_sz224_8xb256_step_ep800.py')),
    'a2mim_vit-base_8xb128-accu2-step-800e_in1k': dict(
        _VIT_PRE, arch='base', amp=False, replace=False, fft_weight=0.1,
        source=(OM, OM_PRE + 'a2mim/imagenet/'
                'vit_base_l0_sz224_8xb128_accu2_step_ep800.py')),
    'a2mim_vit-large_8xb128-accu2-step-800e_in1k': dict(
        _VIT_PRE, arch='large', amp=False, replace=False, fft_weight=0.1,
        source=(OM, OM_PRE + 'a2mim/imagenet/'
                'vit_large_l0_sz224_8xb128_accu2_step_ep800.py')),
    'simmim_vit-small-p16_8xb256-amp-step-800e_in1k': dict(
        _VIT_PRE, arch='small', amp=True, replace=True,
        source=(OM, OM_PRE + 'simmim/imagenet/'
                'vit_small_sz224_8xb256_step_fp16_ep800.py')),
    'simmim_vit-large-p16_8xb128-accu2-amp-step-800e_in1k': dict(
        _VIT_PRE, arch='large', amp=True, replace=True,
        source=(OM, OM_PRE + 'simmim/imagenet/'
                'vit_large_sz224_8xb128_accu2_step_fp16_ep800.py')),
    # microsoft/SimMIM: BASE_LR 1e-4 x 2048 / 512, no APE, shared RPB, apex
    # O1 (main_simmim.py's default --amp-opt-level)
    'simmim_vit-base-p16_8xb128-accu2-step-800e_in1k': dict(
        _VIT_PRE, arch='base', amp=True, replace=True, abs_pos=False,
        shared_rel_pos=True,
        source=(SIMMIM, 'configs/vit_base__800ep/'
                'simmim_pretrain__vit_base__img224__800ep.yaml')),
    'simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px': dict(
        lr=8e-4, batch=2048, epochs=100, warmup=10, crop=(0.67, 1.0),
        interpolation='bilinear', drop_path=0.0, amp=True, clip=5.0,
        mask_token_decay=0., train_size=192,
        source=(SIMMIM, 'configs/swin_base__100ep/'
                'simmim_pretrain__swin_base__img192_window6__100ep.yaml')),
    'simmim_swin-base-w6_8xb256-amp-step-800e_in1k-192px': dict(
        lr=4e-4, batch=2048, epochs=800, warmup=10, step=700,
        crop=(0.67, 1.0), interpolation='bilinear', drop_path=0.0, amp=True,
        clip=5.0, mask_token_decay=0., train_size=192,
        source=(SIMMIM, 'configs/swin_base__800ep/'
                'simmim_pretrain__swin_base__img192_window6__800ep.yaml')),
    # ---- ImageNet fine-tuning ----------------------------------------------
    'vit-small-p16_simmim-pre_8xb128-amp-coslr-100e_in1k': dict(
        _VIT_FT, arch='small', epochs=100, ema=None,
        source=(OM, OM_FT + 'vit_small_p16_swin_ft_simmim_sz224_8xb128_cos_'
                'ep100.py')),
    'vit-small-p16_a2mim-pre_8xb128-amp-coslr-200e_in1k': dict(
        _VIT_FT, arch='small', epochs=200, ema=None,
        source=(OM, OM_FT + 'vit_small_p16_swin_ft_simmim_sz224_8xb128_cos_'
                'ep200.py')),
    'vit-base-p16_a2mim-pre_8xb128-amp-coslr-100e_in1k': dict(
        _VIT_FT, arch='base', epochs=100, ema=4e-5,  # momentum 0.99996
        source=(OM, OM_FT + 'vit_base_p16_swin_ft_simmim_sz224_4xb128_accu2_'
                'cos_ep100.py')),
    'vit-large-p16_simmim-pre_8xb64-accu2-amp-coslr-100e_in1k': dict(
        _VIT_FT, arch='large', epochs=100, ema=4e-5,
        sampler='RepeatAugSampler',
        source=(OM, OM_FT + 'vit_large_p16_swin_ft_simmim_sz224_8xb64_accu2_'
                'cos_ep100.py')),
    'vit-large-p16_a2mim-pre_8xb64-accu2-amp-coslr-150e_in1k': dict(
        _VIT_FT, arch='large', epochs=150, ema=4e-5,
        sampler='RepeatAugSampler',
        source=(OM, OM_FT + 'vit_large_p16_swin_ft_simmim_sz224_8xb64_accu2_'
                'cos_ep150.py')),
    # microsoft/SimMIM: BASE_LR 1.25e-3 x batch / 512, mean pooling, no APE
    'vit-base-p16_simmim-pre_8xb128-coslr-100e_in1k': dict(
        _VIT_FT, arch='base', lr=2.5e-3, epochs=100, ema=None, abs_pos=False,
        source=(SIMMIM, 'configs/vit_base__800ep/'
                'simmim_finetune__vit_base__img224__800ep.yaml')),
    'resnet50_a2mim-pre-100e_8xb256-rsb-a3-100e_in1k': dict(
        _RSB_A3, depth=50, source=(OM, OM_FT + 'r50_rsb_a3_ft_sz160_4xb512_'
                                   'cos_fp16_ep100.py')),
    'resnet50_a2mim-pre_8xb256-rsb-a3-100e_in1k': dict(
        _RSB_A3, depth=50, source=(OM, OM_FT + 'r50_rsb_a3_ft_sz160_4xb512_'
                                   'cos_fp16_ep100.py')),
    'resnet50_a2mim-pre_8xb256-rsb-a2-300e_in1k': dict(
        _RSB_A2, depth=50, drop_path=0.05, ema=1e-4,  # momentum 0.9999
        source=(OM, OM_FT + 'r50_rsb_a2_ft_sz224_8xb256_cos_fp16_ep300.py')),
    **{f'resnet{d}_{m}-pre_8xb256-rsb-a2-300e_in1k': dict(
        _RSB_A2, depth=d, drop_path=dp, ema=None,
        source=(OM, OM_FT + f'r{d}_rsb_a2_ft_sz224_8xb256_cos_fp16_ep300.py'))
       for d, dp in ((101, 0.1), (152, 0.15), (200, 0.2))
       for m in ('a2mim', 'simmim')},
    # AdamW 4e-3 @ 8 x 256 x 2, EMA 0.9999, drop path 0.4 (S) / 0.5 (B)
    **{f'convnext-{a}_{m}-pre_8xb256-accu2-amp-coslr-300e_in1k': dict(
        _CONVNEXT_FT, arch=a, drop_path=dp, source=(
            OM, OM_FT + f'convnext_{a[0]}_spark_ft_sz224_8xb256_cos_fp16_'
            'ep300.py'))
       for a, dp in (('small', 0.4), ('base', 0.5))
       for m in ('a2mim', 'simmim')},
    # microsoft/SimMIM Swin-B: 1.25e-3 x 2048 / 512, layer decay 0.9 / 0.8
    'swin-base-w7_simmim-pre_8xb256-coslr-100e_in1k': dict(
        lr=5e-3, batch=2048, epochs=100, warmup=20, layer_decay=0.9,
        drop_path=0.1, train_size=224, window=7, amp=True, clip=5.0,
        source=(SIMMIM, 'configs/swin_base__100ep/simmim_finetune__swin_base'
                '__img224_window7__100ep.yaml')),
    'swin-base-w7_simmim-pre-800e_8xb256-coslr-100e_in1k': dict(
        lr=5e-3, batch=2048, epochs=100, warmup=20, layer_decay=0.8,
        drop_path=0.1, train_size=224, window=7, amp=True, clip=5.0,
        source=(SIMMIM, 'configs/swin_base__800ep/simmim_finetune__swin_base'
                '__img224_window7__800ep.yaml')),
    # ---- COCO ------------------------------------------------------------
    'mask-rcnn_vit-base-p16-fpn_a2mim-pre_8xb2-1x_coco': dict(
        lr=3e-4, batch=16, optimizer='AdamW', weight_decay=0.05, epochs=12,
        milestones=[9, 11], warmup_iters=500, drop_path=0.2,
        out_indices=(3, 5, 7, 11), neck=('ViTFeaturePyramid', 'FPN'),
        rescales=(4, 2, 1, 0.5), bbox_head='Shared4Conv1FCBBoxHead',
        bbox_loss=('GIoULoss', 10.0), head_norm='SyncBN',
        min_sizes=(400, 480, 500, 512, 544, 576, 600, 608, 640, 672, 704,
                   736, 768, 800), crop=(384, 600),
        source=(A2MIM, 'det_mmdetection/configs/coco/'
                'mask-rcnn_vit_base_giou_4conv1f_1x_coco.py')),
    'mask-rcnn_resnet50-c4_a2mim-pre_8xb2-ms-2x_coco': dict(
        lr=0.02, batch=16, optimizer='SGD', epochs=24, milestones=[16, 23],
        warmup_iters=1000, shared_head='ResLayerExtraNorm', norm='SyncBN',
        frozen_stages=-1, min_sizes=(640, 672, 704, 736, 768, 800),
        source=(A2MIM, 'det_mmdetection/configs/coco/'
                'mask-rcnn_r50-c4_ms-2x_coco.py')),
    # ---- ADE20K ----------------------------------------------------------
    'upernet_vit-base-p16_a2mim-pre_8xb2-amp-160k_ade20k-512x512': dict(
        lr=1e-4, batch=16, optimizer='AdamW', iters=160000, warmup_iters=1500,
        layer_decay=0.65, drop_path=0.1, amp=True, crop=(512, 512),
        decode_head='UPerHead', out_indices=(3, 5, 7, 11),
        source=(A2MIM, 'seg_mmsegmentation/configs/ade20k/'
                'upernet_mae_base_8x2_512x512_160k_ade20k.py')),
    'fcn_resnet50-d8_a2mim-pre_8xb2-amp-160k_ade20k-512x512': dict(
        lr=0.01, batch=16, optimizer='SGD', weight_decay=5e-4, iters=160000,
        amp=True, crop=(512, 512), decode_head='FCNHead',
        dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), norm='SyncBN',
        source=(A2MIM, 'seg_mmsegmentation/configs/ade20k/'
                'fcn_r50_d8_4x4_512x512_160k_ade20k.py')),
}

#: the pre-training each published number starts from (openmixup's A2MIM
#: table links one pre-training config per row)
OFFICIAL_PRETRAIN = {
    ('A2MIM', 'R50 (100 ep)', 'ImageNet RSB A3'):
        'r50_l3_sz224_init_8xb256_cos_ep100',
    ('A2MIM', 'R50 (300 ep)', 'ImageNet RSB A3'):
        'r50_l3_sz224_init_8xb256_cos_ep300',
    ('A2MIM', 'R50 (300 ep)', 'ImageNet RSB A2'):
        'r50_l3_sz224_init_8xb256_cos_ep300',
    ('SimMIM', 'ViT-S', 'ImageNet'): 'vit_small_sz224_8xb256_step_fp16_ep800',
    ('A2MIM', 'ViT-S', 'ImageNet'): 'vit_small_l0_sz224_8xb256_step_ep800',
    ('SimMIM', 'ViT-B', 'ImageNet'):
        'simmim_pretrain__vit_base__img224__800ep',
    ('A2MIM', 'ViT-B', 'ImageNet'):
        'vit_base_l0_sz224_8xb128_accu2_step_ep800',
    ('SimMIM', 'ViT-L', 'ImageNet'):
        'vit_large_sz224_8xb128_accu2_step_fp16_ep800',
    ('A2MIM', 'ViT-L', 'ImageNet'):
        'vit_large_l0_sz224_8xb128_accu2_step_ep800',
    ('SimMIM', 'Swin-B (100 ep)', 'ImageNet'):
        'simmim_pretrain__swin_base__img192_window6__100ep',
    ('SimMIM', 'Swin-B (800 ep)', 'ImageNet'):
        'simmim_pretrain__swin_base__img192_window6__800ep',
    **{(m, f'R{d}', 'ImageNet RSB A2'): f'r{d}_{tag}'
       for d in (101, 152, 200)
       for m, tag in (('A2MIM', 'l3_sz224_init_8xb256_cos_ep300'),
                      ('SimMIM', 'sz224_8xb256_fp16_ep300'))},
    **{('A2MIM', f'ConvNeXt-{a[0].upper()}', 'ImageNet RSB A2'):
       f'convnext_{a[0]}_l3_sz224_init_8xb256_cos_ep300'
       for a in ('small', 'base')},
    **{('SimMIM', f'ConvNeXt-{a[0].upper()}', 'ImageNet RSB A2'):
       f'convnext_{a}_sz224_8xb256_fp16_ep300' for a in ('small', 'base')},
}


def _pretrained(cfg: Config) -> str:
    return cfg.model.backbone.init_cfg.checkpoint


def _official_configs():
    configs = {row.config for row in paper.TABLE if row.protocol == 'official'
               and row.source is not None}
    configs |= {p.config for p in paper.PRETRAINS.values()
                if p.source is not None}
    return sorted(configs)


@pytest.mark.parametrize('config', _official_configs())
def test_config_runs_the_official_protocol(config):
    name = paper.work_dir_name(config)
    assert name in OFFICIAL, f'{name}: no official values written down'
    expected = dict(OFFICIAL[name])
    source = expected.pop('source')
    got = protocol(_load(config))
    wrong = {k: (got.get(k), v) for k, v in expected.items()
             if not (got.get(k) == pytest.approx(v) if isinstance(v, float)
                     else got.get(k) == v)}
    assert not wrong, f'{config} vs {source[0]}:{source[1]}: ' + ', '.join(
        f'{k} is {g!r}, official {v!r}' for k, (g, v) in wrong.items())
    # paper.py names the same official source
    sources = {tuple(r.source) for r in paper.TABLE if r.config == config
               and r.source is not None}
    sources |= {tuple(p.source) for p in paper.PRETRAINS.values()
                if p.config == config and p.source is not None}
    assert sources == {source}


@pytest.mark.parametrize('row', paper.TABLE,
                         ids=[f'{r.method}-{r.backbone}-{r.task}-{r.metric}'
                              for r in paper.TABLE])
def test_row_starts_from_its_pretraining(row):
    """The config's default checkpoint is the last one of the row's
    pre-training, and that is the pre-training of the published number."""
    assert osp.isfile(osp.join(ROOT, row.config)), row.config
    pre = paper.PRETRAINS[row.pretrain]
    cfg = _load(row.config)
    ckpt = _checkpoint_of(pre.config)
    assert _pretrained(cfg) == ckpt
    shared = (cfg.model.get('roi_head') or {}).get('shared_head')
    if shared:  # C4: stage 4 comes from the same checkpoint
        assert shared.init_cfg.checkpoint == ckpt
    key = (row.method, row.backbone, row.task)
    if key in OFFICIAL_PRETRAIN:
        assert pre.source.path.endswith(OFFICIAL_PRETRAIN[key] + '.py') or \
            pre.source.path.endswith(OFFICIAL_PRETRAIN[key] + '.yaml')
    assert row.protocol in ('official', 'paper', 'ours')
    if row.protocol == 'ours':
        assert row.value is None and row.source is None
        assert 'our protocol' in row.task
    else:
        assert row.reported
        # a paper row without its number says why (never a number we cannot
        # point to)
        assert row.value is not None or (
            row.protocol == 'paper' and 'value not verified' in row.reported)
        assert (row.source is None) == (row.protocol == 'paper')
