from .cosine_factor import CosineAnnealingFactorLR

__all__ = ['CosineAnnealingFactorLR']
