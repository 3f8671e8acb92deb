"""Helpers of the checkpoint import/export tests."""
import torch

from mim_plugins.checkpoints.common import strip_prefix


def perturb(module: torch.nn.Module, std: float = 0.1, seed: int = 0):
    """Make every parameter (and BatchNorm statistic) non-trivial, so that a
    wrong mapping (a swapped or dropped tensor, a missing bias) shows."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * std)
        for name, b in module.named_buffers():
            if name.endswith('running_mean'):
                b.copy_(torch.randn(b.shape, generator=gen) * std)
            elif name.endswith('running_var'):
                b.copy_(1 + torch.rand(b.shape, generator=gen))
    module.eval()  # mmpretrain backbones return None from train()
    return module


def assert_rel_close(ours, ref, rtol=1e-5, name=''):
    """max |ours - ref| <= rtol * max |ref|; returns the relative error."""
    assert ours.shape == ref.shape, (name, ours.shape, ref.shape)
    err = (ours - ref).abs().max().item()
    scale = ref.abs().max().item()
    assert err <= rtol * scale, \
        f'{name}: max abs err {err:.3g}, scale {scale:.3g}'
    return err / scale


def build_loaded(cfg: dict, state: dict, prefix: str = 'backbone.',
                 skip=(), **over):
    """Build ``cfg`` (+ ``over``), load ``state[prefix*]`` (less the keys in
    ``skip``) strictly, eval."""
    from mmpretrain.registry import MODELS
    module = MODELS.build(dict(cfg, **over))
    state = {k: v for k, v in strip_prefix(state, prefix).items()
             if k not in skip}
    module.load_state_dict(state, strict=True)
    module.eval()  # mmpretrain backbones return None from train()
    return module


def random_state(shapes: dict, seed: int = 0, long_keys=()):
    """A state dict of random tensors of the given shapes."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for key, shape in shapes.items():
        if key in long_keys:
            continue
        out[key] = torch.randn(shape, generator=gen) * 0.1
    return out


def official_beit_index(g: int) -> torch.Tensor:
    """BEiT / microsoft/SimMIM ``relative_position_index`` for a g x g grid,
    from the official code's equations (``RelativePositionBias``)."""
    coords = torch.stack(torch.meshgrid([torch.arange(g), torch.arange(g)],
                                        indexing='ij'))
    flat = torch.flatten(coords, 1)
    rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()
    rel[:, :, 0] += g - 1
    rel[:, :, 1] += g - 1
    rel[:, :, 0] *= 2 * g - 1
    num = (2 * g - 1) * (2 * g - 1) + 3
    index = torch.zeros((g * g + 1, ) * 2, dtype=rel.dtype)
    index[1:, 1:] = rel.sum(-1)
    index[0, 0:] = num - 3
    index[0:, 0] = num - 2
    index[0, 0] = num - 1
    return index


def official_swin_index(w: int) -> torch.Tensor:
    """Swin ``WindowAttention.relative_position_index`` (official code)."""
    coords = torch.stack(torch.meshgrid([torch.arange(w), torch.arange(w)],
                                        indexing='ij'))
    flat = torch.flatten(coords, 1)
    rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()
    rel[:, :, 0] += w - 1
    rel[:, :, 1] += w - 1
    rel[:, :, 0] *= 2 * w - 1
    return rel.sum(-1)


#: the input of the feature comparisons
IMG = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def tiny_timm_vit(**kw):
    from timm.models.vision_transformer import VisionTransformer
    cfg = dict(img_size=32, patch_size=8, embed_dim=64, depth=2, num_heads=2,
               mlp_ratio=2., num_classes=0)
    cfg.update(kw)
    return perturb(VisionTransformer(**cfg))


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


def _assert_preserved(conv, source, rename):
    """Every source tensor is in the conversion, unchanged (up to reshape)."""
    for key, value in source.items():
        ours = rename(key)
        if ours is None:
            continue
        assert torch.equal(conv.state_dict[ours].reshape(value.shape),
                           value), key
