"""ConvNeXt, Swin and ResNet-200 MIM backbones: the ResNet/ViT contract.

No mask (or an all-zero one) is exactly the plain mmpretrain backbone; the
token lands on the masked positions of its stage only (added, or replacing,
after the optional gamma); a wrong mask grid is a clear error; a
pre-training checkpoint loads into the downstream backbones of mmpretrain,
mmdet and mmseg with ``prefix='backbone.'`` and no key surgery.
"""
import pytest
import torch
from mmengine.model import BaseModule

from mmpretrain.registry import MODELS

TINY_CONVNEXT = dict(depths=[1, 1, 1, 1], channels=[16, 32, 64, 128])
TINY_SWIN = dict(embed_dims=32, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2])
SIZE = 64


def convnext_cfg(**kw):
    return dict(dict(type='A2MIMConvNeXt', arch=TINY_CONVNEXT), **kw)


def swin_cfg(**kw):
    return dict(dict(type='A2MIMSwin', arch=TINY_SWIN, img_size=SIZE,
                     drop_path_rate=0.,
                     stage_cfgs=dict(block_cfgs=dict(window_size=2))), **kw)


def _grid(model) -> int:
    """Mask grid of the masked stage at ``SIZE`` px."""
    return SIZE // (4 * 2**model.mask_layer)


def _plain_cfg(model_type: str) -> dict:
    """mmpretrain's plain backbone of the tiny arch."""
    if 'ConvNeXt' in model_type:
        return dict(type='ConvNeXt', arch=TINY_CONVNEXT,
                    gap_before_final_norm=False)
    return swin_cfg(type='SwinTransformer')


def _plain(model, **kw):
    """The plain backbone of the same arch, with the model's weights."""
    plain = MODELS.build(dict(_plain_cfg(type(model).__name__),
                              out_indices=(3, ), **kw))
    missing, unexpected = plain.load_state_dict(model.state_dict(),
                                                strict=False)
    assert not missing
    assert set(unexpected) <= {'mask_token', 'mask_gamma'}
    plain.eval()
    return plain


CASES = [convnext_cfg(), convnext_cfg(mask_layer=1, mask_init=0.5),
         convnext_cfg(type='SimMIMConvNeXt'), swin_cfg(),
         swin_cfg(mask_layer=2, mask_init=0.5),
         swin_cfg(mask_layer=3, use_abs_pos_embed=True)]


@pytest.mark.parametrize('cfg', CASES, ids=[
    f"{c['type']}-l{c.get('mask_layer', 'default')}" for c in CASES])
def test_zero_mask_is_the_plain_backbone_and_token_gets_gradients(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.eval()
    extra = {k: cfg[k] for k in ('use_abs_pos_embed', ) if k in cfg}
    plain = _plain(model, **extra)
    x = torch.randn(2, 3, SIZE, SIZE)
    g = _grid(model)
    zeros = torch.zeros(2, g, g, dtype=torch.long)
    ref = plain(x)[-1]
    assert torch.equal(model(x)[-1], ref)  # exactly, no tolerance
    assert torch.equal(model(x, zeros)[-1], ref)

    model.train()
    mask = torch.randint(0, 2, (2, g, g))
    model(x, mask)[-1].pow(2).mean().backward()
    assert model.mask_token.grad.abs().sum() > 0
    if model.mask_gamma is not None:
        assert model.mask_gamma.grad.abs().sum() > 0


def _masked_stage_input(model, x, mask):
    """The tensor the masked stage receives (ConvNeXt: (B, C, h, w); Swin:
    the (B, L, C) tokens)."""
    block = model.stages[model.mask_layer]
    seen = []
    h = block.register_forward_pre_hook(
        lambda m, args: seen.append(args[0].detach().clone()))
    model(x, mask)
    h.remove()
    return seen[0]


@pytest.mark.parametrize('cfg', [convnext_cfg(),
                                 convnext_cfg(mask_layer=0),
                                 swin_cfg(), swin_cfg(mask_layer=3)])
def test_residual_token_is_added_at_the_masked_positions_only(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.eval()
    g = _grid(model)
    x = torch.randn(2, 3, SIZE, SIZE)
    mask = torch.randint(0, 2, (2, g, g))
    mask[0, 0, 0], mask[0, 0, 1] = 1, 0
    diff = _masked_stage_input(model, x, mask) - _masked_stage_input(
        model, x, torch.zeros_like(mask))
    token = model.mask_token.detach()
    if diff.dim() == 4:  # ConvNeXt: (B, C, h, w)
        expected = token * mask[:, None].float()
        touched = diff.abs().sum(1) > 0
    else:  # Swin: (B, L, C)
        expected = token * mask.flatten(1)[..., None].float()
        touched = (diff.abs().sum(-1) > 0).view_as(mask)
    torch.testing.assert_close(diff, expected, rtol=0, atol=1e-6)
    assert touched.long().equal(mask)


def test_simmim_convnext_replaces_the_stem_features():
    model = MODELS.build(convnext_cfg(type='SimMIMConvNeXt'))
    model.eval()
    assert model.mask_layer == 0 and model.replace
    mask = torch.randint(0, 2, (2, 16, 16))
    feats = _masked_stage_input(model, torch.randn(2, 3, SIZE, SIZE), mask)
    m = mask[:, None].bool().expand_as(feats)
    token = model.mask_token.detach().expand_as(feats)
    assert torch.equal(feats[m], token[m])


@pytest.mark.parametrize('cfg', [convnext_cfg(mask_init=0.5),
                                 swin_cfg(mask_init=0.5)])
def test_mask_gamma_scales_the_masked_features(cfg):
    model = MODELS.build(cfg)
    model.eval()
    assert model.mask_gamma.shape == model.mask_token.shape
    with torch.no_grad():
        model.mask_token.zero_()
    g = _grid(model)
    x = torch.randn(1, 3, SIZE, SIZE)
    ones = torch.ones(1, g, g, dtype=torch.long)
    got = _masked_stage_input(model, x, ones)
    ref = _masked_stage_input(model, x, torch.zeros_like(ones))
    torch.testing.assert_close(got, 0.5 * ref)


def test_a_mask_grid_that_does_not_fit_the_stage_is_a_clear_error():
    convnext = MODELS.build(convnext_cfg())  # stage 3: stride 32, 2x2
    with pytest.raises(ValueError, match='model_patch_size=32'):
        convnext(torch.randn(1, 3, SIZE, SIZE), torch.zeros(1, 16, 16))
    swin = MODELS.build(swin_cfg())  # patch embedding: stride 4, 16x16
    with pytest.raises(ValueError, match='model_patch_size=4'):
        swin(torch.randn(1, 3, SIZE, SIZE), torch.zeros(1, 2, 2))
    with pytest.raises(ValueError, match=r'shape \(B, h, w\)'):
        swin(torch.randn(1, 3, SIZE, SIZE), torch.zeros(16, 16))
    with pytest.raises(ValueError, match='mask_layer=4 is outside'):
        MODELS.build(convnext_cfg(mask_layer=4))
    with pytest.raises(ValueError, match='mask_layer=4 is outside'):
        MODELS.build(swin_cfg(mask_layer=4))
    with pytest.raises(ValueError, match='mask_token'):
        MODELS.build(convnext_cfg(mask_token='mean'))


def _checkpoint(model, path):
    """An algorithm-style checkpoint: the backbone under ``backbone.``,
    next to a decoder."""
    state = {f'backbone.{k}': v for k, v in model.state_dict().items()}
    state['neck.decoder.0.weight'] = torch.zeros(1)
    torch.save(dict(state_dict=state), path)
    return str(path)


def _load_pretrained(cfg, ckpt):
    """Build ``cfg`` (its ``_scope_``: mmpretrain, mmdet or mmseg), check
    that its Pretrained init loads every weight (but new output norms) and
    run it."""
    from mim_plugins.engine.pretrained_check import check_pretrained
    cfg = dict(cfg, init_cfg=dict(type='Pretrained', checkpoint=ckpt,
                                  prefix='backbone.'))
    module = MODELS.build(cfg)
    holder = BaseModule()
    holder.backbone = module
    check_pretrained(holder, allow_missing=[r'^norm[0-2]\.'])
    module.init_weights()
    return module


def test_convnext_and_swin_checkpoints_load_downstream(tmp_path):
    """mmpretrain's ConvNeXt/Swin (also what the mmdet/mmseg configs use,
    with four outputs) take every pre-trained weight; mmdet's and mmseg's own
    SwinTransformer have the same keys and compute the same features."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, SIZE, SIZE)
    for cfg in (convnext_cfg(), swin_cfg()):
        model = MODELS.build(cfg)
        model.init_weights()
        model.eval()
        ckpt = _checkpoint(model, tmp_path / f"{cfg['type']}.pth")
        plain = _plain(model)
        down = dict(_plain_cfg(cfg['type']), out_indices=(0, 1, 2, 3))
        module = _load_pretrained(down, ckpt)
        module.eval()
        assert torch.equal(module(x)[-1], plain(x)[-1])
        if 'Swin' in cfg['type']:
            state = {k: v for k, v in model.state_dict().items()
                     if not k.startswith('mask_')}
            for scope in ('mmdet', 'mmseg'):
                other = MODELS.build(dict(
                    type='SwinTransformer', _scope_=scope, embed_dims=32,
                    depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2],
                    window_size=2, drop_path_rate=0., out_indices=(3, )))
                other.load_state_dict(state, strict=True)
                other.eval()
                torch.testing.assert_close(other(x)[-1], plain(x)[-1])


def test_swin_window_6_checkpoint_loads_into_window_7():
    """The 192-px pre-training (window 6) into the 224-px fine-tuning
    (window 7): the relative position tables are resized on load."""
    arch = dict(embed_dims=32, depths=[2, 2, 2, 2], num_heads=[1, 1, 2, 2])
    pre = MODELS.build(dict(type='A2MIMSwin', arch=arch, img_size=192,
                            stage_cfgs=dict(block_cfgs=dict(window_size=6))))
    down = MODELS.build(dict(type='SwinTransformer', arch=arch,
                             img_size=224, window_size=7))
    state = {k: v for k, v in pre.state_dict().items()
             if not k.startswith('mask_')}
    missing, unexpected = down.load_state_dict(state, strict=False)
    assert not unexpected
    assert all(k.endswith('relative_position_index') for k in missing)
    table = 'stages.0.blocks.0.attn.w_msa.relative_position_bias_table'
    assert down.state_dict()[table].shape == (13 * 13, 1)


def test_resnet200_pretrains_and_loads_into_every_downstream(tmp_path):
    """Depth 200 ((3, 24, 36, 3) Bottlenecks) in our MIMResNet, and in the
    DeepResNet registered in mmpretrain, mmdet and mmseg."""
    import mim_plugins.det  # noqa: F401
    import mim_plugins.seg  # noqa: F401
    small = dict(depth=200, stem_channels=8, base_channels=8)
    model = MODELS.build(dict(type='A2MIMResNet', **small))
    assert [len(getattr(model, n)) for n in model.res_layers] == \
        [3, 24, 36, 3]
    model.eval()
    x = torch.randn(1, 3, 32, 32)
    ckpt = _checkpoint(model, tmp_path / 'r200.pth')
    ref = model(x)[-1]
    for scope in ('mmpretrain', 'mmdet', 'mmseg'):
        down = _load_pretrained(
            dict(type='DeepResNet', _scope_=scope, **small), ckpt)
        assert type(down).__module__.startswith(
            'mim_plugins.' + dict(mmpretrain='models', mmdet='det',
                                  mmseg='seg')[scope])
        down.eval()
        torch.testing.assert_close(down(x)[-1], ref, rtol=0, atol=0)
    with pytest.raises(KeyError, match='invalid depth 200'):
        MODELS.build(dict(type='ResNet', **small))


@pytest.mark.parametrize('name,token', [
    ('a2mim/a2mim_convnext-base_8xb256-amp-coslr-300e_in1k.py',
     (1, 1024, 1, 1)),
    ('simmim/simmim_convnext-small_8xb256-amp-coslr-300e_in1k.py',
     (1, 96, 1, 1)),
    ('a2mim/a2mim_swin-base-w6_8xb128-accu2-coslr-100e_in1k-192px.py',
     (1, 1, 128)),
])
def test_paper_configs_mask_where_their_mask_generator_says(name, token):
    """The full configs: the token of the official stage, and the config's
    own mask generator's grid fits it at the config's crop size."""
    import os.path as osp
    from mmengine.config import Config
    from mmpretrain.registry import TRANSFORMS
    from mmpretrain.structures import DataSample
    from helpers import ROOT
    from mim_plugins.apis import build_model_from_cfg
    from mim_plugins.engine import adapt_cfg_to_device
    cfg = adapt_cfg_to_device(
        Config.fromfile(osp.join(ROOT, 'configs/pretrain', name)))
    model = build_model_from_cfg(cfg)
    model.eval()
    assert model.backbone.mask_token.shape == token
    gen_cfg = next(t for t in cfg.train_dataloader.dataset.pipeline
                   if t.type == 'BlockwiseMaskGenerator')
    size = gen_cfg.input_size
    mask = TRANSFORMS.build(gen_cfg)(dict(img_shape=(size, size)))['mask']
    x = torch.randn(1, 3, size, size)
    samples = [DataSample().set_mask(torch.as_tensor(mask))]
    with torch.no_grad():
        loss = model.loss(x, samples)
    assert all(torch.isfinite(v) for v in loss.values())


@pytest.mark.parametrize('cfg', [convnext_cfg(mask_layer=0),
                                 convnext_cfg(mask_layer=3),
                                 swin_cfg(), swin_cfg(mask_layer=2)])
def test_reconstruction_masks_are_drawn_on_the_masked_grid(cfg):
    """The reconstruction hook's random mask (``mask_stride``) has the grid
    of the stage ``mask_layer`` names, for every backbone."""
    from mim_plugins.visualization import mask_stride, random_block_mask
    model = MODELS.build(cfg).eval()
    assert mask_stride(model) == SIZE // _grid(model)
    mask = random_block_mask(type('M', (), {'backbone': model}), 2,
                             (SIZE, SIZE), mask_patch_size=16)
    assert tuple(mask.shape) == (2, _grid(model), _grid(model))
    with torch.no_grad():
        model(torch.randn(2, 3, SIZE, SIZE), mask)
