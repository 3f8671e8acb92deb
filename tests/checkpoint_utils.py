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
