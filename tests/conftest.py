"""pytest fixtures; shared helpers are in helpers.py."""
import pytest

import helpers  # noqa: F401  the repository on sys.path, torch threads
from mim_plugins.reproduce.synthetic import make_classification_folder


@pytest.fixture(autouse=True)
def mmpretrain_scope():
    """mmengine's default scope is global: a test that builds an mmseg or
    mmdet model must not leave it set for the next test."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    yield


@pytest.fixture(scope='session')
def demo_data(tmp_path_factory):
    """A small generated image folder (4 classes x 16 train images, 64 px)."""
    root = str(tmp_path_factory.mktemp('data') / 'demo')
    return make_classification_folder(root, num_train=16, num_val=4, size=64)
