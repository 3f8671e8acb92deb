"""mmseg-only parts; custom_imports=['mim_plugins', 'mim_plugins.seg']."""
from .backbones import DeepResNet  # noqa: F401
