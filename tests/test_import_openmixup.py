"""openmixup A2MIM / SimMIM ResNet, ViT and Swin -> ours: state dicts with
openmixup's key names and shapes (read in the official code) load strictly
with every tensor preserved, and the A2MIM Swin's masked forward matches."""
import pytest
import torch

from checkpoint_utils import (_assert_preserved, _values, assert_rel_close,
                              build_loaded, official_beit_index, perturb)
from mim_plugins.checkpoints import LayoutError, convert_checkpoint

timm = pytest.importorskip('timm')
torchvision = pytest.importorskip('torchvision')


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
