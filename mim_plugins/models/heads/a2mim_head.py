"""A2MIM head: spatial regression loss plus focal frequency loss."""
from typing import Dict, Optional

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModule

from mmpretrain.registry import MODELS
from ..utils import masked_mean, upsample_mask

_REPLACE_MODES = (None, 'target', 'prediction', 'mean', 'mixed')


@MODELS.register_module()
class A2MIMHead(BaseModule):
    """Loss head of A2MIM (Li et al., ICML 2023).

    Takes the keyword arguments of the official ``A2MIMHead`` (openmixup)
    with the same names and meanings, so the head block of an official
    config ports unchanged, and returns the same loss value and gradient.

    With the mask ``M`` upsampled to pixels and ``l`` the element-wise
    ``loss`` criterion:

    - spatial term: ``sum(l * Ms) / (sum(Ms) + 1e-5) / C`` with
      ``Ms = M + (1 - M) * unmask_weight``;
    - frequency term (``fft_weight > 0``): the prediction's unmasked pixels
      are mostly replaced (detached) before the FFT,
      ``pred' = pred * Mf + rep * (1 - Mf)``,
      ``Mf = M + (1 - M) * fft_unmask_weight``, ``rep`` chosen by
      ``fft_unmask_replace`` ('mixed': ``0.5 * pred.detach() + 0.5 *
      target``); then the focal frequency loss (``fft_focal=True``: alpha 1,
      batch-averaged spectrum, log weight matrix normalised by its batch
      max) or the ``loss`` criterion on the orthonormal spectra
      (optionally self-re-weighted, ``fft_reweight``);
    - total ``loss = spatial + fft_weight * frequency``.

    The whole loss runs in fp32, also under AMP.

    Args:
        loss (dict): Element-wise criterion. Defaults to
            ``dict(type='RegressionLoss', loss_weight=1.0, mode='l1_loss')``.
        encoder_in_channels (int): Image channels ``C``. Defaults to 3.
        unmask_weight (float): Spatial weight of unmasked pixels, in [0, 1].
            Defaults to 0.
        fft_weight (float): Weight of the frequency term. Defaults to 0.
        fft_reweight (bool): Self-re-weight the non-focal frequency loss.
            Defaults to False.
        fft_focal (bool): Use the focal frequency loss. Defaults to False.
        fft_unmask_replace (str, optional): None, 'target', 'prediction',
            'mean' or 'mixed'. None with ``fft_weight > 0`` and
            ``unmask_weight < 1`` becomes 'target', as officially.
            Defaults to None.
        fft_unmask_weight (float): Frequency-term weight of unmasked pixels,
            in [0, 1]. Defaults to 0.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 loss: Optional[dict] = None,
                 encoder_in_channels: int = 3,
                 unmask_weight: float = 0.,
                 fft_weight: float = 0.,
                 fft_reweight: bool = False,
                 fft_focal: bool = False,
                 fft_unmask_replace: Optional[str] = None,
                 fft_unmask_weight: float = 0.,
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(init_cfg)
        if fft_unmask_replace not in _REPLACE_MODES:
            raise ValueError(f'A2MIMHead: fft_unmask_replace='
                             f'{fft_unmask_replace!r} is not one of '
                             f'{_REPLACE_MODES}.')
        for name, value in (('unmask_weight', unmask_weight),
                            ('fft_unmask_weight', fft_unmask_weight)):
            if not 0 <= value <= 1:
                raise ValueError(f'A2MIMHead: {name}={value} must be in [0, 1].')
        if unmask_weight < 1 and fft_unmask_replace is None and fft_weight > 0:
            fft_unmask_replace = 'target'
            print_log("A2MIMHead: the fft loss needs `fft_unmask_replace`; "
                      "using 'target'.", logger='current')
        self.encoder_in_channels = encoder_in_channels
        self.unmask_weight = unmask_weight
        self.fft_weight = fft_weight
        self.fft_reweight = fft_reweight
        self.fft_focal = fft_focal
        self.fft_unmask_replace = fft_unmask_replace
        self.fft_unmask_weight = fft_unmask_weight

        loss = dict(loss or dict(type='RegressionLoss', loss_weight=1.0,
                                 mode='l1_loss'))
        self.criterion = MODELS.build(loss)
        if fft_focal:
            fft_loss = dict(type='FocalFrequencyLoss', loss_weight=1.0,
                            alpha=1.0, ave_spectrum=True, log_matrix=True,
                            batch_matrix=True)
        else:
            fft_loss = dict(loss)
            if fft_loss.get('mode') not in ('l1_loss', 'mse_loss',
                                            'focal_l1_loss', 'focal_mse_loss'):
                fft_loss['mode'] = 'l1_loss'
        self.fft_loss = MODELS.build(fft_loss)

    def _replacement(self, pred: torch.Tensor,
                     target: torch.Tensor) -> Optional[torch.Tensor]:
        mode = self.fft_unmask_replace
        if mode == 'target':
            return target
        if mode == 'prediction':
            return pred.detach()
        if mode == 'mean':
            return target.mean(dim=(2, 3), keepdim=True).expand_as(target)
        if mode == 'mixed':
            return 0.5 * pred.detach() + 0.5 * target
        return None

    def loss(self, pred: torch.Tensor, target: torch.Tensor,
             mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Compute the loss.

        Args:
            pred (torch.Tensor): Reconstruction, (B, C, H, W).
            target (torch.Tensor): Target image, (B, C, H, W).
            mask (torch.Tensor): 1 = masked, (B, h, w) at patch resolution.

        Returns:
            dict: ``loss`` (the total, what is optimised) and the detached
            terms ``spatial`` and ``frequency`` for logging.
        """
        if pred.shape != target.shape:
            raise ValueError(
                f'A2MIMHead: the reconstruction {tuple(pred.shape)} and the '
                f'target {tuple(target.shape)} differ in shape; the decoder '
                f'stride must equal the backbone stride and the image size '
                f'must be a multiple of it.')
        with torch.autocast(device_type=pred.device.type, enabled=False):
            pred, target = pred.float(), target.float()
            mask = upsample_mask(mask, target.shape[-2:]).float()

            mask_s = mask + (1. - mask) * self.unmask_weight \
                if self.unmask_weight > 0 else mask
            l_spatial = self.criterion(pred, target, reduction_override='none')
            spatial = masked_mean(l_spatial, mask_s, self.encoder_in_channels)
            losses = dict(spatial=spatial.detach())
            total = spatial
            if self.fft_weight > 0:
                frequency = self._frequency_loss(pred, target, mask)
                total = total + self.fft_weight * frequency
                losses['frequency'] = frequency.detach()
            losses['loss'] = total
        return losses

    def _frequency_loss(self, pred: torch.Tensor, target: torch.Tensor,
                        mask: torch.Tensor) -> torch.Tensor:
        replacement = self._replacement(pred, target)
        if self.fft_unmask_weight < 1 and replacement is not None:
            mask_f = mask + (1. - mask) * self.fft_unmask_weight
            pred = pred * mask_f + replacement * (1. - mask_f)
        if self.fft_focal:
            return self.fft_loss(pred, target)
        f_target = torch.fft.fftn(target, dim=(2, 3), norm='ortho')
        f_pred = torch.fft.fftn(pred, dim=(2, 3), norm='ortho')
        if self.fft_reweight:
            loss = self.fft_loss(f_pred, f_target, reduction_override='none')
            return (loss.detach() * loss).mean()
        return self.fft_loss(f_pred, f_target, reduction_override='mean')
