"""Every pre-training model starts as its official code starts.

Each pre-training config is built and ``init_weights()``-ed as the Runner
does it, then every parameter is checked against the initialisation rule of
the official code the config follows, by statistics: the standard deviation
of a weight drawn trunc-normal(0.02) cut at +-2 (mmcv/timm's default
bounds) is 0.02; cut at +-0.02 (BEiT's ``trunc_normal_``, also in
microsoft/SimMIM's ViT) it is 0.54 x 0.02 and no value exceeds 0.02;
PyTorch's default conv/linear init is uniform within 1/sqrt(fan_in) with a
non-zero bias. Official sources, as ``repository:path:line``:

- openmixup = Westlake-AI/openmixup (``openmixup/models/...``);
- SimMIM = microsoft/SimMIM (``models/...``);
- BEiTv2 = microsoft/unilm (``beit2/modeling_pretrain.py``).

A standard deviation is checked to 10%, or to 5 standard errors
(``5 / sqrt(2 n)`` relative) for a tensor of fewer than ~1250 values.
"""
import glob
import math
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from mmpretrain.registry import MODELS

from helpers import ROOT

#: std of N(0, 1) truncated at +-1
TRUNC1 = 0.5395685
PRE = osp.join(ROOT, 'configs/pretrain')


def build(config: str, **backbone) -> nn.Module:
    cfg = Config.fromfile(osp.join(PRE, config))
    cfg.model.backbone.update(backbone)
    if 'target_generator' in cfg.model:  # no CLIP weights here
        cfg.model.target_generator.update(
            arch=dict(embed_dims=64, num_layers=1, num_heads=2,
                      feedforward_channels=128),
            checkpoint=None, random_init=True)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def close(x: float, target: float, tol: float = 0.1) -> bool:
    return abs(x - target) <= tol * target


def std_tol(t: torch.Tensor) -> float:
    return max(0.1, 5 / math.sqrt(2 * t.numel()))


def linears(module: nn.Module):
    return [(n, m) for n, m in module.named_modules()
            if isinstance(m, nn.Linear)]


def assert_trunc_normal(name: str, w: torch.Tensor, std: float,
                        cutoff: float, source: str) -> None:
    """``w`` ~ trunc-normal(0, std) cut at +-cutoff (checked as: std, and
    the bound when it binds)."""
    w = w.detach().float()
    if cutoff < 3 * std:  # the cut binds: std shrinks, values stay inside
        expect = std * TRUNC1 if cutoff == std else None
        assert w.abs().max() <= cutoff + 1e-7, (name, source)
        if expect is not None:
            assert close(w.std().item(), expect, std_tol(w)), (name, w.std(),
                                                               source)
    else:
        assert close(w.std().item(), std, std_tol(w)), (name, w.std(),
                                                        source)
        if w.numel() >= 4096:  # values beyond 1 std: the cut is not at std
            assert w.abs().max() > std, (name, source)


def assert_zero(name: str, t: torch.Tensor, source: str) -> None:
    assert t is not None and not t.detach().any(), (name, source)


def assert_layer_norms(module: nn.Module, source: str) -> None:
    for name, m in module.named_modules():
        if isinstance(m, nn.LayerNorm) and m.elementwise_affine:
            assert (m.weight == 1).all() and not m.bias.any(), (name, source)


def assert_pytorch_default(name: str, m: nn.Module, source: str) -> None:
    """PyTorch's reset_parameters: U(+-1/sqrt(fan_in)) weight and bias."""
    fan_in = m.weight[0].numel()
    bound = 1 / math.sqrt(fan_in)
    assert m.weight.abs().max() <= bound + 1e-7, (name, source)
    assert close(m.weight.std().item(), bound / math.sqrt(3)), (name, source)
    assert m.bias.abs().max() <= bound and m.bias.any(), (name, source)


# --------------------------------------------------------------------------
# ViTs
# --------------------------------------------------------------------------
OPENMIXUP_VIT = (
    'openmixup:models/backbones/vision_transformer.py:466-480 (every Linear '
    'trunc_normal_init(std=0.02, bias=0) after the layers\' xavier FFN init '
    'of lines 155-167; LayerNorms 1/0; pos_embed and cls_token '
    'trunc_normal_(std=.02)), utils/layers/attention.py:808-821 (q/v biases '
    'and relative position tables created as zeros, never drawn), '
    'backbones/mim_vit.py:321-330 (mask token trunc_normal_(std=0.02))')
BEIT_VIT = (
    'SimMIM:models/vision_transformer.py:259-292 (_init_weights: Linear and '
    'Conv2d trunc-normal(0.02), zero bias, LayerNorms 1/0; fix_init_weight '
    'divides attn.proj and mlp.fc2 of layer i by sqrt(2 i)) with '
    'models/simmim.py:64-67 (_trunc_normal_ cut at a=-std, b=std, also for '
    'the mask token); BEiTv2:24-25, 66-95 (the same rules); relative '
    'position tables created as zeros (SimMIM:vision_transformer.py:63,186)')


def check_vit(backbone: nn.Module, style: str,
              layer_scale: float = 0.1) -> None:
    beit = style == 'beit'
    source = BEIT_VIT if beit else OPENMIXUP_VIT
    cutoff = .02 if beit else 2.
    eff = .02 * TRUNC1 if beit else .02
    layers = backbone.layers
    for name, m in linears(backbone):
        if beit and name.endswith(('attn.proj', 'ffn.layers.1')):
            continue  # rescaled, below
        assert_trunc_normal(name, m.weight, .02, cutoff, source)
        if m.bias is not None:
            assert_zero(name + '.bias', m.bias, source)
    # BEiT rescale: std of layer i's output projections is eff / sqrt(2 i)
    for i, layer in enumerate(layers, start=1):
        for name, m in (('attn.proj', layer.attn.proj),
                        ('ffn.layers.1', layer.ffn.layers[1])):
            scale = math.sqrt(2 * i) if beit else 1.
            assert close(m.weight.std().item(), eff / scale), (i, name,
                                                               source)
            assert_zero(name, m.bias, source)
    first = layers[0].attn.proj.weight.std()
    last = layers[-1].attn.proj.weight.std()
    ratio = math.sqrt(1 / len(layers)) if beit else 1.
    assert close((last / first).item(), ratio, 0.15), (last / first, source)
    conv = backbone.patch_embed.projection
    if beit:
        assert_trunc_normal('patch_embed', conv.weight, .02, cutoff, source)
        assert_zero('patch_embed.bias', conv.bias, source)
    else:  # openmixup's PatchEmbed is not drawn: PyTorch's default
        assert_pytorch_default('patch_embed', conv, source)
    assert_layer_norms(backbone, source)
    for name in ('cls_token', 'pos_embed', 'mask_token'):
        t = getattr(backbone, name)
        if t is not None:
            assert_trunc_normal(name, t, .02, cutoff, source)
    for name, p in backbone.named_parameters():
        if name.endswith(('relative_position_bias_table', 'q_bias',
                          'v_bias')):
            assert_zero(name, p, source)
    for layer in layers:  # layer scale (init_values): 0.1, 1e-5 (large)
        assert (layer.gamma_1 == layer_scale).all() and \
            (layer.gamma_2 == layer_scale).all()


VIT_CONFIGS = [
    # config, style, the backbone shrunk (the rules do not depend on size)
    ('a2mim/a2mim_vit-base_8xb128-accu2-step-800e_in1k.py', 'openmixup', {}),
    ('a2mim/a2mim_vit-small_8xb256-step-800e_in1k.py', 'openmixup', {}),
    ('a2mim/a2mim_vit-large_8xb128-accu2-step-800e_in1k.py', 'openmixup',
     dict(arch=dict(embed_dims=1024, num_layers=2, num_heads=16,
                    feedforward_channels=4096))),
    ('simmim/simmim_vit-base-p16_8xb128-accu2-step-800e_in1k.py', 'beit', {}),
    ('simmim/simmim_vit-small-p16_8xb256-amp-step-800e_in1k.py', 'openmixup',
     {}),
    ('simmim/simmim_vit-large-p16_8xb128-accu2-amp-step-800e_in1k.py',
     'openmixup', dict(arch=dict(embed_dims=1024, num_layers=2, num_heads=16,
                                 feedforward_channels=4096))),
    ('maskdistill/maskdistill_vit-base-p16_8xb256-coslr-300e_in1k.py', 'beit',
     {}),
    ('maskdistill/maskdistill_vit-large-p16_8xb64-accu4-coslr-300e_in1k.py',
     'beit', dict(arch=dict(embed_dims=1024, num_layers=2, num_heads=16,
                            feedforward_channels=4096))),
    ('maskdistill/maskdistill_vit-huge-p14_8xb256-fsdp-coslr-300e_in1k.py',
     'beit', dict(arch=dict(embed_dims=1280, num_layers=2, num_heads=16,
                            feedforward_channels=5120))),
]


@pytest.mark.parametrize('config, style, shrink', VIT_CONFIGS,
                         ids=[c[0].split('/')[1][:30] for c in VIT_CONFIGS])
def test_vit_starts_as_official(config, style, shrink):
    model = build(config, **shrink)
    assert model.backbone.init_style == style
    scale = Config.fromfile(osp.join(PRE, config)).model.backbone.get(
        'layer_scale_init_value', 0.1)
    check_vit(model.backbone, style, scale)


def test_beit_rules_are_checked_for_real():
    """The checks fail on a rule broken: no rescale, or mmpretrain's own
    init (xavier FFN, trunc-normal tables) for the openmixup ViT."""
    cfg = 'simmim/simmim_vit-base-p16_8xb128-accu2-step-800e_in1k.py'
    model = build(cfg)
    for layer in model.backbone.layers:  # undo the rescale
        layer.attn.proj.weight.data.normal_(0, .02 * TRUNC1).clamp_(-.02, .02)
    with pytest.raises(AssertionError):
        check_vit(model.backbone, 'beit')
    upstream = build('a2mim/a2mim_vit-small_8xb256-step-800e_in1k.py',
                     init_style=None)
    with pytest.raises(AssertionError):
        check_vit(upstream.backbone, 'openmixup')
    with pytest.raises(AssertionError):  # +-2 draws are not BEiT's
        check_vit(build(cfg, init_style='openmixup').backbone, 'beit')


@pytest.mark.parametrize('config', [
    'simmim/simmim_vit-base-p16_8xb128-accu2-step-800e_in1k.py',
    'a2mim/a2mim_vit-small_8xb256-step-800e_in1k.py'])
@pytest.mark.parametrize('as_list', [False, True])
def test_pretrained_init_cfg_draws_nothing(config, as_list, tmp_path):
    """A Pretrained init_cfg (alone, or in a list as mmengine allows)
    loads and draws nothing after the load."""
    arch = dict(embed_dims=64, num_layers=2, num_heads=2,
                feedforward_channels=128)
    src = build(config, arch=arch).backbone
    for p in src.parameters():
        p.data.fill_(0.5)
    path = str(tmp_path / 'b.pth')
    torch.save(src.state_dict(), path)
    init = dict(type='Pretrained', checkpoint=path)
    model = build(config, arch=arch, init_cfg=[init] if as_list else init)
    for name, p in model.backbone.named_parameters():
        assert (p == 0.5).all(), name


# --------------------------------------------------------------------------
# Necks and heads
# --------------------------------------------------------------------------
OPENMIXUP_NECK = ('openmixup:models/necks/mim_neck.py:417-425 '
                  '(NonLinearMIMNeck) and 363-366 (SimMIMNeck): '
                  'trunc_normal_init(std=0.02, bias=0)')
SIMMIM_DECODER = ('SimMIM:models/simmim.py:104-110: nn.Conv2d built in '
                  'SimMIM.__init__, never re-initialised')
#: every pre-training config (the tiny demo ones inherit these)
ALL = sorted(osp.relpath(p, PRE) for p in glob.glob(osp.join(PRE, '*', '*.py'))
             if not p.endswith('_demo.py'))
#: microsoft/SimMIM's rows keep PyTorch's default decoder init
MICROSOFT = ('simmim/simmim_vit-base-p16_8xb128-accu2-step-800e_in1k.py',
             'simmim/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py',
             'simmim/simmim_swin-base-w6_8xb256-amp-step-800e_in1k-192px.py')
NECKS = [(c, 'pytorch' if c in MICROSOFT else 'openmixup') for c in ALL
         if not c.startswith('maskdistill')]


@pytest.mark.parametrize('config, rule', NECKS,
                         ids=[c[0].split('/')[1][:30] for c in NECKS])
def test_decoder_starts_as_official(config, rule):
    cfg = Config.fromfile(osp.join(PRE, config))
    torch.manual_seed(0)
    neck = MODELS.build(cfg.model.neck)
    neck.init_weights()
    conv = [m for m in neck.modules() if isinstance(m, nn.Conv2d)]
    assert len(conv) == 1
    if rule == 'openmixup':
        assert_trunc_normal('decoder', conv[0].weight, .02, 2.,
                            OPENMIXUP_NECK)
        assert_zero('decoder.bias', conv[0].bias, OPENMIXUP_NECK)
    else:
        assert_pytorch_default('decoder', conv[0], SIMMIM_DECODER)


def test_maskdistill_head_starts_as_beitv2():
    model = build('maskdistill/maskdistill_vit-base-p16_8xb256-coslr-300e_'
                  'in1k.py', arch=dict(embed_dims=64, num_layers=1,
                                       num_heads=2, feedforward_channels=128))
    fc = model.head.fc
    source = 'BEiTv2:66-73,84-95: lm_head trunc-normal(0.02) cut at +-0.02'
    assert_trunc_normal('head.fc', fc.weight, .02, .02, source)
    assert_zero('head.fc.bias', fc.bias, source)


# --------------------------------------------------------------------------
# CNNs and Swin
# --------------------------------------------------------------------------
OPENMIXUP_RESNET = (
    'openmixup:models/backbones/resnet_mmcls.py:642-657 (kaiming_init '
    'fan_out normal on every conv, norms 1/0, zero_init_residual: the last '
    'norm of each block 0), backbones/mim_resnet.py:49-67 (mask token '
    'trunc_normal_(std=.02), gamma mask_init x ones)')


RESNETS = [c for c in ALL if '_resnet' in c]
CONVNEXTS = [c for c in ALL if '_convnext' in c]
SWINS = [c for c in ALL if '_swin' in c]


@pytest.mark.parametrize('config', RESNETS,
                         ids=[c.split('/')[1][:30] for c in RESNETS])
def test_resnet_starts_as_openmixup(config):
    model = build(config)
    b = model.backbone
    source = OPENMIXUP_RESNET
    for name, m in b.named_modules():
        if isinstance(m, nn.Conv2d) and m.weight.numel() >= 4096:
            fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1]
            assert close(m.weight.std().item(), math.sqrt(2 / fan_out)), (
                name, source)
            assert m.bias is None
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            last = name.endswith('.bn3')  # Bottleneck's last norm
            assert (m.weight == (0 if last else 1)).all(), (name, source)
            assert not m.bias.any(), (name, source)
    assert_trunc_normal('mask_token', b.mask_token, .02, 2., source)
    if 'a2mim' in config:
        assert (b.mask_gamma == 1e-6).all()


OPENMIXUP_CONVNEXT = (
    'openmixup:models/backbones/convnext.py:238-247 (init_cfg: TruncNormal '
    'Conv2d/Linear std .02 bias 0, LayerNorm 1/0), 531 and 538-546 (the mask '
    'token is created as zeros; mmcv\'s trunc_normal_init draws only a '
    'module\'s .weight, so given the Parameter it leaves it at zero)')


@pytest.mark.parametrize('config', CONVNEXTS,
                         ids=[c.split('/')[1][:30] for c in CONVNEXTS])
def test_convnext_starts_as_openmixup(config):
    b = build(config).backbone
    source = OPENMIXUP_CONVNEXT
    for name, m in b.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)) and m.weight.numel() >= 4096:
            assert_trunc_normal(name, m.weight, .02, 2., source)
            assert_zero(name + '.bias', m.bias, source)
    assert_layer_norms(b, source)
    assert_zero('mask_token', b.mask_token, source)
    assert b.mask_token.requires_grad
    for stage in b.stages:  # layer scale 1e-6
        for block in stage:
            assert (block.gamma == 1e-6).all()


OPENMIXUP_SWIN = (
    'openmixup:models/backbones/mim_swin.py:46-67 (every Linear '
    'trunc_normal_init(std=0.02, bias=0), LayerNorms 1/0, mask token '
    'trunc_normal_(std=.02)), utils/layers/attention.py:183 (relative '
    'position tables trunc_normal_(std=0.02)); PatchEmbed not drawn')
SIMMIM_SWIN = (
    'SimMIM:models/swin_transformer.py:111,545-554 (Linear trunc-normal(.02) '
    'bias 0, LayerNorms 1/0, tables trunc-normal(.02), patch embedding '
    'PyTorch\'s default), models/simmim.py:25-26 (mask token)')


@pytest.mark.parametrize('config', SWINS,
                         ids=[c.split('/')[1][:30] for c in SWINS])
def test_swin_starts_as_official(config):
    source = SIMMIM_SWIN if config in MICROSOFT else OPENMIXUP_SWIN
    b = build(config).backbone
    for name, m in linears(b):
        assert_trunc_normal(name, m.weight, .02, 2., source)
        if m.bias is not None:
            assert_zero(name + '.bias', m.bias, source)
    assert_layer_norms(b, source)
    assert_pytorch_default('patch_embed', b.patch_embed.projection, source)
    tables = [p for n, p in b.named_parameters()
              if n.endswith('relative_position_bias_table')]
    assert tables and close(torch.cat([t.flatten() for t in tables]).std()
                            .item(), .02)
    assert_trunc_normal('mask_token', b.mask_token, .02, 2., source)


def test_every_pretraining_config_is_checked():
    vits = {c for c, _, _ in VIT_CONFIGS}
    assert set(RESNETS) | set(CONVNEXTS) | set(SWINS) | vits == set(ALL)
    assert len(ALL) == 27
