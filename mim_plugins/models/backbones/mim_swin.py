"""Swin Transformer that takes a MIM mask, for A2MIM."""
from typing import Optional, Tuple

import torch

from mmpretrain.models.backbones import SwinTransformer
from mmpretrain.models.utils import resize_pos_embed
from mmpretrain.registry import MODELS
from ..utils import check_mask_grid
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

    With a mask of shape (B, h, w), the token is put on the tokens as in
    openmixup's ``SimMIMSwinTransformer``: ``mask_layer=0`` right after the
    patch embedding, before the absolute position embedding (if any);
    ``mask_layer=k >= 1`` on the tokens entering stage ``k - 1``. The token
    grid there must be (h, w): 48x48 for ``mask_layer`` 0 or 1 at 192 px.

    mmpretrain's ``SimMIMSwinTransformer`` stays the SimMIM Swin (the token
    replaces the patch embeddings).

    Args:
        mask_layer (int): Where to mask, see above. Defaults to 0.
        mask_token (str): 'learnable', 'zero' or 'randn'.
            Defaults to 'learnable'.
        mask_init (float): If > 0 and ``replace=False``, initial value of a
            learnable gamma scaling the masked tokens. Defaults to 0.
        replace (bool): Substitute the token instead of adding it.
            Defaults to False.
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
        if not 0 <= mask_layer <= self.num_layers:
            raise ValueError(
                f'{type(self).__name__}: mask_layer={mask_layer} is outside '
                f'the backbone: 0 (patch embedding) or 1..{self.num_layers} '
                f'(the input of stage mask_layer - 1).')
        self.mask_layer = mask_layer
        dims = self.stages[max(mask_layer - 1, 0)].embed_dims
        self._init_mask_token((1, 1, dims), mask_token, mask_init, replace)

    def _mask_tokens(self, x: torch.Tensor, hw: Tuple[int, int],
                     mask: torch.Tensor, where: str,
                     stride: int) -> torch.Tensor:
        check_mask_grid(mask, hw, f'{type(self).__name__} {where}',
                        stride=stride)
        return self._mask(x, mask.flatten(1).unsqueeze(-1))

    def forward(self,
                x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor]:
        """Features of ``x``; masked at ``mask_layer`` if a mask is given.

        Without a mask this is ``SwinTransformer.forward``.
        """
        if mask is None:
            return super().forward(x)
        in_size = x.shape[-1]
        x, hw_shape = self.patch_embed(x)
        if self.mask_layer == 0:
            x = self._mask_tokens(x, hw_shape, mask, 'patch embedding',
                                  in_size // hw_shape[1])
        if self.use_abs_pos_embed:
            x = x + resize_pos_embed(
                self.absolute_pos_embed, self.patch_resolution, hw_shape,
                self.interpolate_mode, self.num_extra_tokens)
        x = self.drop_after_pos(x)

        outs = []
        for i, stage in enumerate(self.stages):
            if self.mask_layer == i + 1:
                x = self._mask_tokens(x, hw_shape, mask, f'stage {i}',
                                      in_size // hw_shape[1])
            x, hw_shape = stage(
                x, hw_shape, do_downsample=self.out_after_downsample)
            if i in self.out_indices:
                norm_layer = getattr(self, f'norm{i}')
                out = norm_layer(x)
                out = out.view(-1, *hw_shape,
                               self.num_features[i]).permute(0, 3, 1,
                                                             2).contiguous()
                outs.append(out)
            if stage.downsample is not None and not self.out_after_downsample:
                x, hw_shape = stage.downsample(x, hw_shape)
        return tuple(outs)


@MODELS.register_module()
class A2MIMSwin(MIMSwinTransformer):
    """A2MIM Swin: the token is *added* to the patch embeddings
    (``mask_layer=0``), as openmixup's A2MIM Swin models
    (``configs/selfsup/_base_/models/a2mim/swin_*.py``). See
    :class:`MIMSwinTransformer` for the arguments."""

    def __init__(self, mask_layer: int = 0, replace: bool = False, **kwargs):
        super().__init__(mask_layer=mask_layer, replace=replace, **kwargs)
