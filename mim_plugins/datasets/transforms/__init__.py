from .mask_generators import (BEiTv2MaskGenerator, BlockwiseMaskGenerator,
                              FastBEiTMaskGenerator)

__all__ = ['BEiTv2MaskGenerator', 'BlockwiseMaskGenerator',
           'FastBEiTMaskGenerator']
