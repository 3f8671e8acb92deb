"""Element-wise regression losses used as the spatial term of A2MIM."""
from typing import Optional

import torch
import torch.nn as nn

from mmpretrain.registry import MODELS

_MODES = ('l1_loss', 'mse_loss', 'focal_l1_loss', 'focal_mse_loss')


def _focal_factor(abs_diff: torch.Tensor, alpha: float, gamma: float,
                  activate: str) -> torch.Tensor:
    """Modulating factor of the focal regression losses (Yang et al. 2021)."""
    if activate == 'tanh':
        return torch.tanh(alpha * abs_diff)**gamma
    return (2. * torch.sigmoid(alpha * abs_diff) - 1.)**gamma


@MODELS.register_module()
class RegressionLoss(nn.Module):
    """L1 / MSE regression loss with optional focal re-weighting.

    Keyword-compatible with the ``RegressionLoss`` of the official A2MIM code
    (openmixup), restricted to the modes A2MIM uses:

    - ``l1_loss``: ``|d|``
    - ``mse_loss``: ``d^2``
    - ``focal_l1_loss``: ``|d| * act(alpha * |d|)^gamma``
    - ``focal_mse_loss``: ``d^2 * act(alpha * |d|)^gamma``

    with ``d = pred - target`` and ``act(z) = 2 * sigmoid(z) - 1`` (or
    ``tanh(z)``). ``residual=True`` adds the plain term back. Complex inputs
    (Fourier spectra) use the complex modulus ``|d|``.

    Args:
        mode (str): One of the modes above. Defaults to 'mse_loss'.
        reduction (str): 'none', 'mean' or 'sum'. Defaults to 'mean'.
        loss_weight (float): Scale of the loss. Defaults to 1.0.
        alpha (float): Focal scale. Defaults to 0.2.
        gamma (float): Focal exponent. Defaults to 1.0.
        activate (str): 'sigmoid' or 'tanh'. Defaults to 'sigmoid'.
        residual (bool): Add the non-focal loss. Defaults to False.
    """

    def __init__(self,
                 mode: str = 'mse_loss',
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 alpha: float = 0.2,
                 gamma: float = 1.0,
                 activate: str = 'sigmoid',
                 residual: bool = False,
                 **kwargs) -> None:
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f'RegressionLoss: mode={mode!r} is not supported; '
                             f'choose one of {_MODES}.')
        if reduction not in (None, 'none', 'mean', 'sum'):
            raise ValueError(f'RegressionLoss: unknown reduction {reduction!r}.')
        if activate not in ('sigmoid', 'tanh'):
            raise ValueError(f'RegressionLoss: unknown activate {activate!r}; '
                             "use 'sigmoid' or 'tanh'.")
        self.mode = mode
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.alpha = alpha
        self.gamma = gamma
        self.activate = activate
        self.residual = residual

    def forward(self,
                pred: torch.Tensor,
                target: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        reduction = reduction_override or self.reduction
        abs_diff = (pred - target).abs()
        plain = abs_diff if 'l1' in self.mode else abs_diff * abs_diff
        loss = plain
        if self.mode.startswith('focal'):
            loss = plain * _focal_factor(abs_diff, self.alpha, self.gamma,
                                         self.activate)
            if self.residual:
                loss = loss + plain
        if weight is not None:
            loss = loss * weight.expand_as(loss)
        if reduction == 'mean':
            loss = loss.mean()
        elif reduction == 'sum':
            loss = loss.sum()
        return self.loss_weight * loss
