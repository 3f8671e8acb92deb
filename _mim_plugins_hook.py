"""``mim_plugins::`` config paths in mmengine, in every Python process.

mmengine resolves ``pkg::path`` (``_base_ = 'mmpretrain::...'``,
``mmengine.hub.get_config``) only for the packages of its table
``mmengine.config.utils.MODULE2PACKAGE``, and reads a config's ``_base_``
before its ``custom_imports``: a user config that inherits
``mim_plugins::...`` fails before anything imports mim_plugins. The wheel
installs ``mim_plugins_hook.pth`` beside the packages, which imports this
small module (no torch, no mmengine) when Python starts; it waits for
``mmengine.config`` to be imported and then adds mim_plugins to mmengine:

- ``mim_plugins`` in ``MODULE2PACKAGE``;
- ``mim_plugins::PATH`` for ``mim_plugins/.mim/configs/PATH`` of the
  importable package, in ``_base_``, ``mmengine.hub.get_config`` and
  ``Config.fromfile``; mmengine's ``get_installed_path('mim_plugins')``
  answers the importable package's folder, also for an editable install
  (mmengine's own answer is then a folder that does not exist);
- such a base is read as a local file is: no ``_scope_`` is added to its
  dicts (mmengine would add ``_scope_='mim_plugins'``, a registry scope
  that does not exist: mim_plugins registers into mmpretrain's, mmdet's and
  mmseg's registries, and each of its configs sets the ``default_scope`` of
  the library it runs in, which the user's config inherits).

``import mim_plugins`` does the same, for environments without the ``.pth``
(a source checkout on ``PYTHONPATH``). Nothing else of mmengine changes.
"""
import importlib.abc
import importlib.util
import os
import sys

PACKAGE = 'mim_plugins'
PREFIX = PACKAGE + '::'
_TARGET = 'mmengine.config.config'


def package_dir() -> str:
    """The folder of the importable ``mim_plugins`` package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f'{PREFIX} config paths need the {PACKAGE} package: pip install '
            f'it (or put its source checkout on PYTHONPATH).')
    return list(spec.submodule_search_locations)[0]


def config_dir() -> str:
    """``mim_plugins/.mim/configs`` of the importable package."""
    return os.path.join(package_dir(), '.mim', 'configs')


def resolve(cfg_path: str) -> str:
    """The file of ``mim_plugins::PATH``, with a clear error if absent."""
    rel = cfg_path[len(PREFIX):]
    path = os.path.join(config_dir(), rel)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f'{cfg_path}: no such config in {PACKAGE} ({path}). The configs '
            f'are under pretrain/, classification/, detection/ and '
            f'segmentation/, e.g. {PREFIX}pretrain/a2mim/'
            f'a2mim_resnet50_8xb256-coslr-100e_in1k.py.')
    return path


def patch(config_module) -> None:
    """Teach ``mmengine.config`` the ``mim_plugins::`` paths (idempotent)."""
    utils = sys.modules.get('mmengine.config.utils')
    if utils is not None:
        utils.MODULE2PACKAGE.setdefault(PACKAGE, PACKAGE)
    for name in ('mmengine.utils.package_utils', 'mmengine.utils',
                 'mmengine.hub.hub'):
        module = sys.modules.get(name)
        found = getattr(module, 'get_installed_path', None)
        if found is not None and not getattr(found, '_mim_plugins', False):
            setattr(module, 'get_installed_path', _installed_path(found))
    Config = config_module.Config
    if getattr(Config, '_mim_plugins_patched', False):
        return
    get_cfg_path = Config._get_cfg_path
    fromfile = Config.fromfile

    def _get_cfg_path(cfg_path, filename):
        if isinstance(cfg_path, str) and cfg_path.startswith(PREFIX):
            return resolve(cfg_path), None
        return get_cfg_path(cfg_path, filename)

    def _fromfile(filename, *args, **kwargs):
        if isinstance(filename, str) and filename.startswith(PREFIX):
            filename = resolve(filename)
        return fromfile(filename, *args, **kwargs)

    Config._get_cfg_path = staticmethod(_get_cfg_path)
    Config.fromfile = staticmethod(_fromfile)
    Config._mim_plugins_patched = True


def _installed_path(get_installed_path):
    """mmengine's ``get_installed_path``, right for ``mim_plugins``."""

    def wrapper(package: str) -> str:
        if package == PACKAGE:
            return package_dir()
        return get_installed_path(package)

    wrapper._mim_plugins = True
    return wrapper


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches ``mmengine.config.config`` right after it is executed."""

    def find_spec(self, name, path, target=None):
        if name != _TARGET:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            patch(module)

        spec.loader.exec_module = exec_module
        return spec


def install() -> None:
    """Patch now if mmengine's config is loaded, else when it is."""
    if _TARGET in sys.modules:
        patch(sys.modules[_TARGET])
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
