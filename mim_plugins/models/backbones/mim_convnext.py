"""ConvNeXts that take a MIM mask: A2MIM (residual token) and SimMIM."""
from typing import Optional, Sequence, Tuple, Union

import torch

from mmpretrain.models.backbones import ConvNeXt
from mmpretrain.registry import MODELS
from ..utils import (check_mask_grid, is_pretrained_init, stage_stride,
                     zero_)
from .mask_token import MaskTokenMixin


@MODELS.register_module()
class MIMConvNeXt(MaskTokenMixin, ConvNeXt):
    """mmpretrain's ``ConvNeXt`` with a mask token applied at one stage.

    Without a mask (or with an all-zero one) it is exactly ``ConvNeXt``; its
    checkpoint keys are those of ``ConvNeXt`` plus ``mask_token`` (and
    ``mask_gamma``), so a pre-trained checkpoint loads into
    ``mmpretrain.ConvNeXt`` (also inside mmdet and mmseg configs) with
    ``prefix='backbone.'``.

    With a mask of shape (B, h, w), the token is put on the input of stage
    ``mask_layer`` (0-based), i.e. after that stage's downsampling layer (the
    stem for stage 0), as openmixup's ``MIMConvNeXt``. The feature grid there
    must be (h, w): at 224 px, 56x56 for stage 0 (stride 4) and 7x7 for stage
    3 (stride 32).

    Args:
        mask_layer (int): Stage whose input is masked. Defaults to 3.
        mask_token (str): 'learnable', 'zero' (fixed zeros) or 'randn'
            (fixed random). Defaults to 'learnable'.
        mask_init (float): If > 0 and ``replace=False``, a learnable gamma
            initialised to this value scales the masked features first:
            ``x * (1 - m) + x * m * gamma``. Defaults to 0.
        replace (bool): Substitute the token (SimMIM) instead of adding it
            (A2MIM). Defaults to False.
        out_indices (Sequence[int] | int): Stages to output.
            Defaults to (3, ).
        gap_before_final_norm (bool): Pool before the output norm. Defaults
            to False (the decoder needs the feature map).
        **kwargs: Other arguments of mmpretrain's ``ConvNeXt``.

    Downstream backbone: ``mmpretrain.ConvNeXt`` (same keys).
    """

    def __init__(self,
                 mask_layer: int = 3,
                 mask_token: str = 'learnable',
                 mask_init: float = 0.,
                 replace: bool = False,
                 out_indices: Union[Sequence[int], int] = (3, ),
                 gap_before_final_norm: bool = False,
                 **kwargs) -> None:
        super().__init__(
            out_indices=list(out_indices) if isinstance(
                out_indices, Sequence) else out_indices,
            gap_before_final_norm=gap_before_final_norm,
            **kwargs)
        if not 0 <= mask_layer < self.num_stages:
            raise ValueError(
                f'{type(self).__name__}: mask_layer={mask_layer} is outside '
                f'the backbone, which has stages 0..{self.num_stages - 1}.')
        self.mask_layer = mask_layer
        self._init_mask_token((1, self.channels[mask_layer], 1, 1),
                              mask_token, mask_init, replace)

    def init_weights(self) -> None:
        """mmpretrain's ConvNeXt initialisation (the ``init_cfg`` that
        openmixup's ConvNeXt has too: trunc-normal(0.02) convs and linears
        with zero bias, LayerNorms 1/0); the mask token starts at **zero**,
        as openmixup's ``MIMConvNeXt.init_weights`` leaves it: it passes the
        token itself to mmcv's ``trunc_normal_init``, which only draws a
        module's ``.weight`` (a Parameter has none), so the token keeps its
        ``torch.zeros`` (openmixup ``backbones/convnext.py`` lines 531 and
        538-546)."""
        super().init_weights()
        if not is_pretrained_init(self.init_cfg):
            zero_([self.mask_token])

    def forward(self,
                x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor]:
        """Features of ``x``; masked at the input of stage ``mask_layer``
        if a mask is given. Without a mask this is ``ConvNeXt.forward``."""
        if mask is None:
            return super().forward(x)
        in_size = x.shape[-1]
        outs = []
        for i, stage in enumerate(self.stages):
            x = self.downsample_layers[i](x)
            if i == self.mask_layer:
                check_mask_grid(mask, x.shape[-2:],
                                f'{type(self).__name__} stage {i}',
                                stride=stage_stride(in_size, x.shape[-1]))
                x = self._mask(x, mask.unsqueeze(1))
            x = stage(x)
            if i in self.out_indices:
                norm_layer = getattr(self, f'norm{i}')
                if self.gap_before_final_norm:
                    gap = x.mean([-2, -1], keepdim=True)
                    outs.append(norm_layer(gap).flatten(1))
                else:
                    outs.append(norm_layer(x))
        return tuple(outs)


@MODELS.register_module()
class A2MIMConvNeXt(MIMConvNeXt):
    """A2MIM ConvNeXt: the token is *added* to the input of stage 3 (after
    the last downsampling, stride 32), optionally after a learnable gamma
    (``mask_init``), as openmixup's A2MIM ConvNeXt (``mask_layer=3``).
    See :class:`MIMConvNeXt` for the arguments."""

    def __init__(self, mask_layer: int = 3, replace: bool = False, **kwargs):
        super().__init__(mask_layer=mask_layer, replace=replace, **kwargs)


@MODELS.register_module()
class SimMIMConvNeXt(MIMConvNeXt):
    """SimMIM ConvNeXt: the token *replaces* the stem features (input of
    stage 0, stride 4). openmixup's SimMIM ConvNeXt baseline of the A2MIM
    table adds the token instead (``replace=False``); its configs set that.
    See :class:`MIMConvNeXt` for the arguments."""

    def __init__(self, mask_layer: int = 0, replace: bool = True, **kwargs):
        super().__init__(mask_layer=mask_layer, replace=replace, **kwargs)
