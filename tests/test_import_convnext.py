"""ConvNeXt checkpoints -> ours: openmixup's MIMConvNeXt loads strictly and
its masked forward equals a reference written from openmixup's code;
mmpretrain's zoo ConvNeXt gives equal features; unknown block keys are an
error."""
import pytest
import torch
import torch.nn.functional as F

from checkpoint_utils import (IMG, _assert_preserved, _values,
                              assert_rel_close, build_loaded, perturb)
from mim_plugins.checkpoints import LayoutError, convert_checkpoint

timm = pytest.importorskip('timm')
torchvision = pytest.importorskip('torchvision')


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
