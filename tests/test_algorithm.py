"""A2MIM algorithm: mean fill, end-to-end loss, input checks, masks."""
import numpy as np
import pytest
import torch

from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

from helpers import tiny_resnet_cfg, tiny_vit_cfg
from mim_plugins.models.utils import mean_fill
from helpers import VIT_HEAD


def _a2mim(backbone, stride, **kw):
    channels = backbone.get('base_channels', 16) * 8 \
        if backbone['type'] == 'A2MIMResNet' else 64
    return MODELS.build(dict(
        type='A2MIM', backbone=backbone,
        neck=dict(type='SimMIMLinearDecoder', in_channels=channels,
                  encoder_stride=stride),
        head=VIT_HEAD, **kw))


def _samples(mask):
    return [DataSample().set_mask(m) for m in mask]


def test_mean_fill_uses_each_images_own_channel_mean():
    img = torch.randn(2, 3, 64, 64)
    mask = torch.randint(0, 2, (2, 4, 4))
    out = mean_fill(img, mask)
    pix = mask.repeat_interleave(16, 1).repeat_interleave(16, 2).bool()
    for b in range(2):
        for c in range(3):
            mean = img[b, c].mean()
            assert torch.allclose(out[b, c][pix[b]], mean.expand(
                int(pix[b].sum())))
            assert torch.equal(out[b, c][~pix[b]], img[b, c][~pix[b]])


@pytest.mark.parametrize('backbone,stride', [
    (tiny_resnet_cfg(mask_layer=3), 32), (tiny_vit_cfg(), 16)])
def test_loss_is_head_loss_of_reconstruction_of_mean_filled_input(
        backbone, stride):
    torch.manual_seed(0)
    model = _a2mim(backbone, stride)
    model.eval()
    x = torch.randn(2, 3, 64, 64)
    mask = torch.randint(0, 2, (2, 4, 4))
    losses = model.loss(x, _samples(mask))
    seen = []
    model.backbone.register_forward_pre_hook(
        lambda m, args: seen.append(args[0].detach()))
    out = model.reconstruct(x, mask)
    torch.testing.assert_close(seen[0], mean_fill(x, mask))
    expected = model.head.loss(out['pred'], x, mask)['loss']
    torch.testing.assert_close(losses['loss'], expected)
    losses['loss'].backward()


def test_residual_adds_the_target_mean():
    torch.manual_seed(0)
    model = _a2mim(tiny_vit_cfg(), 16)
    model.eval()
    x = torch.randn(2, 3, 64, 64)
    mask = torch.randint(0, 2, (2, 4, 4))
    plain = model.reconstruct(x, mask)['pred']
    model.residual = True
    res = model.reconstruct(x, mask)['pred']
    torch.testing.assert_close(res - plain,
                               x.mean((2, 3), keepdim=True).expand_as(res))


def test_input_size_and_missing_mask_are_clear_errors():
    model = _a2mim(tiny_vit_cfg(), 16)
    with pytest.raises(ValueError, match='not a multiple of the mask grid'):
        model.loss(torch.randn(1, 3, 64, 64), _samples(torch.zeros(1, 3, 3)))
    with pytest.raises(ValueError, match='not a multiple of the model stride'):
        model.loss(torch.randn(1, 3, 60, 60), _samples(torch.zeros(1, 4, 4)))
    with pytest.raises(ValueError, match='No MIM mask'):
        model.loss(torch.randn(1, 3, 64, 64), [DataSample()])
    resnet = _a2mim(tiny_resnet_cfg(mask_layer=3), 32)
    with pytest.raises(ValueError, match='input size of 64x64'):
        resnet.loss(torch.randn(1, 3, 64, 64),
                    _samples(torch.zeros(1, 8, 8, dtype=torch.long)))


def test_extract_feat_is_the_unmasked_backbone():
    model = _a2mim(tiny_vit_cfg(), 16)
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    torch.testing.assert_close(model.extract_feat(x)[-1], model.backbone(x)[-1])


def test_blockwise_mask_generator_counts_shape_and_draws_as_simmim():
    gen = TRANSFORMS.build(dict(type='BlockwiseMaskGenerator', input_size=224,
                                mask_patch_size=32, model_patch_size=16,
                                mask_ratio=0.6))
    np.random.seed(0)
    for _ in range(20):
        mask = gen({'img_shape': (224, 224)})['mask']
        assert mask.shape == (14, 14)
        blocks = mask[::2, ::2]
        assert blocks.sum() == 30  # ceil(49 * 0.6)
        assert np.array_equal(np.kron(blocks, np.ones((2, 2))), mask)
    # mask for mask microsoft/SimMIM's MaskGenerator (data/data_simmim.py),
    # written out here, given the same numpy draws
    for seed in range(5):
        np.random.seed(seed)
        ours = gen({'img_shape': (224, 224)})['mask']
        np.random.seed(seed)
        idx = np.random.permutation(49)[:30]
        ref = np.zeros(49, dtype=int)
        ref[idx] = 1
        ref = ref.reshape(7, 7).repeat(2, axis=0).repeat(2, axis=1)
        assert np.array_equal(ours, ref), seed


def test_blockwise_mask_generator_errors():
    with pytest.raises(ValueError, match='not a multiple of mask_patch_size'):
        TRANSFORMS.build(dict(type='BlockwiseMaskGenerator', input_size=200,
                              mask_patch_size=32, model_patch_size=16))
    with pytest.raises(ValueError, match='model_patch_size'):
        TRANSFORMS.build(dict(type='BlockwiseMaskGenerator', input_size=224,
                              mask_patch_size=32, model_patch_size=12))
    gen = TRANSFORMS.build(dict(type='BlockwiseMaskGenerator', input_size=224,
                                mask_patch_size=32, model_patch_size=16))
    with pytest.raises(ValueError, match='crop or resize the image to 224'):
        gen({'img_shape': (192, 192)})
