"""Mask helpers shared by the MIM backbones, algorithms and heads."""
from typing import Optional, Sequence

import torch


def stage_stride(input_size: int, feature_size: int) -> int:
    """The stride of a CNN stage from its input and feature sizes: the
    power of two nearest their ratio (``input_size // feature_size`` is off
    when the input is no multiple of the stride: 200 px at stride 16 give
    13 positions, and 200 // 13 = 15)."""
    import math
    return 2 ** max(round(math.log2(input_size / feature_size)), 0)


def check_mask_grid(mask: torch.Tensor, grid: Sequence[int], where: str,
                    stride: Optional[int] = None) -> None:
    """Raise a clear error when a (B, h, w) mask does not match ``grid``."""
    if mask.dim() != 3:
        raise ValueError(f'{where}: the mask must have shape (B, h, w), got '
                         f'{tuple(mask.shape)}.')
    if tuple(mask.shape[-2:]) != tuple(grid):
        hint = ''
        if stride is not None:
            hint = (f' Generate the mask at the stride of that stage: '
                    f'model_patch_size={stride} in the mask generator, and an '
                    f'input size of {grid[0] * stride}x{grid[1] * stride} px.')
        raise ValueError(
            f'{where}: the mask grid {tuple(mask.shape[-2:])} does not match '
            f'the feature grid {tuple(grid)} at the masked stage.{hint}')


def apply_mask_token(x: torch.Tensor,
                     mask: torch.Tensor,
                     token: torch.Tensor,
                     replace: bool,
                     gamma: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Put the mask token on the masked positions of ``x``.

    ``x`` is (B, C, h, w) with ``mask`` (B, 1, h, w), or (B, L, C) with
    ``mask`` (B, L, 1). ``replace=True`` substitutes the token (SimMIM,
    MaskDistill): ``x * (1 - m) + t * m``. ``replace=False`` adds it as a
    residual (A2MIM): ``x + t * m``, after optionally scaling the masked
    features by a learnable ``gamma``: ``x * (1 - m) + x * m * gamma``.
    """
    mask = mask.to(x.dtype)
    if replace:
        return x * (1. - mask) + token * mask
    if gamma is not None:
        x = x * (1. - mask) + x * mask * gamma
    return x + token * mask


def mean_fill(img: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Fill the masked pixels of each image with its per-channel mean.

    ``img`` is (B, C, H, W), already normalised; ``mask`` is (B, h, w) with
    ``H`` and ``W`` integer multiples of ``h`` and ``w``. The mean is taken
    over the whole image, masked pixels included, as in A2MIM.
    """
    pixel_mask = upsample_mask(mask, img.shape[-2:]).to(img.dtype)
    mean = img.mean(dim=(2, 3), keepdim=True)
    return img * (1. - pixel_mask) + mean * pixel_mask


def upsample_mask(mask: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Nearest upsampling of a (B, h, w) mask to (B, 1, H, W)."""
    h, w = mask.shape[-2:]
    H, W = int(size[0]), int(size[1])
    if H % h or W % w:
        raise ValueError(
            f'The image size {H}x{W} is not a multiple of the mask grid '
            f'{h}x{w}: use an input size that is a multiple of the mask '
            f'patch size (e.g. 224 with 32-px blocks).')
    if H == h and W == w:
        return mask.unsqueeze(1)
    return mask.unsqueeze(1).repeat_interleave(H // h, 2).repeat_interleave(
        W // w, 3)


def masked_mean(loss: torch.Tensor, mask: torch.Tensor,
                channels: int) -> torch.Tensor:
    """``sum(loss * mask) / (sum(mask) + 1e-5) / channels`` (SimMIM/A2MIM)."""
    return (loss * mask).sum() / (mask.sum() + 1e-5) / channels


__all__ = ['apply_mask_token', 'check_mask_grid', 'masked_mean', 'mean_fill',
           'upsample_mask']
