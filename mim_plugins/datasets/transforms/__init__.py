from .mask_generators import BlockwiseMaskGenerator, FastBEiTMaskGenerator

__all__ = ['BlockwiseMaskGenerator', 'FastBEiTMaskGenerator']
