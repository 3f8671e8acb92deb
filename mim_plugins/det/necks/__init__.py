from .simple_fpn import SimpleFPN
from .vit_feature_pyramid import ViTFeaturePyramid

__all__ = ['SimpleFPN', 'ViTFeaturePyramid']
