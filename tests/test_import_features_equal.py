"""Published checkpoints whose source model is installable (timm ViT/BEiT/
ResNet/ConvNeXt... , torchvision ResNet/ViT, MAE, mmpretrain's
VisionTransformer) -> ours: the source model is built with random weights
and our backbone's features equal its own on the same input (1e-5
relative)."""
import argparse

import pytest
import torch

from checkpoint_utils import (IMG, assert_rel_close, build_loaded, perturb,
                              tiny_timm_vit)
from mim_plugins.checkpoints import convert_checkpoint, import_checkpoint
from mim_plugins.engine.pretrained_check import analyse_pretrained

timm = pytest.importorskip('timm')
torchvision = pytest.importorskip('torchvision')


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
