"""SimMIM for ViT, ResNet and Swin on mmpretrain's SimMIM algorithm."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from helpers import ROOT, tiny_resnet_cfg, tiny_vit_cfg
from mim_plugins.apis import build_model_from_cfg

SIMMIM = osp.join(ROOT, 'configs/pretrain/simmim')


def _samples(mask):
    return [DataSample().set_mask(m) for m in mask]


def _first_layer_input(model, x, mask):
    seen = []
    block = model.layers[0] if hasattr(model, 'layers') else model.layer1
    h = block.register_forward_pre_hook(lambda m, a: seen.append(a[0]))
    model(x, mask)
    h.remove()
    return seen[0].detach()


def test_simmim_vit_replaces_masked_patch_embeddings():
    model = MODELS.build(tiny_vit_cfg(type='SimMIMViT'))
    model.eval()
    assert model.pos_embed is None and model.rel_pos_bias is not None
    x = torch.randn(2, 3, 64, 64)
    mask = torch.randint(0, 2, (2, 4, 4))
    tokens = _first_layer_input(model, x, mask)[:, 1:]
    m = mask.flatten(1).bool()
    # no absolute position embedding: masked tokens ARE the mask token
    torch.testing.assert_close(
        tokens[m], model.mask_token[0, 0].expand(int(m.sum()), -1))
    plain = _first_layer_input(model, x, torch.zeros_like(mask))[:, 1:]
    torch.testing.assert_close(tokens[~m], plain[~m])


def test_simmim_resnet_replaces_stem_features():
    model = MODELS.build(tiny_resnet_cfg(type='SimMIMResNet'))
    model.eval()
    assert model.mask_layer == 0 and model.replace
    x = torch.randn(2, 3, 64, 64)
    mask = torch.randint(0, 2, (2, 16, 16))
    feats = _first_layer_input(model, x, mask)
    m = mask[:, None].bool().expand_as(feats)
    token = model.mask_token.detach().expand_as(feats)
    torch.testing.assert_close(feats[m], token[m])


@pytest.mark.parametrize('name', ['simmim_vit-tiny_1xb16-20i_demo.py',
                                  'simmim_resnet-tiny_1xb16-20i_demo.py'])
def test_simmim_loss_against_formula(name):
    torch.manual_seed(0)
    model = build_model_from_cfg(Config.fromfile(osp.join(SIMMIM, name)))
    model.eval()
    x = torch.randn(2, 3, 64, 64)
    grid = 8 if 'vit' in name else 16
    mask = torch.randint(0, 2, (2, grid, grid))
    loss = model.loss(x, _samples(mask))['loss']
    pred = model.neck(model.backbone(x, mask)[0])
    s = 64 // grid
    M = mask.repeat_interleave(s, 1).repeat_interleave(s, 2)[:, None].float()
    # official SimMIM: sum(|pred - x| * M) / (sum(M) + 1e-5) / 3; mmpretrain
    # drops the 1e-5 (relative difference < 1e-9 here)
    expected = ((pred - x).abs() * M).sum() / (M.sum() + 1e-5) / 3
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_our_swin_config_gives_mmpretrains_loss():
    """Same weights, inputs and mask: identical loss to mmpretrain's config."""
    ours = build_model_from_cfg(Config.fromfile(osp.join(
        SIMMIM, 'simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py')))
    import mmpretrain
    ref_cfg = Config.fromfile(osp.join(
        osp.dirname(mmpretrain.__file__), '.mim', 'configs', 'simmim',
        'simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py'))
    ref = build_model_from_cfg(ref_cfg)
    ref.load_state_dict(ours.state_dict(), strict=True)
    ours.eval()
    ref.eval()
    torch.manual_seed(0)
    x = torch.randn(1, 3, 192, 192)
    mask = torch.randint(0, 2, (1, 48, 48))
    with torch.no_grad():
        a = ours.loss(x, _samples(mask))['loss']
        b = ref.loss(x, _samples(mask))['loss']
    assert torch.equal(a, b)


def test_simmim_vit_checkpoint_loads_into_beit_vit():
    """Downstream type: BEiTViT; the shared bias expands to every layer."""
    model = MODELS.build(tiny_vit_cfg(type='SimMIMViT'))
    model.eval()
    plain = MODELS.build(dict(
        type='BEiTViT', arch=tiny_vit_cfg()['arch'], img_size=64,
        patch_size=16, out_type='featmap', final_norm=True,
        use_abs_pos_emb=False, use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False, layer_scale_init_value=0.1))
    plain.eval()
    state = dict(model.state_dict())
    missing, unexpected = plain.load_state_dict(state, strict=False)
    # only the per-layer index buffers, which are computed from the window
    # size at construction, are not in a shared-bias checkpoint
    assert all(k.endswith('attn.relative_position_index') for k in missing)
    assert unexpected == ['mask_token']
    x = torch.randn(1, 3, 64, 64)
    torch.testing.assert_close(plain(x)[-1], model(x)[-1])
