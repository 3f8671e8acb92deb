from .masking import (apply_mask_token, check_mask_grid, masked_mean,
                      mean_fill, upsample_mask)

__all__ = ['apply_mask_token', 'check_mask_grid', 'masked_mean', 'mean_fill',
           'upsample_mask']
