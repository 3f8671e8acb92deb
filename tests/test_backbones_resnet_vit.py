"""A2MIM backbones: build, forward/backward and mask-token semantics."""
import pytest
import torch

from mmpretrain.registry import MODELS

from helpers import tiny_resnet_cfg, tiny_vit_cfg


def _plain(cfg):
    """The downstream backbone with the same weights layout."""
    cfg = dict(cfg)
    t = cfg.pop('type')
    for k in ('mask_layer', 'mask_token', 'mask_init', 'replace'):
        cfg.pop(k, None)
    if t == 'A2MIMViT':
        cfg.update(type='BEiTViT', out_type='featmap', final_norm=True,
                   use_abs_pos_emb=True, layer_scale_init_value=0.1)
    else:
        cfg.update(type='ResNet')
    return MODELS.build(cfg)


@pytest.mark.parametrize('cfg', [tiny_resnet_cfg(mask_layer=3),
                                 tiny_resnet_cfg(mask_layer=1, mask_init=0.5),
                                 tiny_vit_cfg(mask_layer=0),
                                 tiny_vit_cfg(mask_layer=1, mask_init=0.5)])
def test_forward_backward_and_zero_mask_equals_plain(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg).eval()
    plain = _plain(cfg)
    plain.eval()  # mmpretrain's ResNet.train() returns None
    missing, unexpected = plain.load_state_dict(model.state_dict(),
                                                strict=False)
    assert not missing
    assert set(unexpected) <= {'mask_token', 'mask_gamma'}
    x = torch.randn(2, 3, 64, 64)
    grid = 4 if cfg['type'] == 'A2MIMViT' or cfg['mask_layer'] == 3 else 16
    zeros = torch.zeros(2, grid, grid, dtype=torch.long)
    torch.testing.assert_close(model(x, zeros)[-1], plain(x)[-1])
    torch.testing.assert_close(model(x)[-1], plain(x)[-1])

    model.train()
    mask = torch.randint(0, 2, (2, grid, grid))
    out = model(x, mask)[-1]
    out.float().pow(2).mean().backward()
    assert model.mask_token.grad is not None
    assert model.mask_token.grad.abs().sum() > 0


def _stage_inputs(model, x, mask):
    """Inputs of every ResNet stage (or ViT layer) in one forward pass."""
    seen = []
    blocks = model.layers if hasattr(model, 'layers') else \
        [getattr(model, n) for n in model.res_layers]
    hooks = [b.register_forward_pre_hook(
        lambda m, args: seen.append(args[0].detach().clone())) for b in blocks]
    model(x, mask)
    for h in hooks:
        h.remove()
    return seen


@pytest.mark.parametrize('mask_layer', [0, 1, 2, 3])
def test_resnet_masks_exactly_the_masked_positions_at_its_stage(mask_layer):
    torch.manual_seed(0)
    model = MODELS.build(tiny_resnet_cfg(mask_layer=mask_layer)).eval()
    grid = {0: 16, 1: 16, 2: 8, 3: 4}[mask_layer]
    x = torch.randn(2, 3, 64, 64)
    mask = torch.randint(0, 2, (2, grid, grid))
    mask[0, 0, 0], mask[0, 0, 1] = 1, 0
    ref = _stage_inputs(model, x, torch.zeros_like(mask))
    got = _stage_inputs(model, x, mask)
    for i in range(mask_layer):
        torch.testing.assert_close(got[i], ref[i])
    diff = got[mask_layer] - ref[mask_layer]
    token = model.mask_token.detach()
    m = mask[:, None].float()
    torch.testing.assert_close(diff, token * m)  # residual token, masked only
    assert (diff.abs().sum(1) > 0).long().equal(mask)


@pytest.mark.parametrize('mask_layer', [0, 1])
def test_vit_masks_exactly_the_masked_patch_tokens(mask_layer):
    torch.manual_seed(0)
    model = MODELS.build(tiny_vit_cfg(mask_layer=mask_layer)).eval()
    x = torch.randn(2, 3, 64, 64)
    mask = torch.randint(0, 2, (2, 4, 4))
    mask[0, 0, 0], mask[0, 0, 1] = 1, 0
    ref = _stage_inputs(model, x, torch.zeros_like(mask))
    got = _stage_inputs(model, x, mask)
    stage = mask_layer  # 0: on the patch embeddings, seen by layer 0
    for i in range(stage):
        torch.testing.assert_close(got[i], ref[i])
    diff = got[stage] - ref[stage]
    assert diff[:, 0].abs().max() == 0  # the cls token is never masked
    torch.testing.assert_close(
        diff[:, 1:], model.mask_token.detach() * mask.flatten(1)[..., None])


def test_replace_substitutes_the_token():
    model = MODELS.build(tiny_vit_cfg(replace=True)).eval()
    mask = torch.ones(1, 4, 4, dtype=torch.long)
    seen = []
    model.layers[0].register_forward_pre_hook(
        lambda m, a: seen.append(a[0].detach()))
    model(torch.randn(1, 3, 64, 64), mask)
    # every patch token = token + position embedding: independent of input
    seen2 = []
    model.layers[0]._forward_pre_hooks.clear()
    model.layers[0].register_forward_pre_hook(
        lambda m, a: seen2.append(a[0].detach()))
    model(torch.randn(1, 3, 64, 64), mask)
    torch.testing.assert_close(seen[0][:, 1:], seen2[0][:, 1:])


def test_mask_gamma_scales_masked_features():
    model = MODELS.build(tiny_resnet_cfg(mask_layer=3, mask_init=0.5)).eval()
    assert model.mask_gamma.shape == model.mask_token.shape
    with torch.no_grad():
        model.mask_token.zero_()
    x = torch.randn(1, 3, 64, 64)
    ones = torch.ones(1, 4, 4, dtype=torch.long)
    got = _stage_inputs(model, x, ones)[3]
    ref = _stage_inputs(model, x, torch.zeros_like(ones))[3]
    torch.testing.assert_close(got, 0.5 * ref)


def test_mask_layer_outside_backbone_is_a_clear_error():
    with pytest.raises(ValueError, match='mask_layer=4 is outside'):
        MODELS.build(tiny_resnet_cfg(mask_layer=4))
    with pytest.raises(ValueError, match='mask_layer=2 is outside'):
        MODELS.build(tiny_vit_cfg(mask_layer=2))
    with pytest.raises(ValueError, match='mask_token'):
        MODELS.build(tiny_vit_cfg(mask_token='mean'))


def test_mask_grid_mismatch_is_a_clear_error():
    resnet = MODELS.build(tiny_resnet_cfg(mask_layer=3))
    with pytest.raises(ValueError, match='model_patch_size=16'):
        resnet(torch.randn(1, 3, 64, 64), torch.zeros(1, 8, 8))
    vit = MODELS.build(tiny_vit_cfg())
    with pytest.raises(ValueError, match='does not match the feature grid'):
        vit(torch.randn(1, 3, 64, 64), torch.zeros(1, 8, 8))
    with pytest.raises(ValueError, match=r'shape \(B, h, w\)'):
        vit(torch.randn(1, 3, 64, 64), torch.zeros(4, 4))


@pytest.mark.parametrize('cfg', [tiny_resnet_cfg(mask_layer=2),
                                 tiny_vit_cfg(mask_layer=1)])
def test_a_deep_copy_masks_with_its_own_token(cfg):
    """The masking hook belongs to its backbone: a deep copy (an EMA model)
    puts its own token on, and the mask is armed for one call only."""
    import copy
    model = MODELS.build(cfg).eval()
    twin = copy.deepcopy(model)
    with torch.no_grad():
        twin.mask_token.add_(1.)
    x = torch.randn(2, 3, 64, 64)
    grid = 8 if cfg['type'] == 'A2MIMResNet' else 4  # stride 8 / 16 px
    mask = torch.ones(2, grid, grid, dtype=torch.long)
    with torch.no_grad():
        plain = model(x)[-1]
        ours, theirs = model(x, mask)[-1], twin(x, mask)[-1]
        again = model(x)[-1]
    assert not torch.allclose(ours, theirs)
    torch.testing.assert_close(twin(x)[-1], plain)
    torch.testing.assert_close(again, plain)
    assert model._mask_call is None and twin._mask_call is None


@pytest.mark.parametrize('mask_layer', [0, 1])
def test_masking_survives_activation_checkpoint_wrappers(mask_layer):
    """FSDP's ``activation_checkpointing`` wraps each ViT layer in torch's
    ``CheckpointWrapper``: the recomputation in the backward pass must see
    the masked tokens as the forward did (same gradients as unwrapped)."""
    import copy
    from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import \
        apply_activation_checkpointing
    from mmpretrain.models.backbones.beit import BEiTTransformerEncoderLayer
    torch.manual_seed(0)
    plain = MODELS.build(tiny_vit_cfg(mask_layer=mask_layer, mask_init=0.5))
    wrapped = copy.deepcopy(plain)
    apply_activation_checkpointing(
        wrapped, check_fn=lambda m: isinstance(m, BEiTTransformerEncoderLayer))
    x = torch.randn(2, 3, 64, 64)
    mask = torch.randint(0, 2, (2, 4, 4))
    grads = []
    for model in (plain, wrapped):
        model.train()
        model(x, mask)[-1].square().sum().backward()
        grads.append({n.replace('_checkpoint_wrapped_module.', ''): p.grad
                      for n, p in model.named_parameters()})
    assert grads[0]['mask_token'].abs().sum() > 0
    for name, g in grads[0].items():
        torch.testing.assert_close(grads[1][name], g, msg=name)
