"""ResNets that take a MIM mask: A2MIM (residual token) and SimMIM (replace)."""
from typing import Optional, Tuple

import torch

from mmpretrain.registry import MODELS
from .deep_resnet import DeepResNet
from .mask_token import MaskTokenMixin


@MODELS.register_module()
class MIMResNet(MaskTokenMixin, DeepResNet):
    """mmpretrain's ``ResNet`` with a mask token applied before one stage.

    Without a mask it is exactly ``ResNet``; its checkpoint keys are those of
    ``ResNet`` plus ``mask_token`` (and ``mask_gamma``), so a pre-trained
    checkpoint loads into ``mmpretrain.ResNet`` / ``mmdet.ResNet`` with
    ``prefix='backbone.'``. Depth 200 (``(3, 24, 36, 3)`` Bottlenecks, as
    openmixup's ResNet) is built too; its downstream backbone is
    ``DeepResNet`` (registered in mmpretrain, and in mmdet and mmseg by
    ``mim_plugins.det`` / ``mim_plugins.seg``).

    With a mask of shape (B, h, w), the token is put on the input of stage
    ``mask_layer`` (see :mod:`.mask_token` for the names), whose feature
    grid must be (h, w): for ResNet-50 at 224 px and ``mask_layer=3`` that
    is the 1024-channel, stride-16, 14x14 map. The defaults are A2MIM's
    (token added to the input of stage 3); ``A2MIMResNet`` is this class
    under the name our A2MIM configs use.

    Args:
        mask_layer, mask_token, mask_init, replace: Where the mask goes
            and how the token is made and applied, one meaning for every
            backbone (:mod:`.mask_token`). Defaults to 3, 'learnable',
            0 and False (A2MIM's).
        channels_last (bool): Keep the 4-D weights (and the input, hence the
            features) in ``torch.channels_last`` memory format, the fast
            layout of cuDNN convolutions under AMP. Only the memory layout
            changes: the parameters stay the same ``Parameter`` objects with
            the same values, so optimizers, checkpoints (they load into a
            default-layout model) and outputs are unaffected.
            Defaults to False.
        with_cp (bool): mmpretrain's ``ResNet`` option: run each residual
            block under activation checkpointing (less memory, one more
            forward of each block in the backward pass). Defaults to False.
        **kwargs: Other arguments of mmpretrain's ``ResNet``.

    Downstream backbone: ``mmpretrain.ResNet`` / ``mmdet.ResNet`` (same keys;
    ``DeepResNet`` for depth 200).
    """

    def __init__(self,
                 mask_layer: int = 3,
                 mask_token: str = 'learnable',
                 mask_init: float = 0.,
                 replace: bool = False,
                 channels_last: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._set_mask_layer(mask_layer, len(self.res_layers))
        name = self.res_layers[mask_layer]
        self._init_mask_token(
            (1, getattr(self, name)[0].in_channels, 1, 1), mask_token,
            mask_init, replace, at=name)
        self.channels_last = channels_last
        self._to_channels_last()

    def _to_channels_last(self) -> None:
        """Re-lay the 4-D parameters and buffers out as channels_last, in
        place (``.data`` only: the ``Parameter`` objects are kept)."""
        if not self.channels_last:
            return
        fmt = torch.channels_last
        for t in list(self.parameters()) + list(self.buffers()):
            if t.dim() == 4 and not t.is_contiguous(memory_format=fmt):
                t.data = t.data.contiguous(memory_format=fmt)

    def init_weights(self) -> None:
        super().init_weights()
        # in-place initialisers keep the layout; this is a safeguard
        self._to_channels_last()

    def forward(self,
                x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor]:
        """Features of ``x``, masked before stage ``mask_layer`` if a mask
        is given (:class:`MaskTokenMixin`); channels_last input if set."""
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return super().forward(x, mask)


#: A2MIM's ResNet is :class:`MIMResNet` with its defaults, under the name
#: our A2MIM configs use
MODELS.register_module('A2MIMResNet', module=MIMResNet)
A2MIMResNet = MIMResNet


@MODELS.register_module()
class SimMIMResNet(MIMResNet):
    """SimMIM ResNet (the A2MIM paper's SimMIM baseline): the token
    *replaces* the features at the input of stage 0 (after the stem, stride
    4). See :class:`MIMResNet` for the arguments."""

    def __init__(self, mask_layer: int = 0, replace: bool = True, **kwargs):
        super().__init__(mask_layer=mask_layer, replace=replace, **kwargs)
