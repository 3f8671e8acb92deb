"""Published checkpoints -> ours, proven equal to their source models.

Where the source model is installable (timm ViT/BEiT/ResNet, torchvision
ResNet/ViT, mmpretrain), it is built with random weights and our backbone's
features are compared with its own on the same input (1e-5 relative). For
openmixup and microsoft/SimMIM, state dicts are built with the source's key
names and shapes (read in the official code); they load strictly with every
tensor preserved, and for microsoft/SimMIM the encoder and decoder outputs
under a mask equal a reference written here from the official equations.
"""
import argparse
import math

import pytest
import torch
import torch.nn.functional as F

from checkpoint_utils import (assert_rel_close, build_loaded,
                              official_beit_index, official_swin_index,
                              perturb)
from mim_plugins.checkpoints import (FORMATS, LayoutError, convert_checkpoint,
                                     import_checkpoint, load_source)
from mim_plugins.checkpoints import convert as convert_module
from helpers import load_tool
from mim_plugins.engine.pretrained_check import analyse_pretrained

import_tool = load_tool('model_converters/import_checkpoint')

timm = pytest.importorskip('timm')
torchvision = pytest.importorskip('torchvision')

IMG = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def tiny_timm_vit(**kw):
    from timm.models.vision_transformer import VisionTransformer
    cfg = dict(img_size=32, patch_size=8, embed_dim=64, depth=2, num_heads=2,
               mlp_ratio=2., num_classes=0)
    cfg.update(kw)
    return perturb(VisionTransformer(**cfg))


# ------------------------------------------------------------------ timm ----
@pytest.mark.parametrize('kw', [
    dict(),  # ViT: full qkv bias, no layer scale, cls-token norm
    dict(init_values=0.1, global_pool='avg'),  # DeiT-III-like: fc_norm
    dict(no_embed_class=True, init_values=0.1),  # pos_embed without cls
], ids=['vit', 'layer-scale-avg-pool', 'no-embed-class'])
def test_timm_vit_features_equal(kw):
    src = tiny_timm_vit(**kw)
    conv = convert_checkpoint(src.state_dict(), num_heads=2)
    assert conv.source == 'timm' and conv.family == 'vit'
    with torch.no_grad():
        ref = src.forward_features(IMG)
        if kw.get('global_pool') == 'avg':
            ref = src.forward_head(ref, pre_logits=True)
            ours = build_loaded(conv.backbone, conv.state_dict)(IMG)[0]
        else:
            ours = build_loaded(conv.backbone, conv.state_dict,
                                out_type='raw')(IMG)[0]
    assert_rel_close(ours, ref, name=str(kw))
    # the key biases (softmax-invariant) are the only values not carried
    assert sorted(conv.dropped) == [f'blocks.{i}.attn.qkv.bias[k]'
                                    for i in range(2)]


@pytest.mark.parametrize('shared', [False, True], ids=['per-layer', 'shared'])
def test_timm_beit_features_equal(shared):
    from timm.models.beit import Beit
    src = perturb(Beit(img_size=32, patch_size=8, embed_dim=64, depth=2,
                       num_heads=2, mlp_ratio=2., num_classes=0,
                       global_pool='', init_values=0.1,
                       use_abs_pos_emb=not shared,
                       use_rel_pos_bias=not shared,
                       use_shared_rel_pos_bias=shared))
    conv = convert_checkpoint(src.state_dict())
    assert conv.source == 'timm'
    assert conv.backbone['use_shared_rel_pos_bias'] is shared
    assert conv.backbone['arch']['num_heads'] == 2  # from the tables
    assert not conv.dropped  # q/v biases, tables, gammas: all carried
    with torch.no_grad():
        ours = build_loaded(conv.backbone, conv.state_dict,
                            out_type='raw')(IMG)
        ref = src.forward_features(IMG)
    assert_rel_close(ours[0], ref)


@pytest.mark.parametrize('block,layers', [('BasicBlock', [2, 2, 2, 2]),
                                          ('Bottleneck', [3, 4, 6, 3])])
def test_timm_resnet_features_equal(block, layers):
    from timm.models import resnet
    src = perturb(resnet.ResNet(getattr(resnet, block), layers,
                                channels=(16, 32, 64, 128), num_classes=7))
    conv = convert_checkpoint(src.state_dict())
    assert conv.source == 'timm' and conv.family == 'resnet'
    assert set(conv.dropped) == {'fc.weight', 'fc.bias'}
    assert conv.backbone['depth'] == (18 if block == 'BasicBlock' else 50)
    with torch.no_grad():
        ours = build_loaded(conv.backbone, conv.state_dict)(IMG)[-1]
        ref = src.forward_features(IMG)
    assert_rel_close(ours, ref)


@pytest.mark.parametrize('kw', [
    dict(),  # ConvNeXt v1: layer scale, Linear pointwise convs
    dict(use_grn=True, ls_init_value=None),  # ConvNeXt-V2: GRN, no scale
    dict(conv_mlp=True),  # 1x1-conv MLP, channels-first norm
], ids=['v1', 'v2-grn', 'conv-mlp'])
def test_timm_convnext_features_equal(kw):
    from timm.models.convnext import ConvNeXt
    src = perturb(ConvNeXt(depths=(1, 1, 2, 1), dims=(8, 16, 32, 64),
                           num_classes=7, **kw))
    conv = convert_checkpoint(src.state_dict())
    assert conv.source == 'timm' and conv.family == 'convnext'
    assert set(conv.dropped) == {'head.fc.weight', 'head.fc.bias'}
    assert not conv.added and conv.pretrain_backbone is None
    assert conv.backbone['arch'] == dict(depths=[1, 1, 2, 1],
                                         channels=[8, 16, 32, 64])
    assert conv.backbone.get('use_grn', False) is kw.get('use_grn', False)
    assert conv.backbone.get('linear_pw_conv', True) is \
        (not kw.get('conv_mlp', False))
    with torch.no_grad():
        # timm pools, then head.norm: mmpretrain's gap_before_final_norm
        ours = build_loaded(conv.backbone, conv.state_dict)(IMG)[-1]
        ref = src.forward_head(src.forward_features(IMG), pre_logits=True)
    assert_rel_close(ours, ref)


# ----------------------------------------------------------- torchvision ----
def test_torchvision_resnet18_features_equal():
    src = perturb(torchvision.models.resnet18(weights=None))
    conv = convert_checkpoint(src.state_dict(), format='torchvision')
    assert conv.backbone == dict(type='ResNet', depth=18, out_indices=(3, ))
    with torch.no_grad():
        x = src.maxpool(src.relu(src.bn1(src.conv1(IMG))))
        ref = src.layer4(src.layer3(src.layer2(src.layer1(x))))
        ours = build_loaded(conv.backbone, conv.state_dict)(IMG)[-1]
    assert_rel_close(ours, ref)


def test_resnet200_imports_into_deep_resnet():
    """torchvision's Bottleneck layout at depth 200 (3, 24, 36, 3):
    mmpretrain's ResNet stops at 152, so the import names DeepResNet."""
    from torchvision.models.resnet import Bottleneck, ResNet
    # unperturbed: 66 blocks of random BN statistics overflow float32
    src = ResNet(Bottleneck, [3, 24, 36, 3]).eval()
    conv = convert_checkpoint(src.state_dict(), format='torchvision')
    assert conv.backbone == dict(type='DeepResNet', depth=200,
                                 out_indices=(3, ))
    with torch.no_grad():
        x = src.maxpool(src.relu(src.bn1(src.conv1(IMG))))
        ref = src.layer4(src.layer3(src.layer2(src.layer1(x))))
        ours = build_loaded(conv.backbone, conv.state_dict)(IMG)[-1]
    assert_rel_close(ours, ref)


def test_torchvision_vit_features_equal():
    src = perturb(torchvision.models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=2,
        hidden_dim=64, mlp_dim=128, num_classes=5))
    conv = convert_checkpoint(src.state_dict(), num_heads=2)
    assert conv.source == 'torchvision'
    with torch.no_grad():
        x = src._process_input(IMG)
        x = torch.cat([src.class_token.expand(x.shape[0], -1, -1), x], 1)
        ref = src.encoder(x)
        ours = build_loaded(conv.backbone, conv.state_dict,
                            out_type='raw')(IMG)[0]
    assert_rel_close(ours, ref)
    assert {'heads.head.weight', 'heads.head.bias'} <= set(conv.dropped)


# ------------------------------------------------------------------- MAE ----
def mae_decoder_shapes(num_patches, patch=8, dec=32, depth=1):
    """Keys and shapes of MAE's decoder (models_mae.MaskedAutoencoderViT)."""
    shapes = {'decoder_embed.weight': (dec, 64), 'decoder_embed.bias': (dec, ),
              'mask_token': (1, 1, dec),
              'decoder_pos_embed': (1, num_patches + 1, dec),
              'decoder_norm.weight': (dec, ), 'decoder_norm.bias': (dec, ),
              'decoder_pred.weight': (patch**2 * 3, dec),
              'decoder_pred.bias': (patch**2 * 3, )}
    for i in range(depth):  # timm Blocks
        b = f'decoder_blocks.{i}.'
        shapes.update({
            b + 'norm1.weight': (dec, ), b + 'norm1.bias': (dec, ),
            b + 'attn.qkv.weight': (3 * dec, dec), b + 'attn.qkv.bias':
            (3 * dec, ), b + 'attn.proj.weight': (dec, dec),
            b + 'attn.proj.bias': (dec, ), b + 'norm2.weight': (dec, ),
            b + 'norm2.bias': (dec, ), b + 'mlp.fc1.weight': (4 * dec, dec),
            b + 'mlp.fc1.bias': (4 * dec, ), b + 'mlp.fc2.weight':
            (dec, 4 * dec), b + 'mlp.fc2.bias': (dec, )})
    return shapes


def test_mae_pretrain_checkpoint_file(tmp_path):
    """{'model': encoder + decoder, 'args': Namespace}: the encoder is
    carried, every decoder key listed; features equal the encoder's."""
    src = tiny_timm_vit()
    state = dict(src.state_dict())
    for k, shape in mae_decoder_shapes(16).items():
        state[k] = torch.randn(shape)
    path = str(tmp_path / 'mae_pretrain.pth')
    torch.save(dict(model=state, epoch=799,
                    args=argparse.Namespace(model='mae_vit_tiny')), path)
    result = import_checkpoint(path, str(tmp_path / 'out.pth'), num_heads=2)
    conv = result.conversion
    assert result.format == 'mae'
    decoder = [k for k in state if k.startswith(('decoder', 'mask_token'))]
    assert set(decoder) <= set(conv.dropped)
    assert not any(k.startswith('neck.') for k in conv.state_dict)
    assert 'backbone.mask_token' not in conv.state_dict  # the decoder's
    saved = torch.load(result.path, weights_only=True)
    with torch.no_grad():
        ours = build_loaded(conv.backbone, saved['state_dict'],
                            out_type='raw')(IMG)[0]
        ref = src.forward_features(IMG)
    assert_rel_close(ours, ref)


def test_fill_identity_fits_relative_position_and_layer_scale_configs():
    """An MAE/timm ViT with identity layer scales and zero relative tables
    loads into an A2MIM-style BEiTViT and computes the same features."""
    src = tiny_timm_vit()
    conv = convert_checkpoint(dict(model=src.state_dict()), num_heads=2,
                              fill_identity=True)
    assert conv.source == 'mae'
    assert conv.backbone['use_rel_pos_bias'] is True
    assert conv.backbone['layer_scale_init_value'] > 0
    with torch.no_grad():
        ours = build_loaded(conv.backbone, conv.state_dict,
                            out_type='raw')(IMG)[0]
    assert_rel_close(ours, src.forward_features(IMG))
    a2mim_like = dict(conv.backbone, type='A2MIMViT', out_type='featmap')
    from mmpretrain.registry import MODELS
    report = analyse_pretrained(MODELS.build(a2mim_like), conv.state_dict,
                                'backbone.')
    assert report.problems(allow_missing=[r'^mask_token$']) == []


# ------------------------------------------------------ microsoft/SimMIM ----
def _values(shapes, seed=0):
    """Random values: norms near 1, tables O(1), the rest O(0.3)."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for key, shape in shapes.items():
        n = torch.randn(shape, generator=gen)
        if 'norm' in key and key.endswith('weight') and len(shape) == 1:
            out[key] = 1 + 0.1 * n
        elif 'relative_position_bias_table' in key:
            out[key] = n
        else:
            out[key] = 0.3 * n
    return out


def simmim_vit_state(C=64, depth=2, heads=2, g=4, patch=8, mlp=4):
    """microsoft/SimMIM pre-training state dict of SimMIM(
    VisionTransformerForSimMIM) with the official ViT-B options
    (qkv_bias, init_values, shared relative position bias, no absolute
    position embedding, no mean pooling), at a tiny size."""
    e = 'encoder.'
    shapes = {e + 'cls_token': (1, 1, C), e + 'mask_token': (1, 1, C),
              e + 'patch_embed.proj.weight': (C, 3, patch, patch),
              e + 'patch_embed.proj.bias': (C, ),
              e + 'rel_pos_bias.relative_position_bias_table':
              ((2 * g - 1)**2 + 3, heads),
              e + 'norm.weight': (C, ), e + 'norm.bias': (C, ),
              'decoder.0.weight': (patch**2 * 3, C, 1, 1),
              'decoder.0.bias': (patch**2 * 3, )}
    for i in range(depth):
        b = f'{e}blocks.{i}.'
        shapes.update({
            b + 'norm1.weight': (C, ), b + 'norm1.bias': (C, ),
            b + 'attn.q_bias': (C, ), b + 'attn.v_bias': (C, ),
            b + 'attn.qkv.weight': (3 * C, C),
            b + 'attn.proj.weight': (C, C), b + 'attn.proj.bias': (C, ),
            b + 'norm2.weight': (C, ), b + 'norm2.bias': (C, ),
            b + 'mlp.fc1.weight': (mlp * C, C),
            b + 'mlp.fc1.bias': (mlp * C, ),
            b + 'mlp.fc2.weight': (C, mlp * C), b + 'mlp.fc2.bias': (C, ),
            b + 'gamma_1': (C, ), b + 'gamma_2': (C, )})
    state = _values(shapes)
    state[e + 'rel_pos_bias.relative_position_index'] = official_beit_index(g)
    return state


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
    from mim_plugins.checkpoints.simmim import (merging_norm_to_unfold,
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


# -------------------------------------------------------------- openmixup ----
def openmixup_resnet50_shapes(mask_layer=3):
    """openmixup MIMResNet(depth=50) backbone keys (mmcls ResNet names)."""
    shapes = {'conv1.weight': (64, 3, 7, 7)}
    bn = ('weight', 'bias', 'running_mean', 'running_var')

    def norm(name, c):
        shapes.update({f'{name}.{p}': (c, ) for p in bn})
        shapes[f'{name}.num_batches_tracked'] = ()
    norm('bn1', 64)
    cin = 64
    for s, blocks in enumerate((3, 4, 6, 3)):
        mid = 64 * 2**s
        for b in range(blocks):
            pre = f'layer{s + 1}.{b}.'
            shapes[pre + 'conv1.weight'] = (mid, cin, 1, 1)
            shapes[pre + 'conv2.weight'] = (mid, mid, 3, 3)
            shapes[pre + 'conv3.weight'] = (4 * mid, mid, 1, 1)
            for i, c in ((1, mid), (2, mid), (3, 4 * mid)):
                norm(pre + f'bn{i}', c)
            if b == 0:
                shapes[pre + 'downsample.0.weight'] = (4 * mid, cin, 1, 1)
                norm(pre + 'downsample.1', 4 * mid)
            cin = 4 * mid
    dims = [64, 256, 512, 1024][mask_layer]  # openmixup's ARCH_DIMS['50']
    shapes['mask_token'] = (1, dims, 1, 1)
    shapes['mask_gamma'] = (1, dims, 1, 1)
    return shapes


def openmixup_vit_shapes(C=64, depth=2, heads=2, ffn=128, g=4, patch=8,
                         use_window=True):
    """openmixup SimMIMViT backbone keys (mmcls VisionTransformer names;
    use_window: MultiheadAttentionWithRPE with q/v biases and a per-layer
    table; init_values > 0: gamma_1/2; final norm ln1)."""
    shapes = {'cls_token': (1, 1, C), 'pos_embed': (1, g * g + 1, C),
              'patch_embed.projection.weight': (C, 3, patch, patch),
              'patch_embed.projection.bias': (C, ), 'ln1.weight': (C, ),
              'ln1.bias': (C, ), 'mask_token': (1, 1, C), 'mask_gamma': (C, )}
    for i in range(depth):
        b = f'layers.{i}.'
        shapes.update({
            b + 'ln1.weight': (C, ), b + 'ln1.bias': (C, ),
            b + 'attn.qkv.weight': (3 * C, C), b + 'attn.proj.weight': (C, C),
            b + 'attn.proj.bias': (C, ), b + 'ln2.weight': (C, ),
            b + 'ln2.bias': (C, ), b + 'ffn.layers.0.0.weight': (ffn, C),
            b + 'ffn.layers.0.0.bias': (ffn, ),
            b + 'ffn.layers.1.weight': (C, ffn), b + 'ffn.layers.1.bias':
            (C, ), b + 'gamma_1': (C, ), b + 'gamma_2': (C, )})
        if use_window:
            shapes.update({b + 'attn.q_bias': (C, ), b + 'attn.v_bias': (C, ),
                           b + 'attn.relative_position_bias_table':
                           ((2 * g - 1)**2 + 3, heads)})
        else:
            shapes[b + 'attn.qkv.bias'] = (3 * C, )
    return shapes


def _openmixup_state(shapes, index_g=None):
    state = _values(shapes)
    for k in list(state):
        if k.endswith('num_batches_tracked'):
            state[k] = torch.tensor(7)
        if k.endswith('running_var'):
            state[k] = state[k].abs() + 0.5
        if k.endswith('relative_position_bias_table'):
            state[k.replace('bias_table', 'index')] = \
                official_beit_index(index_g)
    return state


def _assert_preserved(conv, source, rename):
    """Every source tensor is in the conversion, unchanged (up to reshape)."""
    for key, value in source.items():
        ours = rename(key)
        if ours is None:
            continue
        assert torch.equal(conv.state_dict[ours].reshape(value.shape),
                           value), key


@pytest.mark.parametrize('full', [True, False], ids=['full', 'backbone-only'])
def test_openmixup_a2mim_resnet50_loads_strictly(full):
    backbone = _openmixup_state(openmixup_resnet50_shapes())
    if full:
        neck = {'neck.decoder_pred.0.weight': torch.randn(3072, 2048, 1, 1),
                'neck.decoder_pred.0.bias': torch.randn(3072)}
        ckpt = dict(meta=dict(epoch=300), state_dict={
            **{'backbone.' + k: v for k, v in backbone.items()}, **neck})
    else:  # tools/model_converters/extract_backbone_weights.py
        ckpt = dict(state_dict=backbone, author='openmixup')
    conv = convert_checkpoint(ckpt)
    assert conv.source == 'openmixup' and not conv.dropped
    assert conv.backbone == dict(type='ResNet', depth=50, out_indices=(3, ))
    assert conv.pretrain_backbone == dict(conv.backbone, type='A2MIMResNet',
                                          mask_layer=3, mask_init=1e-6)
    a2mim = build_loaded(conv.pretrain_backbone, conv.state_dict)
    assert a2mim.mask_token.shape == (1, 1024, 1, 1)
    _assert_preserved(conv, backbone, lambda k: 'backbone.' + k)
    if full:
        assert conv.neck == dict(type='SimMIMLinearDecoder',
                                 in_channels=2048, encoder_stride=32)
        build_loaded(conv.neck, conv.state_dict, prefix='neck.')
        _assert_preserved(conv, ckpt['state_dict'], lambda k: k.replace(
            'decoder_pred', 'decoder') if k.startswith('neck.') else None)
    else:
        assert conv.neck is None


@pytest.mark.parametrize('use_window', [True, False],
                         ids=['relative-position', 'deit-style'])
def test_openmixup_a2mim_vit_loads_strictly(use_window):
    backbone = _openmixup_state(openmixup_vit_shapes(use_window=use_window),
                                index_g=4)
    neck = {'neck.decoder_pred.0.weight': torch.randn(192, 64, 1, 1),
            'neck.decoder_pred.0.bias': torch.randn(192)}
    ckpt = dict(meta=dict(epoch=800), state_dict={
        **{'backbone.' + k: v for k, v in backbone.items()}, **neck})
    conv = convert_checkpoint(ckpt, num_heads=2)
    assert conv.source == 'openmixup'
    assert conv.backbone['use_abs_pos_emb'] is True
    assert conv.backbone['use_rel_pos_bias'] is use_window
    assert conv.pretrain_backbone == dict(conv.backbone, type='A2MIMViT',
                                          mask_init=1e-6)
    model = build_loaded(conv.pretrain_backbone, conv.state_dict)
    assert model.mask_gamma.shape == (1, 1, 64)
    build_loaded(conv.neck, conv.state_dict, prefix='neck.')

    def rename(key):
        return None if key.endswith('qkv.bias') else 'backbone.' + key
    _assert_preserved(conv, backbone, rename)
    if not use_window:  # q and v thirds kept, the key bias listed
        for i in range(2):
            q, _, v = backbone[f'layers.{i}.attn.qkv.bias'].chunk(3)
            assert torch.equal(conv.state_dict[
                f'backbone.layers.{i}.attn.q_bias'], q)
            assert torch.equal(conv.state_dict[
                f'backbone.layers.{i}.attn.v_bias'], v)
        assert len(conv.dropped) == 2


# ------------------------------------------------------------- mmpretrain ----
def test_mmpretrain_vision_transformer_features_equal():
    """mmpretrain's VisionTransformer (ViT/DeiT/MAE zoo) -> BEiTViT."""
    from mmpretrain.models import VisionTransformer
    src = perturb(VisionTransformer(
        arch=dict(embed_dims=64, num_layers=2, num_heads=2,
                  feedforward_channels=128), img_size=32, patch_size=8,
        layer_scale_init_value=0.1, out_type='raw', final_norm=True))
    state = {'backbone.' + k: v for k, v in src.state_dict().items()}
    state['head.layers.head.weight'] = torch.randn(10, 64)
    conv = convert_checkpoint(dict(meta={}, state_dict=state), num_heads=2)
    assert conv.source == 'mmpretrain'
    assert conv.dropped['head.layers.head.weight'].startswith('head')
    with torch.no_grad():
        ours = build_loaded(conv.backbone, conv.state_dict,
                            out_type='raw')(IMG)[0]
        ref = src(IMG)[0]
    assert_rel_close(ours, ref)


@pytest.mark.parametrize('name', ['simmim_swin', 'a2mim_vit', 'a2mim_resnet',
                                  'maskdistill_vit', 'a2mim_convnext',
                                  'simmim_convnext'])
def test_mmpretrain_layout_is_kept_as_is(name):
    """mmpretrain zoo / our own pre-training checkpoints are already ours:
    every backbone and decoder tensor is carried unchanged."""
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    from helpers import TINY_CONFIGS
    cfg = Config.fromfile(TINY_CONFIGS[name])
    if name == 'maskdistill_vit':
        cfg.model.target_generator.init_cfg = None
    model = perturb(MODELS.build(cfg.model))
    state = model.state_dict()
    conv = convert_checkpoint(dict(meta={}, state_dict=state))
    assert conv.source == 'mmpretrain'
    for key, value in conv.state_dict.items():
        if key in state:
            assert torch.equal(value, state[key]), key
    carried = {k for k in state if k.startswith(('backbone.', 'neck.'))}
    assert carried <= set(conv.state_dict)
    assert set(state) - carried == set(conv.dropped)


# ------------------------------------------------------ detection, errors ----
def test_unknown_layout_names_the_known_ones():
    with pytest.raises(LayoutError) as err:
        convert_checkpoint({'encoder.foo.weight': torch.zeros(1)})
    for name in FORMATS:
        assert name in str(err.value)


def test_ambiguous_layout_is_an_error(monkeypatch):
    """Two layouts that both read the keys but convert them differently."""
    timm_mod = FORMATS['timm']

    class Other:
        NAME, SUMMARY = 'other', 'a layout that reads the same keys'
        detect = staticmethod(timm_mod.detect)

        @staticmethod
        def convert(state, **kw):
            conv = timm_mod.convert(state, **kw)
            conv.state_dict['backbone.cls_token'] = \
                conv.state_dict['backbone.cls_token'] + 1
            conv.source = 'other'
            return conv

    monkeypatch.setattr(convert_module, 'SOURCES',
                        (timm_mod, Other, FORMATS['torchvision']))
    with pytest.raises(LayoutError, match='Ambiguous.*timm, other'):
        convert_checkpoint(tiny_timm_vit().state_dict(), num_heads=2)
    # --format settles it
    assert convert_checkpoint(tiny_timm_vit().state_dict(), format='timm',
                              num_heads=2).source == 'timm'


def test_unsupported_keys_are_an_error_not_a_silent_drop():
    state = tiny_timm_vit(reg_tokens=2).state_dict()
    with pytest.raises(LayoutError, match='register tokens'):
        convert_checkpoint(state, format='timm')
    state = tiny_timm_vit().state_dict()
    state['blocks.0.attn.mystery'] = torch.zeros(3)
    with pytest.raises(LayoutError, match='mystery'):
        convert_checkpoint(state, format='timm')


def test_pickled_objects_need_allow_pickle(tmp_path, monkeypatch):
    """microsoft/SimMIM saves its yacs training config in the checkpoint:
    the safe loader refuses it; allow_pickle reads it, even where yacs is
    not installed."""
    import sys
    import types
    yacs = types.ModuleType('yacs_like')

    class CfgNode(dict):
        pass
    CfgNode.__module__, CfgNode.__qualname__ = 'yacs_like', 'CfgNode'
    yacs.CfgNode = CfgNode
    monkeypatch.setitem(sys.modules, 'yacs_like', yacs)
    path = str(tmp_path / 'ckpt.pth')
    torch.save(dict(model=simmim_vit_state(), config=CfgNode(a=1)), path)
    monkeypatch.delitem(sys.modules, 'yacs_like')
    with pytest.raises(LayoutError, match='allow-pickle'):
        load_source(path)
    ckpt = load_source(path, allow_pickle=True)
    assert convert_checkpoint(ckpt).source == 'simmim'


# -------------------------------------------------------------------- CLI ----
def test_cli_prints_layout_config_and_coverage(tmp_path, capsys):
    src = perturb(timm.models.resnet.ResNet(
        timm.models.resnet.BasicBlock, [2, 2, 2, 2], channels=(16, 32, 64,
                                                               128)))
    path, dst = str(tmp_path / 'r18.pth'), str(tmp_path / 'out' / 'r18.pth')
    torch.save(src.state_dict(), path)
    assert import_tool.main([path, dst]) == 0
    out = capsys.readouterr().out
    assert 'source layout : timm (resnet)' in out
    assert "type='ResNet', depth=18, base_channels=16" in out
    assert 'coverage      : 126 of 128 source tensors' in out
    assert 'fc.weight' in out and 'all 126 tensors load' in out
    saved = torch.load(dst, weights_only=True)
    assert set(saved) == {'meta', 'state_dict'}
    assert all(k.startswith('backbone.') for k in saved['state_dict'])
    # the downstream Pretrained init with prefix='backbone.' takes it all
    from mmpretrain.models import ResNet
    report = analyse_pretrained(
        ResNet(depth=18, base_channels=16, out_indices=(3, )), dst,
        'backbone.')
    assert report.problems() == [] and not report.unexpected


def test_cli_unknown_layout_exits_2(tmp_path, capsys):
    path = str(tmp_path / 'x.pth')
    torch.save({'something.weight': torch.zeros(2)}, path)
    assert import_tool.main([path, str(tmp_path / 'y.pth')]) == 2
    err = capsys.readouterr().err
    assert 'Unknown checkpoint layout' in err and 'openmixup' in err


# -------------------------------------------------------------- ConvNeXt ----
def openmixup_convnext_shapes(depths=(1, 1, 2, 1), channels=(8, 16, 32, 64),
                              mask_layer=3, gamma=True):
    """openmixup MIMConvNeXt backbone keys (mmcls ConvNeXt names: stem conv
    + LN2d, LN2d + 2x2 conv between stages, blocks with a 7x7 depthwise conv,
    LN, two Linear pointwise convs and the layer scale ``gamma``, ``norm3``;
    ``mask_token`` / ``mask_gamma`` of shape (1, C, 1, 1))."""
    shapes = {'downsample_layers.0.0.weight': (channels[0], 3, 4, 4),
              'downsample_layers.0.0.bias': (channels[0], ),
              'downsample_layers.0.1.weight': (channels[0], ),
              'downsample_layers.0.1.bias': (channels[0], )}
    for s, (depth, c) in enumerate(zip(depths, channels)):
        if s:
            pre = f'downsample_layers.{s}.'
            shapes.update({pre + '0.weight': (channels[s - 1], ),
                           pre + '0.bias': (channels[s - 1], ),
                           pre + '1.weight': (c, channels[s - 1], 2, 2),
                           pre + '1.bias': (c, )})
        for b in range(depth):
            pre = f'stages.{s}.{b}.'
            shapes.update({pre + 'depthwise_conv.weight': (c, 1, 7, 7),
                           pre + 'depthwise_conv.bias': (c, ),
                           pre + 'norm.weight': (c, ),
                           pre + 'norm.bias': (c, ),
                           pre + 'pointwise_conv1.weight': (4 * c, c),
                           pre + 'pointwise_conv1.bias': (4 * c, ),
                           pre + 'pointwise_conv2.weight': (c, 4 * c),
                           pre + 'pointwise_conv2.bias': (c, ),
                           pre + 'gamma': (c, )})
    shapes.update({'norm3.weight': (channels[3], ),
                   'norm3.bias': (channels[3], ),
                   'mask_token': (1, channels[mask_layer], 1, 1)})
    if gamma:
        shapes['mask_gamma'] = (1, channels[mask_layer], 1, 1)
    return shapes


def openmixup_convnext_reference(weights, x, mask, mask_layer, replace):
    """openmixup ``MIMConvNeXt.forward`` (``gap_before_final_norm=False``,
    out_indices (3,)) written from its code on the source's weights:
    downsample, at ``mask_layer`` ``x*(1-m) + (x*m)*gamma + token*m``
    (``replace=False``; without ``mask_gamma``: ``x + token*m``) or
    ``x*(1-m) + token*m`` (``replace=True``), blocks, then the LN2d
    ``norm3``."""
    def ln2d(t, pre):
        return F.layer_norm(t.permute(0, 2, 3, 1), t.shape[1:2],
                            weights[pre + 'weight'], weights[pre + 'bias'],
                            1e-6).permute(0, 3, 1, 2)

    for s in range(4):
        if s == 0:
            x = F.conv2d(x, weights['downsample_layers.0.0.weight'],
                         weights['downsample_layers.0.0.bias'], stride=4)
            x = ln2d(x, 'downsample_layers.0.1.')
        else:
            x = ln2d(x, f'downsample_layers.{s}.0.')
            x = F.conv2d(x, weights[f'downsample_layers.{s}.1.weight'],
                         weights[f'downsample_layers.{s}.1.bias'], stride=2)
        if s == mask_layer:
            m = F.interpolate(mask[:, None].float(), size=x.shape[-2:])
            token = weights['mask_token']
            if replace:
                x = x * (1 - m) + token * m
            else:
                if 'mask_gamma' in weights:
                    x = x * (1 - m) + (x * m) * weights['mask_gamma']
                x = x + token * m
        b = 0
        while f'stages.{s}.{b}.gamma' in weights:
            pre = f'stages.{s}.{b}.'
            c = x.shape[1]
            y = F.conv2d(x, weights[pre + 'depthwise_conv.weight'],
                         weights[pre + 'depthwise_conv.bias'], padding=3,
                         groups=c)
            y = ln2d(y, pre + 'norm.').permute(0, 2, 3, 1)
            y = F.linear(y, weights[pre + 'pointwise_conv1.weight'],
                         weights[pre + 'pointwise_conv1.bias'])
            y = F.linear(F.gelu(y), weights[pre + 'pointwise_conv2.weight'],
                         weights[pre + 'pointwise_conv2.bias'])
            x = x + y.permute(0, 3, 1, 2) * weights[pre + 'gamma'].view(
                1, -1, 1, 1)
            b += 1
    return ln2d(x, 'norm3.')


@pytest.mark.parametrize('method', ['a2mim', 'simmim'])
@pytest.mark.parametrize('full', [True, False], ids=['full', 'backbone-only'])
def test_openmixup_convnext_loads_strictly_and_matches(method, full):
    """openmixup A2MIM ConvNeXt (token + gamma added before stage 3,
    NonLinearMIMNeck) and SimMIM ConvNeXt (token added after the stem,
    replace=False, SimMIMNeck): strict load, every tensor kept, and our
    masked forward equals the official equations."""
    a2mim = method == 'a2mim'
    mask_layer = 3 if a2mim else 0
    backbone = _values(openmixup_convnext_shapes(mask_layer=mask_layer,
                                                 gamma=a2mim))
    neck_name = 'decoder_pred' if a2mim else 'decoder'
    neck = {f'neck.{neck_name}.0.weight': torch.randn(3072, 64, 1, 1),
            f'neck.{neck_name}.0.bias': torch.randn(3072)}
    if full:
        ckpt = dict(meta=dict(epoch=300), state_dict={
            **{'backbone.' + k: v for k, v in backbone.items()}, **neck})
    else:
        ckpt = dict(state_dict=backbone, author='openmixup')
    conv = convert_checkpoint(ckpt)
    if method == 'simmim' and full:
        # backbone.* + neck.decoder.0 also read as mmpretrain's layout, with
        # the same tensors; --format openmixup uses what openmixup's SimMIM
        # ConvNeXt is (token added, replace=False)
        assert conv.source == 'mmpretrain'
        assert 'also read as openmixup' in conv.notes[0]
        assert conv.pretrain_backbone['type'] == 'MIMConvNeXt'  # replace=False
        auto = conv
        conv = convert_checkpoint(ckpt, format='openmixup')
        assert list(conv.state_dict) == list(auto.state_dict)
    assert conv.source == 'openmixup' and conv.family == 'convnext'
    assert not conv.dropped and not conv.added
    arch = dict(depths=[1, 1, 2, 1], channels=[8, 16, 32, 64])
    assert conv.backbone == dict(type='ConvNeXt', arch=arch,
                                 out_indices=(3, ))
    _assert_preserved(conv, backbone, lambda k: 'backbone.' + k)
    if a2mim:
        expected = dict(conv.backbone, type='A2MIMConvNeXt', mask_layer=3,
                        mask_init=1e-6)
    elif full:  # the SimMIM neck tells the method; openmixup adds the token
        expected = dict(conv.backbone, type='SimMIMConvNeXt', mask_layer=0,
                        replace=False)
    else:  # no neck, no gamma: the method is unknown, and the note says so
        expected = dict(conv.backbone, type='MIMConvNeXt', mask_layer=0)
        assert any('replace' in n for n in conv.notes)
    assert conv.pretrain_backbone == expected
    if full:
        assert conv.neck == dict(type='SimMIMLinearDecoder', in_channels=64,
                                 encoder_stride=32)
        build_loaded(conv.neck, conv.state_dict, prefix='neck.')
    else:
        assert conv.neck is None
    ours = build_loaded(expected, conv.state_dict,
                        gap_before_final_norm=False)
    assert ours.replace is False  # openmixup adds the token in both models
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    mask = (torch.rand(2, 2, 2, generator=torch.Generator().manual_seed(4))
            > 0.5).float()
    if mask_layer == 0:  # the stride-4 grid of the stem
        mask = mask.repeat_interleave(8, 1).repeat_interleave(8, 2)
    with torch.no_grad():
        out = ours(x, mask)[0]
        ref = openmixup_convnext_reference(backbone, x, mask, mask_layer,
                                           replace=False)
    assert_rel_close(out, ref)
    # and with no mask: exactly mmpretrain's ConvNeXt on the same weights
    plain = build_loaded(conv.backbone, conv.state_dict,
                         skip=('mask_token', 'mask_gamma'),
                         gap_before_final_norm=False)
    with torch.no_grad():
        assert torch.equal(plain(x)[0], ours(x)[0])


def test_mmpretrain_convnext_features_equal():
    """An mmpretrain model-zoo ConvNeXt classifier: the backbone carried,
    the head listed, features equal."""
    from mmpretrain.models import ConvNeXt
    src = perturb(ConvNeXt(arch='atto', out_indices=(3, )))
    state = {'backbone.' + k: v for k, v in src.state_dict().items()}
    state.update({'head.fc.weight': torch.randn(10, 320),
                  'head.fc.bias': torch.randn(10)})
    conv = convert_checkpoint(dict(meta={}, state_dict=state))
    assert conv.source == 'mmpretrain' and conv.family == 'convnext'
    assert conv.backbone == dict(type='ConvNeXt', arch='atto',
                                 out_indices=(3, ))
    assert set(conv.dropped) == {'head.fc.weight', 'head.fc.bias'}
    assert conv.pretrain_backbone is None
    with torch.no_grad():
        assert_rel_close(build_loaded(conv.backbone, conv.state_dict)(IMG)[0],
                         src(IMG)[0])


def test_convnext_block_with_unknown_keys_is_an_error():
    backbone = _values(openmixup_convnext_shapes())
    backbone['stages.1.0.extra.weight'] = torch.zeros(3)
    with pytest.raises(LayoutError, match='stages.1.0'):
        convert_checkpoint(dict(state_dict=backbone, author='openmixup'))


@pytest.mark.parametrize('gamma', [False, True], ids=['released', 'gamma'])
def test_openmixup_a2mim_swin_loads_strictly_and_matches(gamma):
    """openmixup's Swin is mmcls's (mmpretrain's names); its A2MIM model adds
    the token (``(1, 1, C)``) to the patch embeddings (``mask_layer=0``;
    the released configs set no ``mask_init``, so no gamma; with one it has
    shape ``(C,)``). Strict load, every tensor kept, and our masked forward
    equals mmpretrain's SwinTransformer with openmixup's ``forward_mask``
    equation applied to its patch embeddings."""
    from mmpretrain.models import SwinTransformer
    arch = dict(embed_dims=16, depths=[1, 1, 2, 1], num_heads=[1, 2, 4, 8])
    src = perturb(SwinTransformer(
        arch=arch, img_size=64, out_indices=(3, ),
        stage_cfgs=dict(block_cfgs=dict(window_size=2))))
    backbone = dict(src.state_dict())
    gen = torch.Generator().manual_seed(5)
    backbone['mask_token'] = torch.randn(1, 1, 16, generator=gen)
    if gamma:
        backbone['mask_gamma'] = 1 + 0.1 * torch.randn(16, generator=gen)
    ckpt = dict(meta=dict(epoch=100), state_dict={
        **{'backbone.' + k: v for k, v in backbone.items()},
        'neck.decoder_pred.0.weight': torch.randn(3072, 128, 1, 1),
        'neck.decoder_pred.0.bias': torch.randn(3072)})
    conv = convert_checkpoint(ckpt)
    assert conv.source == 'openmixup' and conv.family == 'swin'
    assert not conv.dropped and not conv.added
    assert conv.pretrain_backbone['type'] == 'A2MIMSwin'
    assert conv.neck == dict(type='SimMIMLinearDecoder', in_channels=128,
                             encoder_stride=32)
    _assert_preserved(conv, backbone, lambda k: 'backbone.' + k)
    ours = build_loaded(conv.pretrain_backbone, conv.state_dict)
    assert ours.mask_layer == 0 and ours.replace is False
    assert (ours.mask_gamma is not None) is gamma
    x = torch.randn(2, 3, 64, 64, generator=gen)
    mask = (torch.rand(2, 16, 16, generator=gen) > 0.5).float()
    m = mask.flatten(1).unsqueeze(-1)

    def openmixup_forward_mask(module, args, out):
        tokens, hw = out
        if gamma:
            tokens = tokens * (1 - m) + (tokens * m) * backbone['mask_gamma']
        return tokens + backbone['mask_token'] * m, hw

    handle = src.patch_embed.register_forward_hook(openmixup_forward_mask)
    try:
        with torch.no_grad():
            ref = src(x)[0]
    finally:
        handle.remove()
    with torch.no_grad():
        plain = src(x)[0]
        assert (ref - plain).abs().max() > 1e-2  # the mask matters
        assert_rel_close(ours(x, mask)[0], ref)
        assert torch.equal(ours(x)[0], plain)  # no mask: the plain Swin


def test_openmixup_swin_backbone_only_says_the_method_is_unknown():
    from mmpretrain.models import SwinTransformer
    src = SwinTransformer(arch=dict(embed_dims=16, depths=[1, 1, 2, 1],
                                    num_heads=[1, 2, 4, 8]), img_size=64,
                          stage_cfgs=dict(block_cfgs=dict(window_size=2)))
    state = dict(src.state_dict(), mask_token=torch.zeros(1, 1, 16))
    conv = convert_checkpoint(dict(state_dict=state, author='openmixup'))
    assert conv.pretrain_backbone['type'] == 'SimMIMSwinTransformer'
    assert any('A2MIMSwin' in n for n in conv.notes)
    state['mask_token'] = torch.zeros(1, 1, 32)  # a token at stage 1
    with pytest.raises(LayoutError, match='mask_layer=0'):
        convert_checkpoint(dict(state_dict=state, author='openmixup'))
