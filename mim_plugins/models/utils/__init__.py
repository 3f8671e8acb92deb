from .masking import (apply_mask_token, check_mask_grid, masked_mean,
                      mean_fill, stage_stride, upsample_mask)
from .weight_init import (is_pretrained_init, rescale_residual_branches_,
                          reset_layer_norms_, trunc_normal_weights_, zero_)

__all__ = ['apply_mask_token', 'check_mask_grid', 'is_pretrained_init',
           'masked_mean', 'mean_fill', 'rescale_residual_branches_',
           'reset_layer_norms_', 'stage_stride', 'trunc_normal_weights_',
           'upsample_mask', 'zero_']
