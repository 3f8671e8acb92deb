"""mmdet-only parts; import with custom_imports=['mim_plugins', 'mim_plugins.det']."""
from .backbones import AnySizeBEiTViT, DeepResNet  # noqa: F401
from .necks import SimpleFPN, ViTFeaturePyramid  # noqa: F401
