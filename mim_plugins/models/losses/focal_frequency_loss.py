"""Focal frequency loss (Jiang et al., ICCV 2021), the frequency term of A2MIM."""
from typing import Optional

import torch
import torch.nn as nn

from mmpretrain.registry import MODELS


@MODELS.register_module()
class FocalFrequencyLoss(nn.Module):
    """Focal frequency loss on the 2-D orthonormal spectrum of images.

    ``loss = mean(w * |F(pred) - F(target)|^2)`` where ``w`` is the
    spectrum weight matrix ``|F(pred) - F(target)|^alpha`` (optionally
    ``log(1 + .)``), normalised by its max (over the batch or per image and
    channel), NaNs set to 0, clamped to [0, 1] and detached. Same definition
    and options as the official A2MIM code.

    The FFT always runs in fp32, also under autocast: half-precision FFTs
    are restricted to power-of-two sizes and lose the small high-frequency
    terms this loss is about.

    Args:
        loss_weight (float): Scale of the loss. Defaults to 1.0.
        alpha (float): Exponent of the spectrum weight. Defaults to 1.0.
        ave_spectrum (bool): Average the spectra over the batch first.
            Defaults to False.
        log_matrix (bool): Use ``log(1 + w)``. Defaults to False.
        batch_matrix (bool): Normalise ``w`` by its max over the whole batch
            instead of per image and channel. Defaults to False.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 alpha: float = 1.0,
                 ave_spectrum: bool = False,
                 log_matrix: bool = False,
                 batch_matrix: bool = False) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.alpha = alpha
        self.ave_spectrum = ave_spectrum
        self.log_matrix = log_matrix
        self.batch_matrix = batch_matrix

    def spectrum_weight(self, sq_dist: torch.Tensor) -> torch.Tensor:
        """Detached weight matrix in [0, 1] from the squared spectrum distance."""
        with torch.no_grad():
            w = sq_dist.sqrt()**self.alpha
            if self.log_matrix:
                w = torch.log(w + 1.0)
            if self.batch_matrix:
                w = w / w.max()
            else:
                w = w / w.amax(dim=(-2, -1), keepdim=True)
            w = torch.where(torch.isnan(w), torch.zeros_like(w), w)
            return w.clamp(0.0, 1.0)

    def forward(self,
                pred: torch.Tensor,
                target: torch.Tensor,
                matrix: Optional[torch.Tensor] = None,
                **kwargs) -> torch.Tensor:
        """Compute the loss of (N, C, H, W) ``pred`` against ``target``."""
        with torch.autocast(device_type=pred.device.type, enabled=False):
            f_pred = torch.view_as_real(
                torch.fft.fft2(pred.float(), dim=(2, 3), norm='ortho'))
            f_targ = torch.view_as_real(
                torch.fft.fft2(target.float(), dim=(2, 3), norm='ortho'))
            if self.ave_spectrum:
                f_pred = f_pred.mean(0, keepdim=True)
                f_targ = f_targ.mean(0, keepdim=True)
            diff = f_pred - f_targ
            sq_dist = diff[..., 0]**2 + diff[..., 1]**2
            if matrix is not None:
                weight = matrix.detach()
            else:
                weight = self.spectrum_weight(sq_dist)
            return (weight * sq_dist).mean() * self.loss_weight
