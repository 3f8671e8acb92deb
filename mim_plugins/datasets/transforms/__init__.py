from .mask_generators import BlockwiseMaskGenerator

__all__ = ['BlockwiseMaskGenerator']
