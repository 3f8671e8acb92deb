"""microsoft/SimMIM -> ours: state dicts with the official key names and
shapes; our encoder and decoder outputs under a mask equal a reference
written here from the official equations (ViT) or timm's Swin reading the
official layout, and the PatchMerging re-ordering equals the official
concatenation."""
import math

import pytest
import torch
import torch.nn.functional as F

from checkpoint_utils import (IMG, assert_rel_close, build_loaded,
                              official_swin_index, perturb, simmim_vit_state)
from mim_plugins.checkpoints import convert_checkpoint, import_checkpoint

timm = pytest.importorskip('timm')
torchvision = pytest.importorskip('torchvision')


# ------------------------------------------------------ microsoft/SimMIM ----


def simmim_vit_reference(sd, x, mask, heads):
    """SimMIM.forward's encoder output and reconstruction, written from
    microsoft/SimMIM models/simmim.py and vision_transformer.py."""
    def e(k):
        return sd['encoder.' + k]
    p = e('patch_embed.proj.weight').shape[-1]
    t = F.conv2d(x, e('patch_embed.proj.weight'), e('patch_embed.proj.bias'),
                 stride=p).flatten(2).transpose(1, 2)
    B, L, C = t.shape
    w = mask.flatten(1).unsqueeze(-1).float()
    t = t * (1 - w) + e('mask_token').expand(B, L, -1) * w
    t = torch.cat([e('cls_token').expand(B, -1, -1), t], dim=1)
    index = e('rel_pos_bias.relative_position_index')
    rpb = e('rel_pos_bias.relative_position_bias_table')[index.view(-1)]
    rpb = rpb.view(L + 1, L + 1, -1).permute(2, 0, 1)
    depth = 1 + max(int(k.split('.')[2]) for k in sd if '.blocks.' in k)
    for i in range(depth):
        def b(k):
            return e(f'blocks.{i}.{k}')
        h = F.layer_norm(t, (C, ), b('norm1.weight'), b('norm1.bias'), 1e-6)
        bias = torch.cat([b('attn.q_bias'), torch.zeros_like(b('attn.v_bias')),
                          b('attn.v_bias')])
        qkv = F.linear(h, b('attn.qkv.weight'), bias)
        q, k, v = qkv.reshape(B, L + 1, 3, heads, -1).permute(2, 0, 3, 1, 4)
        attn = ((q * (C // heads)**-0.5) @ k.transpose(-2, -1) + rpb)
        o = (attn.softmax(-1) @ v).transpose(1, 2).reshape(B, L + 1, C)
        t = t + b('gamma_1') * F.linear(o, b('attn.proj.weight'),
                                        b('attn.proj.bias'))
        h = F.layer_norm(t, (C, ), b('norm2.weight'), b('norm2.bias'), 1e-6)
        h = F.gelu(F.linear(h, b('mlp.fc1.weight'), b('mlp.fc1.bias')))
        t = t + b('gamma_2') * F.linear(h, b('mlp.fc2.weight'),
                                        b('mlp.fc2.bias'))
    t = F.layer_norm(t, (C, ), e('norm.weight'), e('norm.bias'), 1e-6)
    g = int(math.sqrt(L))
    z = t[:, 1:].permute(0, 2, 1).reshape(B, C, g, g)
    rec = F.pixel_shuffle(
        F.conv2d(z, sd['decoder.0.weight'], sd['decoder.0.bias']), p)
    return z, rec


def test_simmim_vit_matches_the_official_equations(tmp_path):
    state = simmim_vit_state()
    path = str(tmp_path / 'simmim_vit.pth')
    torch.save(dict(model=state, epoch=799), path)
    result = import_checkpoint(path, str(tmp_path / 'out.pth'))
    conv = result.conversion
    assert result.format == 'simmim' and conv.family == 'vit'
    assert not conv.dropped
    assert conv.backbone['use_shared_rel_pos_bias'] is True
    assert conv.backbone['use_abs_pos_emb'] is False
    assert conv.neck == dict(type='SimMIMLinearDecoder', in_channels=64,
                             encoder_stride=8)
    assert conv.pretrain_backbone == dict(conv.backbone, type='SimMIMViT')
    mask = torch.rand(2, 4, 4, generator=torch.Generator().manual_seed(0))
    mask = (mask < 0.6).float()
    ours_bb = build_loaded(conv.pretrain_backbone, conv.state_dict)
    neck = build_loaded(conv.neck, conv.state_dict, prefix='neck.')
    with torch.no_grad():
        z_ref, rec_ref = simmim_vit_reference(state, IMG, mask, heads=2)
        z = ours_bb(IMG, mask)[-1]
        rec = neck(z)
    err_z = assert_rel_close(z, z_ref, name='encoder')
    err_rec = assert_rel_close(rec, rec_ref, name='decoder')
    assert err_z < 1e-5 and err_rec < 1e-5


def test_simmim_swin_matches_timm_loading_the_official_layout():
    """The official Swin layout (microsoft/SimMIM) -> ours, compared with
    timm's Swin, which loads official checkpoints through its own
    ``checkpoint_filter_fn`` (downsample index shift only; same PatchMerging
    order as the official code)."""
    from timm.models.swin_transformer import (SwinTransformer,
                                              checkpoint_filter_fn)
    kw = dict(img_size=64, patch_size=4, embed_dim=16, depths=(2, 2),
              num_heads=(1, 2), window_size=4, num_classes=0)
    timm_model = perturb(SwinTransformer(**kw))
    official = {}
    for key, value in timm_model.state_dict().items():
        # timm keeps the merging at the start of the next stage
        key = key.replace('layers.1.downsample', 'layers.0.downsample')
        official[key] = value
    for s, (depth, res) in enumerate(((2, 16), (2, 8))):
        for b in range(depth):
            pre = f'layers.{s}.blocks.{b}.'
            official[pre + 'attn.relative_position_index'] = \
                official_swin_index(4)
            if b % 2:  # shifted blocks register their mask
                official[pre + 'attn_mask'] = torch.zeros(
                    (res // 4)**2, 16, 16)
    # timm reads this official layout back exactly
    check = SwinTransformer(**kw)
    check.load_state_dict(checkpoint_filter_fn(dict(official), check))
    C = 32
    token = torch.randn(1, 1, 16)
    decoder = {'decoder.0.weight': torch.randn(8 * 8 * 3, C, 1, 1) * 0.1,
               'decoder.0.bias': torch.randn(8 * 8 * 3) * 0.1}
    state = {'encoder.' + k: v for k, v in official.items()}
    state.update({'encoder.mask_token': token, **decoder})
    conv = convert_checkpoint(dict(model=state))
    assert conv.source == 'simmim' and conv.family == 'swin'
    assert conv.backbone['stage_cfgs'] == dict(
        block_cfgs=dict(window_size=4))
    assert all(k.startswith('encoder.layers.') and k.endswith('attn_mask')
               for k in conv.dropped)
    assert conv.pretrain_backbone['type'] == 'SimMIMSwinTransformer'
    mask = (torch.rand(2, 16, 16) < 0.6).float()
    ours = build_loaded(conv.pretrain_backbone, conv.state_dict)
    neck = build_loaded(conv.neck, conv.state_dict, prefix='neck.')
    img = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        x = timm_model.patch_embed(img)  # NHWC
        w = mask.unsqueeze(-1)
        x = x * (1 - w) + token * w
        ref = timm_model.norm(timm_model.layers(x)).permute(0, 3, 1, 2)
        ref_rec = F.pixel_shuffle(F.conv2d(ref, decoder['decoder.0.weight'],
                                           decoder['decoder.0.bias']), 8)
        z = ours(img, mask)[-1]
        # unmasked: the downstream SwinTransformer
        plain = build_loaded(conv.backbone, conv.state_dict,
                             skip=('mask_token', ))(img)[-1]
        plain_ref = timm_model.forward_features(img).permute(0, 3, 1, 2)
        assert_rel_close(z, ref, name='masked encoder')
        assert_rel_close(neck(z), ref_rec, name='decoder')
        assert_rel_close(plain, plain_ref, name='plain encoder')


def test_patch_merging_reorder_matches_official_concat():
    """Official PatchMerging (cat of x[0::2,0::2], x[1::2,0::2],
    x[0::2,1::2], x[1::2,1::2], norm, reduction) == mmcv's with the
    converted weights."""
    from mmcv.cnn.bricks.transformer import PatchMerging
    from mim_plugins.checkpoints.from_simmim import (merging_norm_to_unfold,
                                                     merging_weight_to_unfold)
    C, H = 6, 4
    weight, nw, nb = torch.randn(2 * C, 4 * C), torch.randn(4 * C), \
        torch.randn(4 * C)
    x = torch.randn(2, H, H, C)
    cat = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2],
                     x[:, 1::2, 1::2]], -1).reshape(2, -1, 4 * C)
    ref = F.linear(F.layer_norm(cat, (4 * C, ), nw, nb), weight)
    ours = PatchMerging(C, 2 * C, norm_cfg=dict(type='LN'))
    ours.load_state_dict({'reduction.weight': merging_weight_to_unfold(weight),
                          'norm.weight': merging_norm_to_unfold(nw),
                          'norm.bias': merging_norm_to_unfold(nb)})
    out, _ = ours(x.reshape(2, H * H, C), (H, H))
    assert_rel_close(out, ref)
