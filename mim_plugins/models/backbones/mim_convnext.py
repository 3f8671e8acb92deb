"""ConvNeXts that take a MIM mask: A2MIM (residual token) and SimMIM."""
from typing import Sequence, Union

from mmpretrain.models.backbones import ConvNeXt
from mmpretrain.registry import MODELS
from ..utils import is_pretrained_init, zero_
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
    ``mask_layer`` (see :mod:`.mask_token` for the names), i.e. after that
    stage's downsampling layer (the stem for stage 0), as openmixup's
    ``MIMConvNeXt``. The feature grid there must be (h, w): at 224 px, 56x56
    for stage 0 (stride 4) and 7x7 for stage 3 (stride 32). The defaults are
    A2MIM's (token added to the input of stage 3); ``A2MIMConvNeXt`` is this
    class under the name our A2MIM configs use.

    Args:
        mask_layer, mask_token, mask_init, replace: Where the mask goes
            and how the token is made and applied, one meaning for every
            backbone (:mod:`.mask_token`). Defaults to 3, 'learnable',
            0 and False (A2MIM's).
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
        self._set_mask_layer(mask_layer, self.num_stages)
        self._init_mask_token((1, self.channels[mask_layer], 1, 1),
                              mask_token, mask_init, replace,
                              at=f'stages.{mask_layer}')

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


#: A2MIM's ConvNeXt is :class:`MIMConvNeXt` with its defaults, under the
#: name our A2MIM configs use
MODELS.register_module('A2MIMConvNeXt', module=MIMConvNeXt)
A2MIMConvNeXt = MIMConvNeXt


@MODELS.register_module()
class SimMIMConvNeXt(MIMConvNeXt):
    """SimMIM ConvNeXt: the token *replaces* the stem features (input of
    stage 0, stride 4). openmixup's SimMIM ConvNeXt baseline of the A2MIM
    table adds the token instead (``replace=False``); its configs set that.
    See :class:`MIMConvNeXt` for the arguments."""

    def __init__(self, mask_layer: int = 0, replace: bool = True, **kwargs):
        super().__init__(mask_layer=mask_layer, replace=replace, **kwargs)
