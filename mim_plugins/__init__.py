"""Masked image modeling (A2MIM, SimMIM, MaskDistill) for OpenMMLab 2.x.

``import mim_plugins`` (or ``custom_imports=dict(imports=['mim_plugins'])``)
registers the algorithms, backbones, heads, losses, transforms and hooks into
mmpretrain's registries. It needs mmpretrain only; the detection and
segmentation parts live in ``mim_plugins.det`` and ``mim_plugins.seg``.
It also makes ``mim_plugins::`` config paths work in mmengine
(``_mim_plugins_hook``). The applications over the library (the demo and
paper preset, ``mim_plugins.reproduce``, and the benchmark,
``mim_plugins.benchmark``) are not imported by it.
"""
try:  # mim_plugins:: config paths in mmengine (installed beside us)
    import _mim_plugins_hook
    _mim_plugins_hook.install()
except ImportError:  # a copy of the package without its top-level hook
    pass

from .utils import register_safe_globals  # noqa: E402

register_safe_globals()

from . import datasets, engine, models  # noqa: E402,F401
from .version import __version__  # noqa: E402,F401
