"""The one masking mechanism of the MIM backbones.

Each MIM backbone is an mmpretrain backbone whose ``forward`` runs
unchanged: :class:`MaskTokenMixin` adds the mask token and a hook on the
sub-module where the mask goes, and ``forward(x, mask)`` arms the hook for
that one call. An upstream change to the backbone's forward is therefore
ours without a copy.

The names, one meaning each, across ResNet, ConvNeXt, ViT and Swin (they
are openmixup's config names, which our configs mirror):

- ``mask_layer = k``: the mask goes on the features entering stage ``k``
  (transformer layer ``k`` of a ViT), counted from 0. ``0`` is the output
  of the embedding (the ResNet stem, the ConvNeXt stem, the patch
  embedding), before a ViT's cls token and before any position embedding.
  For the CNNs this is openmixup's ``mask_layer``; openmixup's ViT and Swin
  count ``k >= 1`` one higher (their ``k`` is our ``k - 1``). Every config
  of theirs and ours masks at 0, where both agree.
- ``mask_token``: the token. In a config, how it is made: ``'learnable'``,
  ``'zero'`` (fixed zeros) or ``'randn'`` (fixed random), as openmixup's
  argument; on the module and in checkpoints, the ``nn.Parameter``
  (``backbone.mask_token``, the key of openmixup and mmpretrain). The mode
  is kept as ``mask_token_mode``.
- ``replace``: the token substitutes the masked features (SimMIM,
  MaskDistill) instead of being added to them (A2MIM).
- ``mask_init``: if > 0 and ``replace=False``, a learnable ``mask_gamma``
  starting at this value scales the masked features first.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model.weight_init import trunc_normal_

from ..utils import apply_mask_token, check_mask_grid, stage_stride

MASK_TOKEN_MODES = ('learnable', 'zero', 'randn')


class MaskTokenMixin:
    """Mask token, ``mask_gamma`` and the hook that applies them.

    A backbone calls :meth:`_set_mask_layer`, then
    :meth:`_init_mask_token` at the end of its
    ``__init__`` with the token's shape and the name of the sub-module at
    which the mask goes: its *input* by default (a forward pre-hook; the grid is the
    feature map's, or the ``hw_shape`` argument of a Swin stage), or its
    *output* (``output=True``: a forward hook on a patch embedding, which
    returns ``(tokens, hw)``). ``extra_tokens`` leading tokens (a ViT's cls
    token) are left unmasked.

    The token is created and initialised here (trunc-normal, std 0.02) so
    that a freshly built backbone is usable before ``init_weights``; a
    ``Pretrained`` init or a resumed checkpoint overwrites it.
    """

    _mask_call: Optional[Tuple[torch.Tensor, Tuple[int, int]]] = None

    def _set_mask_layer(self, mask_layer: int, stages: int,
                        what: str = 'stages') -> None:
        """Check ``mask_layer`` against the backbone's ``stages``."""
        if not 0 <= mask_layer < stages:
            raise ValueError(
                f'{type(self).__name__}: mask_layer={mask_layer} is outside '
                f'the backbone, which has {what} 0..{stages - 1} (0: the '
                f'embedding output; k: the input of {what[:-1]} k).')
        self.mask_layer = mask_layer

    def _init_mask_token(self, shape: Sequence[int], mask_token: str,
                         mask_init: float, replace: bool, at: str,
                         output: bool = False,
                         extra_tokens: int = 0) -> None:
        if mask_token not in MASK_TOKEN_MODES:
            raise ValueError(f'{type(self).__name__}: mask_token='
                             f'{mask_token!r} is not one of '
                             f'{MASK_TOKEN_MODES}.')
        self.mask_token_mode = mask_token
        self.replace = replace
        token = torch.zeros(shape)
        if mask_token != 'zero':
            trunc_normal_(token, mean=0., std=.02)
        self.mask_token = nn.Parameter(
            token, requires_grad=mask_token == 'learnable')
        if mask_init > 0 and not replace:
            self.mask_gamma = nn.Parameter(mask_init * torch.ones(shape))
        else:
            self.mask_gamma: Optional[nn.Parameter] = None
        self._mask_extra_tokens = extra_tokens
        self._mask_at, self._mask_on_output = at, output
        self._mask_hooked = [None]  # a list: not registered as a submodule
        self._hook_mask_site()

    def _hook_mask_site(self) -> None:
        """Hook the module now at ``_mask_at``. A wrapper that has replaced
        it since (torch's activation-checkpoint wrapper, FSDP) is hooked
        instead, so the mask goes on outside the wrapper: a recomputation
        in the backward pass then sees the masked input the forward saw."""
        site = self.get_submodule(self._mask_at)
        if site is self._mask_hooked[0]:
            return
        if self._mask_on_output:
            site.register_forward_hook(self._mask_output)
        else:
            site.register_forward_pre_hook(self._mask_input)
        self._mask_hooked[0] = site

    def forward(self, x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor]:
        """The upstream backbone's features of ``x``; with a (B, h, w)
        ``mask``, the token is put on the masked positions at
        ``mask_layer`` on the way."""
        if mask is None:
            return super().forward(x)
        self._hook_mask_site()
        self._mask_call = (mask, tuple(x.shape[-2:]))
        try:
            return super().forward(x)
        finally:
            self._mask_call = None

    def train(self, mode: bool = True):
        """As the backbone's ``train``, but returns ``self`` as ``nn.Module``
        does (mmpretrain's ResNet and BEiTViT return None)."""
        super().train(mode)
        return self

    def _mask_grid(self, x: torch.Tensor, args: tuple) -> Sequence[int]:
        """The (h, w) grid of the features ``x`` at the masked point."""
        if x.dim() == 4:
            return x.shape[-2:]
        return args[1]  # a Swin stage: (x, hw_shape)

    def _mask_input(self, module: nn.Module, args: tuple):
        if self._mask_call is None or module is not self._mask_hooked[0]:
            return None
        x = args[0]
        return (self._put_mask(x, self._mask_grid(x, args),
                               self._mask_extra_tokens), ) + tuple(args[1:])

    def _mask_output(self, module: nn.Module, args: tuple, out: tuple):
        if self._mask_call is None or module is not self._mask_hooked[0]:
            return None
        x, hw = out
        return self._put_mask(x, hw, 0), hw

    def _put_mask(self, x: torch.Tensor, grid: Sequence[int],
                  extra: int) -> torch.Tensor:
        mask, in_size = self._mask_call
        check_mask_grid(mask, grid,
                        f'{type(self).__name__} mask_layer={self.mask_layer}',
                        stride=stage_stride(in_size[-1], grid[-1]))
        if x.dim() == 4:
            return apply_mask_token(x, mask.unsqueeze(1), self.mask_token,
                                    self.replace, self.mask_gamma)
        m = mask.flatten(1).unsqueeze(-1)
        masked = apply_mask_token(x[:, extra:], m, self.mask_token,
                                  self.replace, self.mask_gamma)
        return torch.cat((x[:, :extra], masked), dim=1) if extra else masked
