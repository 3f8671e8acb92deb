"""BEiT attention on ``torch.nn.functional.scaled_dot_product_attention``."""
from typing import Optional

import torch
import torch.nn.functional as F

from mmpretrain.models.utils import BEiTAttention


class SDPABEiTAttention(BEiTAttention):
    """mmpretrain's ``BEiTAttention`` computed with PyTorch's fused
    ``scaled_dot_product_attention`` (flash / memory-efficient / CPU kernels).

    Same parameters and buffers as ``BEiTAttention``, so the state dict keys
    and values are those of ``BEiTAttention`` and checkpoints load into the
    plain mmpretrain module. The relative position bias (the layer's own
    table and/or the backbone's shared one) is given to the kernel as an
    additive float ``attn_mask``; the attention dropout (``attn_drop.p``) is
    applied in training only, as ``nn.Dropout`` does.

    Use :meth:`convert` to switch an existing ``BEiTAttention`` in place.
    """

    @classmethod
    def convert(cls, module: BEiTAttention) -> BEiTAttention:
        """Make ``module`` (a ``BEiTAttention``) compute with SDPA, in place.

        Only the class changes: parameters, buffers, hooks and ``init_cfg``
        stay the same objects. Modules of another type (a subclass with its
        own forward, say) are returned unchanged.
        """
        if type(module) is BEiTAttention:
            module.__class__ = cls
        return module

    def _qkv(self, x: torch.Tensor) -> torch.Tensor:
        if self.bias == 'qv_bias':
            # no key bias, as BEiT: the softmax is invariant to it
            k_bias = torch.zeros_like(self.v_bias, requires_grad=False)
            bias = torch.cat((self.q_bias, k_bias, self.v_bias))
            return F.linear(x, self.qkv.weight, bias)
        return self.qkv(x)

    def _rel_pos_bias(self, n: int) -> Optional[torch.Tensor]:
        """The layer's own relative position bias, (num_heads, N, N)."""
        if self.relative_position_bias_table is None:
            return None
        bias = self.relative_position_bias_table[
            self.relative_position_index.view(-1)].view(n, n, -1)
        return bias.permute(2, 0, 1)

    def forward(self,
                x: torch.Tensor,
                rel_pos_bias: Optional[torch.Tensor] = None) -> torch.Tensor:
        """
        Args:
            x (Tensor): Tokens, (B, N, C).
            rel_pos_bias (Tensor, optional): A shared relative position bias,
                (num_heads, N, N), added to the layer's own one if any.
        """
        B, N, C = x.shape
        q, k, v = self._qkv(x).reshape(B, N, 3, self.num_heads,
                                       -1).permute(2, 0, 3, 1, 4).unbind(0)
        bias = self._rel_pos_bias(N)
        if rel_pos_bias is not None:
            bias = rel_pos_bias if bias is None else bias + rel_pos_bias
        if bias is not None:
            # (1, nH, N, N), in the dtype of q (bf16/fp16 under autocast)
            bias = bias.to(q.dtype).unsqueeze(0)
        x = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias,
            dropout_p=self.attn_drop.p if self.training else 0.,
            scale=self.scale)
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))
