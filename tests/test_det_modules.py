"""The mmdet parts of the paper's ViT Mask R-CNN: any-size ViT, pyramid."""
import pytest
import torch
import torch.nn.functional as F

import mim_plugins.det  # noqa: F401  (registers into mmdet)
from mmdet.registry import MODELS
from mmpretrain.models.backbones import BEiTViT

TINY = dict(arch=dict(embed_dims=64, num_layers=2, num_heads=2,
                      feedforward_channels=128),
            img_size=64, patch_size=8, out_indices=(0, 1),
            out_type='featmap', use_abs_pos_emb=True, use_rel_pos_bias=True,
            use_shared_rel_pos_bias=False, layer_scale_init_value=0.1)


def _pair():
    torch.manual_seed(0)
    ours = MODELS.build(dict(type='mmdet.AnySizeBEiTViT', **TINY))
    ref = BEiTViT(**TINY)
    ours.eval()  # BEiTViT.train returns None
    ref.eval()
    for layer in ours.layers:  # random tables: a bias that matters
        torch.nn.init.normal_(layer.attn.relative_position_bias_table)
    ref.load_state_dict(ours.state_dict())
    return ours, ref


def test_any_size_vit_is_beit_vit_at_its_own_size():
    ours, ref = _pair()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(ours(x), ref(x)):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_any_size_vit_resizes_each_bias_table_to_the_input_grid():
    """At another grid the bias is the table resized bicubically to the new
    range of offsets: a BEiTViT built for that grid, given those tables,
    computes the same features."""
    ours, _ = _pair()
    h, w = 6, 10  # a 48 x 80 input, not square
    other = BEiTViT(**dict(TINY, img_size=(h * 8, w * 8)))
    other.eval()
    state = ours.state_dict()
    for i, layer in enumerate(ours.layers):
        table = layer.attn.relative_position_bias_table.detach()
        grid = table[:-3].reshape(15, 15, -1).permute(2, 0, 1)[None]
        grid = F.interpolate(grid, size=(2 * h - 1, 2 * w - 1),
                             mode='bicubic', align_corners=False)
        state[f'layers.{i}.attn.relative_position_bias_table'] = torch.cat(
            (grid[0].permute(1, 2, 0).reshape(-1, table.shape[1]),
             table[-3:]))
        state.pop(f'layers.{i}.attn.relative_position_index')
    state['pos_embed'] = other.state_dict()['pos_embed']  # resized below
    other.load_state_dict(state, strict=False)
    other.pos_embed.data = other.resize_pos_embed(
        ours.pos_embed, ours.patch_resolution, (h, w),
        mode=ours.interpolate_mode, num_extra_tokens=1)
    x = torch.randn(1, 3, h * 8, w * 8)
    with torch.no_grad():
        for a, b in zip(ours(x), other(x)):
            assert a.shape == (1, 64, h, w)
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_any_size_vit_trains_its_bias_tables():
    ours, _ = _pair()
    ours.train()
    out = ours(torch.randn(1, 3, 48, 80))
    sum(o.sum() for o in out).backward()
    grad = ours.layers[0].attn.relative_position_bias_table.grad
    assert grad is not None and grad.abs().sum() > 0


def test_vit_feature_pyramid_makes_strides_4_to_32():
    neck = MODELS.build(dict(type='mmdet.ViTFeaturePyramid', embed_dims=8,
                             norm_cfg=dict(type='BN')))
    x = tuple(torch.randn(2, 8, 6, 10) for _ in range(4))
    shapes = [tuple(o.shape[-2:]) for o in neck(x)]
    assert shapes == [(24, 40), (12, 20), (6, 10), (3, 5)]
    with pytest.raises(ValueError, match='out_indices'):
        neck(x[:3])
    with pytest.raises(ValueError, match='rescales'):
        MODELS.build(dict(type='mmdet.ViTFeaturePyramid', embed_dims=8,
                          rescales=(8, 1)))
