"""Where the installed package keeps its configs and tools.

As the OpenMMLab packages, mim_plugins ships ``configs/``, ``tools/`` and
``model-index.yml`` in ``mim_plugins/.mim/`` (copies in a wheel; symlinks to
the top-level folders in a source checkout or an editable install). Code
that needs a config or a tool finds it there, wherever the package is
installed and whatever the working directory.
"""
import os
import os.path as osp

MIM_DIR = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), '.mim')


def mim_path(*parts: str) -> str:
    """``mim_plugins/.mim/<parts>``, e.g. ``mim_path('configs/pretrain/a2mim/
    a2mim_resnet50_8xb256-coslr-100e_in1k.py')``; an error that says what is
    missing if it is not there."""
    path = osp.join(MIM_DIR, *parts)
    if not osp.exists(path):
        raise FileNotFoundError(
            f'{osp.join(*parts)} is not in the installed mim_plugins '
            f'({path}): a wheel ships configs/ and tools/ in mim_plugins/'
            f'.mim; a source checkout has them as symlinks there.')
    return path


def shown_path(path: str) -> str:
    """``path`` as a command line shows it: relative to the working
    directory when it is below it (a source checkout's ``configs/`` and
    ``tools/``, behind the ``.mim`` symlinks), else absolute (an installed
    package)."""
    real = osp.realpath(path)
    rel = osp.relpath(real, os.getcwd())
    return real if rel == os.pardir or rel.startswith(os.pardir + os.sep) \
        else rel
