"""Masked image modeling (A2MIM, SimMIM, MaskDistill) for OpenMMLab 2.x.

``import mim_plugins`` (or ``custom_imports=dict(imports=['mim_plugins'])``)
registers the algorithms, backbones, heads, losses, transforms and hooks into
mmpretrain's registries. It needs mmpretrain only; the detection and
segmentation parts live in ``mim_plugins.det`` and ``mim_plugins.seg``.
"""
from .utils import register_safe_globals

register_safe_globals()

from . import datasets, engine, models  # noqa: E402,F401

__version__ = '0.1.0'
