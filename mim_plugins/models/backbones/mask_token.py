"""The learnable mask token that the MIM backbones share."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model.weight_init import trunc_normal_

from ..utils import apply_mask_token

MASK_TOKEN_MODES = ('learnable', 'zero', 'randn')


class MaskTokenMixin:
    """Adds ``mask_token`` (and the optional ``mask_gamma``) to a backbone.

    The token is created and initialised here (trunc-normal, std 0.02) so that
    a freshly built backbone is usable before ``init_weights``; a
    ``Pretrained`` init or a resumed checkpoint overwrites it.
    """

    def _init_mask_token(self, shape, mask_token: str, mask_init: float,
                         replace: bool) -> None:
        if mask_token not in MASK_TOKEN_MODES:
            raise ValueError(f'{type(self).__name__}: mask_token={mask_token!r} '
                             f'is not one of {MASK_TOKEN_MODES}.')
        self.mask_mode = mask_token
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

    def train(self, mode: bool = True):
        """As the backbone's ``train``, but returns ``self`` as ``nn.Module``
        does (mmpretrain's ResNet and BEiTViT return None)."""
        super().train(mode)
        return self

    def _mask(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return apply_mask_token(x, mask, self.mask_token, self.replace,
                                self.mask_gamma)
