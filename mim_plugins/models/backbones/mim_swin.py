"""Swin Transformer that takes a MIM mask, for A2MIM."""
from mmpretrain.models.backbones import SwinTransformer
from mmpretrain.registry import MODELS
from .mask_token import MaskTokenMixin


@MODELS.register_module()
class MIMSwinTransformer(MaskTokenMixin, SwinTransformer):
    """mmpretrain's ``SwinTransformer`` with a mask token, for MIM.

    Without a mask (or with an all-zero one) it is exactly
    ``SwinTransformer``; its checkpoint keys are those of ``SwinTransformer``
    plus ``mask_token`` (and ``mask_gamma``), so a pre-trained checkpoint
    loads into ``mmpretrain.SwinTransformer`` with ``prefix='backbone.'``
    (the relative position tables are resized on load for another window
    size); mmdet's and mmseg's ``SwinTransformer`` have the same keys.

    With a mask of shape (B, h, w), the token is put on the tokens at
    ``mask_layer`` (see :mod:`.mask_token` for the names): 0 right after the
    patch embedding, before the absolute position embedding (if any), as
    openmixup's ``SimMIMSwinTransformer`` and all A2MIM Swin configs;
    ``k >= 1`` on the tokens entering stage ``k``. The token grid there must
    be (h, w): 48x48 for ``mask_layer=0`` at 192 px. The defaults are
    A2MIM's (token added to the patch embeddings); ``A2MIMSwin`` is this
    class under the name our A2MIM configs use.

    mmpretrain's ``SimMIMSwinTransformer`` stays the SimMIM Swin (the token
    replaces the patch embeddings).

    Args:
        mask_layer, mask_token, mask_init, replace: Where the mask goes
            and how the token is made and applied, one meaning for every
            backbone (:mod:`.mask_token`). Defaults to 0, 'learnable',
            0 and False (A2MIM's).
        **kwargs: Other arguments of mmpretrain's ``SwinTransformer``.

    Downstream backbone: ``mmpretrain.SwinTransformer`` (same keys).
    """

    def __init__(self,
                 mask_layer: int = 0,
                 mask_token: str = 'learnable',
                 mask_init: float = 0.,
                 replace: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._set_mask_layer(mask_layer, self.num_layers)
        dims = self.stages[mask_layer].embed_dims
        at = f'stages.{mask_layer}' if mask_layer else 'patch_embed'
        self._init_mask_token((1, 1, dims), mask_token, mask_init, replace,
                              at=at, output=not mask_layer)


#: A2MIM's Swin is :class:`MIMSwinTransformer` with its defaults, under the
#: name our A2MIM configs use (openmixup's A2MIM Swin models,
#: ``configs/selfsup/_base_/models/a2mim/swin_*.py``)
MODELS.register_module('A2MIMSwin', module=MIMSwinTransformer)
A2MIMSwin = MIMSwinTransformer
