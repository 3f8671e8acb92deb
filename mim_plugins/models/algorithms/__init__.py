from .a2mim import A2MIM
from .maskdistill import MaskDistill

__all__ = ['A2MIM', 'MaskDistill']
