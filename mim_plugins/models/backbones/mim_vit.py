"""ViTs (relative position bias, layer scale) that take a MIM mask."""
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from torch.utils.checkpoint import checkpoint

from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from mmpretrain.models.backbones import BEiTViT
from mmpretrain.models.backbones.beit import BEiTTransformerEncoderLayer
from mmpretrain.registry import MODELS
from ..utils import (is_pretrained_init,
                     rescale_residual_branches_, reset_layer_norms_,
                     trunc_normal_weights_, zero_)
from .mask_token import MaskTokenMixin
from .sdpa_attention import SDPABEiTAttention

INIT_STYLES = ('openmixup', 'beit', None)


class CheckpointedBEiTLayer(BEiTTransformerEncoderLayer):
    """mmpretrain's BEiT layer run under activation checkpointing
    (``torch.utils.checkpoint``, non-reentrant) when training with
    gradients; ``convert`` swaps a layer's class in place, so parameters,
    keys and hooks stay."""

    @classmethod
    def convert(cls, layer: nn.Module) -> nn.Module:
        if type(layer) is BEiTTransformerEncoderLayer:
            layer.__class__ = cls
        return layer

    def forward(self, x: torch.Tensor,
                rel_pos_bias: Optional[torch.Tensor]) -> torch.Tensor:
        if self.training and torch.is_grad_enabled():
            return checkpoint(super().forward, x, rel_pos_bias,
                              use_reentrant=False)
        return super().forward(x, rel_pos_bias)


@MODELS.register_module()
class MIMViT(MaskTokenMixin, BEiTViT):
    """mmpretrain's ``BEiTViT`` with a mask token, for MIM pre-training.

    ``BEiTViT`` is the mmpretrain ViT with per-layer relative position bias
    and layer scale, as the A2MIM/SimMIM ViTs use. ``arch='small'`` is
    mmpretrain's 768-d, 8-layer, 8-head ViT (FFN 2304) of the paper, not
    DeiT-S. Without a mask it is exactly ``BEiTViT``; its checkpoint keys
    are those of ``BEiTViT`` plus ``mask_token`` (and ``mask_gamma``).

    With a mask of shape (B, h, w) on the (h, w) patch grid, the token is put
    on the patch tokens (never the cls token) at ``mask_layer`` (see
    :mod:`.mask_token` for the names): 0 right after the patch embedding,
    before the cls token and position embedding (the paper's setting);
    ``k >= 1`` on the tokens entering transformer layer ``k``. The defaults
    are A2MIM's (token added after the patch embedding; absolute position
    embedding, a relative position bias per layer, layer scale 0.1, as the
    official A2MIM ViT); ``A2MIMViT`` is this class under the name our A2MIM
    configs use.

    Args:
        mask_layer, mask_token, mask_init, replace: Where the mask goes
            and how the token is made and applied, one meaning for every
            backbone (:mod:`.mask_token`). Defaults to 0, 'learnable',
            0 and False (A2MIM's).
        out_type (str): Defaults to 'featmap' (what the decoder needs).
        final_norm (bool): Defaults to True.
        use_abs_pos_emb (bool): Defaults to True.
        layer_scale_init_value (float): Defaults to 0.1.
        drop_path_rate (float): Defaults to 0.1.
        use_sdpa (bool): Compute the attention of every layer with PyTorch's
            fused ``scaled_dot_product_attention`` (the relative position
            bias is its additive mask). Same parameters and checkpoint keys
            as mmpretrain's ``BEiTAttention``, same outputs up to float
            rounding. Defaults to True.
        with_cp (bool): Run each transformer layer under activation
            checkpointing (``torch.utils.checkpoint``, non-reentrant) when
            training with gradients: less memory, one more forward of each
            layer in the backward pass. Defaults to False.
        init_style (str, optional): Whose initialisation ``init_weights``
            follows (nothing is drawn when ``init_cfg`` loads a checkpoint):

            - ``'openmixup'``: openmixup's ``SimMIMViT`` on its
              ``VisionTransformer`` (A2MIM, openmixup's SimMIM ViT-S/L):
              every Linear weight trunc-normal(0.02) cut at +-2 with zero
              bias, LayerNorms 1/0, position embedding and cls token
              trunc-normal(0.02), relative position tables and q/v biases
              zero, patch embedding PyTorch's default, mask token
              trunc-normal(0.02).
            - ``'beit'``: BEiT's ``_init_weights`` + ``fix_init_weight``, as
              microsoft/SimMIM's ViT and BEiT v2 (MaskDistill's base):
              Linear and patch-embedding weights, cls token, position
              embedding and mask token trunc-normal(0.02) cut at +-0.02,
              zero biases, LayerNorms 1/0, zero relative position tables,
              and each layer's ``attn.proj`` and ``ffn`` output weights
              divided by ``sqrt(2 * layer_id)``.
            - ``None``: mmpretrain's ``BEiTViT`` initialisation.

            Defaults to 'openmixup'.
        **kwargs: Other arguments of mmpretrain's ``BEiTViT``.

    Downstream backbone: ``mmpretrain.BEiTViT`` (same keys; a shared relative
    position bias is expanded to every layer when loading).
    """

    def __init__(self,
                 mask_layer: int = 0,
                 mask_token: str = 'learnable',
                 mask_init: float = 0.,
                 replace: bool = False,
                 out_type: str = 'featmap',
                 final_norm: bool = True,
                 use_abs_pos_emb: bool = True,
                 layer_scale_init_value: float = 0.1,
                 drop_path_rate: float = 0.1,
                 use_sdpa: bool = True,
                 with_cp: bool = False,
                 init_style: Optional[str] = 'openmixup',
                 **kwargs) -> None:
        if init_style not in INIT_STYLES:
            raise ValueError(
                f'{type(self).__name__}: init_style={init_style!r} is not one '
                f'of {INIT_STYLES}.')
        self.init_style = init_style
        super().__init__(
            out_type=out_type,
            final_norm=final_norm,
            use_abs_pos_emb=use_abs_pos_emb,
            layer_scale_init_value=layer_scale_init_value,
            drop_path_rate=drop_path_rate,
            **kwargs)
        self._set_mask_layer(mask_layer, self.num_layers, 'layers')
        self._init_mask_token(
            (1, 1, self.embed_dims), mask_token, mask_init, replace,
            at=f'layers.{mask_layer}' if mask_layer else 'patch_embed',
            output=not mask_layer, extra_tokens=self.num_extra_tokens)
        # BEiTViT's stochastic depth rates come from np.linspace: numpy
        # scalars, which TorchDynamo turns into tensors, so ``drop_prob ==
        # 0.`` in mmcv's drop_path becomes a data-dependent branch, a graph
        # break that sends the whole layer loop back to eager under
        # torch.compile. Python floats are constants to it.
        for module in self.modules():
            if isinstance(getattr(module, 'drop_prob', None), np.floating):
                module.drop_prob = float(module.drop_prob)
        self.use_sdpa = use_sdpa
        if use_sdpa:
            for layer in self.layers:
                SDPABEiTAttention.convert(layer.attn)
        self.with_cp = with_cp
        if with_cp:
            for layer in self.layers:
                CheckpointedBEiTLayer.convert(layer)

    def init_weights(self) -> None:
        """mmpretrain's initialisation, then the official one of
        ``init_style`` (skipped when ``init_cfg`` loads a checkpoint)."""
        if is_pretrained_init(self.init_cfg):
            # only the load: mmpretrain's BEiTViT would draw pos_embed again
            # after loading when the Pretrained init is inside a list
            BaseModule.init_weights(self)
            return
        super().init_weights()
        if self.init_style is None:
            return
        # openmixup: vision_transformer.py VisionTransformer.init_weights
        # (its Linear loop runs after the layers' xavier FFN init, so every
        # Linear ends trunc-normal); BEiT: modeling_pretrain.py
        # _init_weights (Linear and Conv2d) + fix_init_weight
        beit = self.init_style == 'beit'
        cutoff = .02 if beit else None
        trunc_normal_weights_(
            self, std=.02, cutoff=cutoff,
            types=(nn.Linear, nn.Conv2d) if beit else (nn.Linear, ))
        reset_layer_norms_(self)
        tokens = [self.cls_token, self.pos_embed]
        if self.mask_token_mode != 'zero':  # openmixup mim_vit.py SimMIMViT
            tokens.append(self.mask_token)
        for token in tokens:
            if token is not None:
                trunc_normal_(token, std=.02, a=-(cutoff or 2.),
                              b=cutoff or 2.)
        # relative position tables are created as zeros and never drawn;
        # q/v biases are zero
        zero_(p for name, p in self.named_parameters()
              if name.endswith(('relative_position_bias_table', 'q_bias',
                                'v_bias')))
        if beit:
            rescale_residual_branches_(self.layers)

    def _mask_grid(self, x: torch.Tensor, args: tuple) -> Tuple[int, int]:
        """The patch grid of this call's input (tokens entering a layer)."""
        in_hw = self._mask_call[1]
        stride = self.patch_embed.projection.stride
        return in_hw[0] // stride[0], in_hw[1] // stride[1]


#: A2MIM's ViT is :class:`MIMViT` with its defaults, under the name our
#: A2MIM configs use
MODELS.register_module('A2MIMViT', module=MIMViT)
A2MIMViT = MIMViT


@MODELS.register_module()
class SimMIMViT(MIMViT):
    """SimMIM ViT (official recipe): the mask token *replaces* the masked
    patch embeddings; no absolute position embedding, one relative position
    bias shared by all layers, layer scale 0.1; initialised as
    microsoft/SimMIM's ViT (``init_style='beit'``). See :class:`MIMViT`."""

    def __init__(self, replace: bool = True, use_abs_pos_emb: bool = False,
                 use_rel_pos_bias: bool = False,
                 use_shared_rel_pos_bias: bool = True,
                 init_style: Optional[str] = 'beit', **kwargs):
        super().__init__(
            replace=replace, use_abs_pos_emb=use_abs_pos_emb,
            use_rel_pos_bias=use_rel_pos_bias,
            use_shared_rel_pos_bias=use_shared_rel_pos_bias,
            init_style=init_style, **kwargs)


@MODELS.register_module()
class MaskDistillViT(SimMIMViT):
    """MaskDistill student: dense encoding (the mask token replaces the
    masked patches, all tokens are encoded), a shared relative position
    bias and layer scale 0.1, as in the paper (BEiT-style student),
    initialised as BEiT v2's ``VisionTransformerForMaskedImageModeling``
    (``init_style='beit'``)."""
