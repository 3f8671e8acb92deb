from .a2mim_head import A2MIMHead
from .maskdistill_head import MaskDistillHead

__all__ = ['A2MIMHead', 'MaskDistillHead']
