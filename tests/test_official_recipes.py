"""Recipe details that follow the official code (see docs/fidelity.md):
crops resized as torchvision resizes PIL images, the RSB A2 sampler, the
MaskDistill (BEiT v2) fine-tuning and segmentation recipes, the ADE20K
weight-decay groups of mmseg's constructor, ViTDet's SimpleFPN."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from mmpretrain.datasets.transforms import RandomResizedCrop

from helpers import ROOT

PRE = sorted(p for p in glob.glob(osp.join(ROOT, 'configs/pretrain/*/*.py')))


def _load(path):
    return Config.fromfile(path if osp.isabs(path) else osp.join(ROOT, path))


def _crop(cfg):
    return next(t for t in cfg.train_dataloader.dataset.pipeline
                if t['type'] == 'RandomResizedCrop')


@pytest.mark.parametrize('interpolation', ['bilinear', 'bicubic'])
def test_pillow_backend_crop_equals_torchvision(interpolation, monkeypatch):
    """openmixup, microsoft/SimMIM (data/data_simmim.py) and BEiT v2 crop
    with torchvision's RandomResizedCrop on PIL images (PIL's resize,
    antialiased when it shrinks). mmpretrain's RandomResizedCrop with
    ``backend='pillow'`` gives the same pixels for the same crop box;
    OpenCV's (the default backend) does not."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as F
    rng = np.random.default_rng(0)
    # a textured image: smooth gradients plus fine detail that aliases
    yy, xx = np.mgrid[0:300, 0:400]
    rgb = np.stack([(xx * 7 + yy * 3) % 256, (np.sin(xx / 3.) * 127 + 128),
                    rng.integers(0, 256, (300, 400))], -1).astype(np.uint8)
    box = (37, 51, 211, 259)  # top, left, height, width
    mode = dict(bilinear=InterpolationMode.BILINEAR,
                bicubic=InterpolationMode.BICUBIC)[interpolation]
    ref = np.asarray(F.resized_crop(Image.fromarray(rgb), *box, [112, 112],
                                    mode))[..., ::-1]  # RGB -> BGR
    out = {}
    for backend in ('pillow', 'cv2'):
        t = RandomResizedCrop(scale=112, interpolation=interpolation,
                              backend=backend)
        monkeypatch.setattr(t, 'rand_crop_params', lambda img: box)
        out[backend] = t.transform(dict(img=rgb[..., ::-1].copy()))['img']
    np.testing.assert_array_equal(out['pillow'], ref)
    diff = np.abs(out['cv2'].astype(int) - ref.astype(int))
    assert diff.mean() > 1.0  # OpenCV does not antialias


@pytest.mark.parametrize('path', PRE, ids=[osp.basename(p)[:-3] for p in PRE])
def test_pretraining_crops_resize_with_pillow(path):
    assert _crop(_load(path)).get('backend') == 'pillow'


RSB_A2 = sorted(glob.glob(osp.join(
    ROOT, 'configs/classification/*/resnet*-rsb-a2-300e_in1k.py')))


@pytest.mark.parametrize('path', RSB_A2,
                         ids=[osp.basename(p)[:-3] for p in RSB_A2])
def test_rsb_a2_repeats_augmentations(path):
    """openmixup's A2 fine-tunes inherit configs/benchmarks/classification/
    _base_/datasets/imagenet_rsb_a2_ft_sz224_8xbs256.py, whose top-level
    ``sampler = "RepeatAugSampler"`` openmixup/apis/train.py reads."""
    sampler = _load(path).train_dataloader.sampler
    assert sampler.type == 'RepeatAugSampler'
    assert sampler.get('num_repeats', 3) == 3


@pytest.mark.parametrize('path, loader_drop_last', [
    # microsoft/SimMIM data/data_simmim.py, data/data_finetune.py
    ('configs/pretrain/simmim/simmim_vit-base-p16_8xb128-accu2-step-800e_'
     'in1k.py', True),
    ('configs/pretrain/simmim/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-'
     '192px.py', True),
    ('configs/classification/simmim/vit-base-p16_simmim-pre_8xb128-coslr-'
     '100e_in1k.py', True),
    ('configs/classification/simmim/swin-base-w7_simmim-pre_8xb256-coslr-'
     '100e_in1k.py', True),
    # BEiT v2 run_beitv2_pretraining.py / run_class_finetuning.py
    ('configs/pretrain/maskdistill/maskdistill_vit-base-p16_8xb256-coslr-'
     '300e_in1k.py', True),
    # openmixup: cfg.data.drop_last defaults to False (apis/train.py)
    ('configs/pretrain/simmim/simmim_vit-small-p16_8xb256-amp-step-800e_'
     'in1k.py', False),
    ('configs/pretrain/a2mim/a2mim_vit-base_8xb128-accu2-step-800e_in1k.py',
     False),
])
def test_last_partial_batch_as_the_official_loader(path, loader_drop_last):
    assert bool(_load(path).train_dataloader.get('drop_last')) == \
        loader_drop_last


def test_maskdistill_fine_tune_is_beit_v2s():
    """microsoft/unilm beit2/run_class_finetuning.py: no gradient clipping
    (``--clip_grad`` None), relative position tables decayed (only 1-D
    parameters, biases, pos_embed and cls_token exempt, optim_factory.py),
    head trunc-normal(0.02) x init_scale 0.001 (modeling_finetune.py)."""
    from mim_plugins.apis import build_model_from_cfg
    cfg = _load('configs/classification/maskdistill/vit-base-p16_maskdistill-'
                'pre_8xb128-coslr-100e_in1k.py')
    assert cfg.optim_wrapper.get('clip_grad') is None
    keys = cfg.optim_wrapper.paramwise_cfg.custom_keys
    assert keys['relative_position_bias_table'].decay_mult == 1.0
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.65
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone.arch = dict(embed_dims=64, num_layers=1, num_heads=2,
                                   feedforward_channels=128)
    cfg.model.head.in_channels = 64
    torch.manual_seed(0)
    model = build_model_from_cfg(cfg)
    model.init_weights()
    std = model.head.fc.weight.std().item()
    assert 1.6e-5 < std < 2.4e-5, std


def test_maskdistill_segmentation_is_beit_v2s():
    """microsoft/unilm beit2/semantic_segmentation/configs/beit/upernet/
    upernet_beit_base_12_512_slide_160k_ade20k.py: AdamW 5e-5, layer decay
    0.75, drop path 0.15."""
    cfg = _load('configs/segmentation/maskdistill/upernet_vit-base-p16_'
                'maskdistill-pre_8xb2-amp-160k_ade20k-512x512.py')
    assert cfg.optim_wrapper.optimizer.lr == 5e-5
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.75
    assert cfg.model.backbone.drop_path_rate == 0.15
    assert cfg.optim_wrapper.get('clip_grad') is None


MD = 'configs/{}/maskdistill/'
VIT_H = dict(embed_dims=1280, num_layers=32, num_heads=16,
             feedforward_channels=5120)


@pytest.mark.parametrize('size', ['large', 'huge'])
def test_maskdistill_large_models_follow_beit_v2_large(size):
    """ViT-L/H (no official MaskDistill code; docs/fidelity.md): BEiT v2's
    large recipes (beit2/PRETRAINING.md: layer scale 1e-5;
    get_started_for_image_classification.md: ViT-L 50 epochs, lr 5e-4 @
    1024, layer decay 0.8, drop path 0.2; upernet_beit_large_24_512_slide_
    160k_ade20k_pt2ft.py: lr 4e-5, layer decay 0.9, drop path 0.2, layers
    8/12/16/24), ViT-H with MAE's drop path 0.3; batch 2048 / 1024 / 16;
    a CLIP ViT-L/14 teacher on the student's patch grid, 40% masked."""
    pre = _load(MD.format('pretrain') + (
        'maskdistill_vit-large-p16_8xb64-accu4-coslr-300e_in1k.py'
        if size == 'large' else
        'maskdistill_vit-huge-p14_8xb256-fsdp-coslr-300e_in1k.py'))
    accu = pre.optim_wrapper.get('accumulative_counts', 1)
    assert pre.train_dataloader.batch_size * 8 * accu == 2048
    assert pre.model.backbone.layer_scale_init_value == 1e-5
    assert pre.train_cfg.max_epochs == 300
    assert pre.optim_wrapper.optimizer.lr == 1.5e-3
    assert pre.optim_wrapper.optimizer.betas == (0.9, 0.98)
    teacher = pre.model.target_generator
    assert (teacher.arch, teacher.patch_size, teacher.out_channels) == (
        'l', 14, 768)
    assert pre.model.head.out_channels == 768
    patch = pre.model.backbone.patch_size
    grid = 224 // patch
    assert teacher.get('input_size', 224) == grid * 14
    masker = pre.train_dataloader.dataset.pipeline[-2]
    assert masker.type == 'BEiTv2MaskGenerator'
    assert tuple(masker.input_size) == (grid, grid)
    # BEiT's 75 of 196 patches; 40% of ViT-H/14's 256
    assert masker.num_masking_patches == {196: 75, 256: 102}[grid * grid]
    ft = _load(MD.format('classification') + (
        'vit-large-p16_maskdistill-pre_8xb64-accu2-coslr-50e_in1k.py'
        if size == 'large' else
        'vit-huge-p14_maskdistill-pre_8xb32-accu4-coslr-50e_in1k.py'))
    accu = ft.optim_wrapper.get('accumulative_counts', 1)
    assert ft.train_dataloader.batch_size * 8 * accu == 1024
    assert ft.train_cfg.max_epochs == 50
    assert ft.optim_wrapper.optimizer.lr == 5e-4
    assert ft.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.8
    assert ft.model.backbone.drop_path_rate == (0.2 if size == 'large'
                                                else 0.3)
    assert ft.param_scheduler[0].end == 5
    assert ft.optim_wrapper.get('clip_grad') is None
    seg = _load(MD.format('segmentation') + (
        f'upernet_vit-{size}-p{16 if size == "large" else 14}_maskdistill-'
        f'pre_8xb2-amp-160k_ade20k-512x512.py'))
    assert seg.optim_wrapper.optimizer.lr == 4e-5
    assert seg.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.9
    assert seg.model.backbone.drop_path_rate == (0.2 if size == 'large'
                                                 else 0.3)
    assert tuple(seg.model.backbone.out_indices) == (
        (7, 11, 15, 23) if size == 'large' else (7, 15, 23, 31))
    assert seg.train_dataloader.batch_size * 8 == 16
    for cfg in (pre, ft, seg):
        arch = cfg.model.backbone.arch
        assert arch == ('large' if size == 'large' else VIT_H)
        assert cfg.model.backbone.patch_size == patch


def test_upernet_vit_groups_equal_mmseg_layer_decay_constructor():
    """The ADE20K ViT-B recipe names mmseg's LayerDecayOptimizerConstructor
    (Westlake-AI/A2MIM seg_mmsegmentation/configs/ade20k/
    upernet_mae_base_8x2_512x512_160k_ade20k.py): every parameter gets the
    same lr and weight decay from ours as from mmseg's, on the real UperNet
    of the config (shrunk): 1-D parameters (SyncBN of neck and heads
    included) and biases without decay, pos_embed / cls_token / relative
    position tables with it (mmseg's name test never matches the prefixed
    names)."""
    import mim_plugins.seg  # noqa: F401
    from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as ROOT_C
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS as SEG_C
    init_default_scope('mmseg')
    cfg = _load('configs/segmentation/a2mim/upernet_vit-base-p16_a2mim-pre_'
                '8xb2-amp-160k_ade20k-512x512.py')
    m = cfg.model
    m.backbone.update(arch=dict(embed_dims=64, num_layers=12, num_heads=2,
                                feedforward_channels=128), img_size=64,
                      patch_size=16, init_cfg=None)
    m.neck.embed_dim = 64
    m.decode_head.update(in_channels=[64] * 4, channels=32)
    m.auxiliary_head.update(in_channels=64, channels=16)
    for part in ('decode_head', 'auxiliary_head'):
        m[part].norm_cfg = dict(type='BN', requires_grad=True)
    m.neck.norm_cfg = dict(type='BN', requires_grad=True)
    model = MODELS.build(m)
    ow = cfg.optim_wrapper
    optimizer = dict(type='AdamW', lr=1e-4, weight_decay=0.05)

    def groups(builder, paramwise):
        c = builder(dict(type='OptimWrapper', optimizer=optimizer), paramwise)
        names = {id(p): n for n, p in model.named_parameters()}
        return {names[id(p)]: (g['lr'], g['weight_decay'])
                for g in c(model).optimizer.param_groups for p in g['params']}

    ours = groups(ROOT_C.get(ow.constructor), dict(ow.paramwise_cfg))
    official = groups(SEG_C.get('LayerDecayOptimizerConstructor'),
                      dict(num_layers=12, layer_decay_rate=0.65))
    assert ours.keys() == official.keys()
    for name in official:
        assert ours[name][1] == official[name][1], name
        assert abs(ours[name][0] - official[name][0]) < 1e-15, name
    # what the old custom keys got wrong
    assert official['backbone.pos_embed'][1] == 0.05
    assert official['decode_head.bottleneck.bn.weight'][1] == 0.


def test_simple_fpn_has_no_activation_and_vitdet_norm():
    """detectron2 SimpleFeaturePyramid and mmdet projects/ViTDet SimpleFPN:
    no activation after the lateral and output convs; LayerNorm eps 1e-6."""
    import mim_plugins.det  # noqa: F401
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg = _load('configs/detection/a2mim/mask-rcnn_vit-base-p16-sfpn_a2mim-'
                'pre_8xb2-amp-lsj-100e_coco.py')
    neck = dict(cfg.model.neck, backbone_channel=64, in_channels=None,
                out_channels=16)
    fpn = MODELS.build(neck)
    for conv in list(fpn.lateral_convs) + list(fpn.fpn_convs):
        assert not conv.with_activation
        assert conv.norm.eps == 1e-6
    torch.manual_seed(0)
    outs = fpn((torch.randn(1, 64, 4, 4), ))
    assert all((o < 0).any() for o in outs)


def test_upernet_vit_poly_spans_the_whole_run_as_mmcv():
    """Westlake-AI/A2MIM upernet_mae_base_8x2_512x512_160k_ade20k.py:
    lr_config policy='poly' (power 1, by_epoch=False) over all 160k
    iterations, its warm-up multiplying it by 1e-6 + (1 - 1e-6) k / 1500
    (mmcv 1.x lr_updater.py); ours within 1 / 1500 of the lr."""
    from mmengine.registry import PARAM_SCHEDULERS
    cfg = _load('configs/segmentation/a2mim/upernet_vit-base-p16_a2mim-pre_'
                '8xb2-amp-160k_ade20k-512x512.py')
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.)
    scheds = [PARAM_SCHEDULERS.build(dict(s, optimizer=opt))
              for s in cfg.param_scheduler]
    worst = 0.
    for k in range(160000):
        warm = 1e-6 + (1 - 1e-6) * k / 1500 if k < 1500 else 1.
        worst = max(worst, abs(opt.param_groups[0]['lr'] -
                               (1 - k / 160000) * warm))
        for s in scheds:
            s.step()
    assert worst <= 1 / 1500 + 1e-9, worst


def test_vit_feature_pyramid_starts_as_cae():
    """CAE's detection backbone (lxtGH/CAE downstream_tasks/detection/
    models/vision_transformer.py ``_init_weights``) draws only Linear and
    LayerNorm weights: its fpn1/fpn2 deconvolutions keep PyTorch's default
    (uniform within 1 / sqrt(fan_in), fan_in = out_channels x 2 x 2 for a
    ConvTranspose2d) and the BatchNorm 1/0. Ours, built from the ViT-B
    Mask R-CNN config and ``init_weights()``-ed, does the same."""
    import mim_plugins.det  # noqa: F401
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg = _load('configs/detection/a2mim/mask-rcnn_vit-base-p16-fpn_a2mim-'
                'pre_8xb2-1x_coco.py')
    neck = dict(cfg.model.neck[0], embed_dims=64,
                norm_cfg=dict(type='BN', requires_grad=True))
    torch.manual_seed(0)
    fpn = MODELS.build(neck)
    fpn.init_weights()
    deconvs = [m for m in fpn.modules()
               if isinstance(m, torch.nn.ConvTranspose2d)]
    assert len(deconvs) == 3
    for m in deconvs:
        bound = 1 / (m.weight.shape[1] * 4)**0.5
        assert m.weight.abs().max() <= bound
        assert abs(m.weight.std().item() - bound / 3**0.5) < 0.1 * bound
        assert m.bias.any()
    bn = [m for m in fpn.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bn and all((b.weight == 1).all() and not b.bias.any() for b in bn)


CLS = sorted(glob.glob(osp.join(ROOT, 'configs/classification/*/*.py')))


@pytest.mark.parametrize('path', CLS, ids=[osp.basename(p)[:-3] for p in CLS])
def test_ema_averages_once_per_optimizer_step(path):
    """openmixup's EMAHook(update_interval=...) averages right after each
    optimizer step: every EMA of ours is a StepEMA whose interval is the
    optim wrapper's accumulation."""
    cfg = _load(path)
    for hook in cfg.get('custom_hooks', []):
        if hook.type == 'EMAHook':
            assert hook.get('ema_type') == 'StepEMA'
            assert hook.get('interval', 1) == cfg.optim_wrapper.get(
                'accumulative_counts', 1)
