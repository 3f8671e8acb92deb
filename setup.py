"""Packaging of mim_plugins, as the OpenMMLab packages ship theirs.

``configs/``, ``tools/`` and ``model-index.yml`` go into the package as
``mim_plugins/.mim/`` (committed there as symlinks to the top-level folders,
so a source checkout and an editable install see them too; wheels and
sdists get copies), which is where mmengine's ``mim_plugins::`` config paths
and openmim's ``mim train mim_plugins ...`` look. ``mim_plugins_hook.pth``
goes beside the packages: it makes ``mim_plugins::`` config paths work in
every Python process of the environment (``_mim_plugins_hook.py`` says how).
The rest of the metadata is in ``pyproject.toml``.
"""
import os.path as osp

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HOOK = 'mim_plugins_hook.pth'


class BuildPy(build_py):
    """``build_py`` that also puts the start-up hook at the wheel's root."""

    def run(self):
        super().run()
        here = osp.dirname(osp.abspath(__file__))
        self.copy_file(osp.join(here, HOOK), osp.join(self.build_lib, HOOK))


setup(
    packages=find_packages(include=['mim_plugins', 'mim_plugins.*']),
    py_modules=['_mim_plugins_hook', '_mim_plugins_cli'],
    package_data={
        'mim_plugins': [
            '.mim/model-index.yml',
            '.mim/configs/**/*.py',
            '.mim/configs/**/*.md',
            '.mim/configs/**/*.yml',
            '.mim/tools/**/*.py',
            '.mim/tools/**/*.sh',
        ]
    },
    cmdclass={'build_py': BuildPy},
    zip_safe=False,
)
