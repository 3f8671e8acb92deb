"""Our backbones -> timm's layout, proven by equal features in timm."""
import pytest
import torch

from checkpoint_utils import assert_rel_close, perturb
from helpers import load_tool
from mim_plugins.checkpoints import (LayoutError, convert_checkpoint,
                                     export_timm)
from mim_plugins.checkpoints.common import strip_prefix

export_tool = load_tool('model_converters/export_checkpoint')

timm = pytest.importorskip('timm')
IMG = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
TINY = dict(arch=dict(embed_dims=64, num_layers=2, num_heads=2,
                      feedforward_channels=128), img_size=32, patch_size=8)


def ours(cfg):
    from mmpretrain.registry import MODELS
    return perturb(MODELS.build(cfg))


def checkpoint(model, neck=True):
    """A checkpoint of ours: backbone.* and a decoder."""
    state = {'backbone.' + k: v for k, v in model.state_dict().items()}
    if neck:
        state['neck.decoder.0.weight'] = torch.randn(192, 64, 1, 1)
        state['neck.decoder.0.bias'] = torch.randn(192)
    return dict(meta={}, state_dict=state)


def timm_loaded(exp):
    model = exp.build()
    model.load_state_dict(exp.state_dict, strict=True)
    return model.eval()


@pytest.mark.parametrize('cfg', [
    dict(type='BEiTViT', use_abs_pos_emb=True, use_rel_pos_bias=False,
         layer_scale_init_value=0.1, final_norm=True, out_type='raw'),
    dict(type='BEiTViT', use_abs_pos_emb=True, use_rel_pos_bias=False,
         layer_scale_init_value=0., final_norm=False,
         out_type='avg_featmap'),
], ids=['layer-scale-token-norm', 'avg-pool-fc-norm'])
def test_vit_to_timm_vision_transformer(cfg):
    model = ours(dict(TINY, **cfg))
    exp = export_timm(checkpoint(model, neck=False), num_heads=2)
    assert exp.model == 'VisionTransformer'
    src = timm_loaded(exp)
    with torch.no_grad():
        feats = src.forward_features(IMG)
        ref = src.forward_head(feats, pre_logits=True) \
            if cfg['out_type'] == 'avg_featmap' else feats
        assert_rel_close(model(IMG)[0], ref)


@pytest.mark.parametrize('kind', ['A2MIMViT', 'SimMIMViT'])
def test_mim_vit_to_timm_beit(kind):
    """Pre-training checkpoints (relative position bias per layer or shared,
    mask token, decoder) -> timm's Beit."""
    model = ours(dict(TINY, type=kind, out_type='raw'))
    exp = export_timm(checkpoint(model))
    assert exp.model == 'Beit'
    assert exp.kwargs['use_shared_rel_pos_bias'] is (kind == 'SimMIMViT')
    assert {'backbone.mask_token', 'neck.decoder.0.weight'} <= set(exp.dropped)
    src = timm_loaded(exp)
    with torch.no_grad():
        assert_rel_close(model(IMG)[0], src.forward_features(IMG))


@pytest.mark.parametrize('depth,base', [(18, 16), (50, 8)])
def test_resnet_to_timm(depth, base):
    model = ours(dict(type='A2MIMResNet', depth=depth, base_channels=base,
                      mask_init=1e-6, out_indices=(3, )))
    exp = export_timm(checkpoint(model, neck=False))
    assert exp.model == 'ResNet'
    assert set(exp.dropped) == {'backbone.mask_token', 'backbone.mask_gamma'}
    src = timm_loaded(exp)
    with torch.no_grad():
        assert_rel_close(model(IMG)[-1], src.forward_features(IMG))


CONVNEXT = dict(arch=dict(depths=[1, 1, 2, 1], channels=[8, 16, 32, 64]))


@pytest.mark.parametrize('cfg', [
    dict(type='A2MIMConvNeXt', mask_init=1e-6),  # pre-training, v1
    dict(type='ConvNeXt', use_grn=True, layer_scale_init_value=0.,
         linear_pw_conv=False),  # ConvNeXt-V2 block, 1x1-conv MLP
    dict(type='ConvNeXt', out_indices=(0, 1, 2, 3),
         gap_before_final_norm=False),  # a detection backbone
], ids=['a2mim', 'v2-conv-mlp', 'detection-outputs'])
def test_convnext_to_timm(cfg):
    """Every ConvNeXt tensor under timm's names; timm's pooled, normed
    output equals ours with the final norm after pooling; where ours norms
    the map (pre-training and detection backbones), timm's stage-4 map
    equals ours before norm3."""
    model = ours(dict(CONVNEXT, **cfg))
    exp = export_timm(checkpoint(model, neck=False))
    assert exp.model == 'ConvNeXt'
    extra = {'backbone.mask_token', 'backbone.mask_gamma'} \
        if 'A2MIM' in cfg['type'] else set()
    if len(cfg.get('out_indices', ())) == 4:
        extra = {f'backbone.norm{i}.{p}' for i in range(3)
                 for p in ('weight', 'bias')}
    assert set(exp.dropped) == extra
    src = timm_loaded(exp)
    with torch.no_grad():
        pooled = src.forward_head(src.forward_features(IMG),
                                  pre_logits=True)
        if not model.gap_before_final_norm:  # MIM and detection backbones
            x = IMG  # ours: norm3 on the map; timm: the map, then pool+norm
            for i in range(4):
                x = model.stages[i](model.downsample_layers[i](x))
            assert_rel_close(x, src.forward_features(IMG))
            gap = x.mean([-2, -1], keepdim=True)
            assert_rel_close(model.norm3(gap).flatten(1), pooled)
        else:
            assert_rel_close(model(IMG)[-1], pooled)


def test_convnext_without_final_norm_does_not_export():
    model = ours(dict(CONVNEXT, type='ConvNeXt', out_indices=(2, )))
    with pytest.raises(LayoutError, match='norm3'):
        export_timm(model.state_dict(), prefix='')


def test_cli_exports_safetensors_and_round_trips(tmp_path, capsys):
    model = ours(dict(TINY, type='A2MIMViT', out_type='raw'))
    src, dst = str(tmp_path / 'ours.pth'), str(tmp_path / 'timm.safetensors')
    torch.save(checkpoint(model), src)
    assert export_tool.main([src, dst]) == 0
    out = capsys.readouterr().out
    assert 'from timm.models.beit import Beit' in out and 'mask_token' in out
    from safetensors.torch import load_file
    exported = load_file(dst)
    exp = export_timm(checkpoint(model))
    timm_model = exp.build()
    timm_model.load_state_dict(exported, strict=True)
    # timm layout -> ours again: the same backbone (the mask token aside)
    back = convert_checkpoint(exported)
    assert back.source == 'timm'
    original = strip_prefix(checkpoint(model)['state_dict'], 'backbone.')
    again = strip_prefix(back.state_dict, 'backbone.')
    assert set(original) - set(again) == {'mask_token'}
    for key, value in again.items():
        assert torch.equal(value, original[key]), key


def test_swin_does_not_export():
    model = ours(dict(type='SwinTransformer', arch=dict(
        embed_dims=16, depths=[2, 2], num_heads=[1, 2]), img_size=32,
        out_indices=(1, )))
    with pytest.raises(LayoutError, match='ResNet, ViT and ConvNeXt'):
        export_timm(model.state_dict(), prefix='')
