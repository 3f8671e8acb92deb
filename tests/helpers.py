"""What the tests share: paths, the tiny configs, tools as modules, tiny
model configs (fixtures are in conftest.py; test files import from here,
never from each other or from conftest)."""
import importlib.util
import os
import os.path as osp
import sys

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault('PYTHONWARNINGS', 'ignore')

import mim_plugins  # noqa: E402,F401
from mim_plugins.utils import tiny  # noqa: E402

torch.set_num_threads(2)

TINY_RESNET = osp.join(ROOT, 'configs/pretrain/a2mim/'
                       'a2mim_resnet-tiny_1xb16-20i_demo.py')
TINY_VIT = osp.join(ROOT, 'configs/pretrain/a2mim/'
                    'a2mim_vit-tiny_1xb16-20i_demo.py')
#: every tiny pre-training config, by short name
TINY_CONFIGS = {
    'a2mim_resnet': TINY_RESNET,
    'a2mim_vit': TINY_VIT,
    'simmim_vit': osp.join(ROOT, 'configs/pretrain/simmim/'
                           'simmim_vit-tiny_1xb16-20i_demo.py'),
    'simmim_resnet': osp.join(ROOT, 'configs/pretrain/simmim/'
                              'simmim_resnet-tiny_1xb16-20i_demo.py'),
    'simmim_swin': osp.join(ROOT, 'configs/pretrain/simmim/'
                            'simmim_swin-tiny_1xb16-20i_demo.py'),
    'maskdistill_vit': osp.join(ROOT, 'configs/pretrain/maskdistill/'
                                'maskdistill_vit-tiny_1xb16-20i_demo.py'),
    'a2mim_convnext': osp.join(ROOT, 'configs/pretrain/a2mim/'
                               'a2mim_convnext-tiny_1xb16-20i_demo.py'),
    'simmim_convnext': osp.join(ROOT, 'configs/pretrain/simmim/'
                                'simmim_convnext-tiny_1xb16-20i_demo.py'),
    'a2mim_swin': osp.join(ROOT, 'configs/pretrain/a2mim/'
                           'a2mim_swin-tiny_1xb16-20i_demo.py'),
}


def load_tool(name: str):
    """A command-line script of ``tools/`` as a module, to call its ``main``
    (``tools/`` is a folder of scripts, not a package). ``name`` is relative
    to ``tools/`` without ``.py``, e.g. ``'train'`` or
    ``'model_converters/import_checkpoint'``."""
    path = osp.join(ROOT, 'tools', name + '.py')
    spec = importlib.util.spec_from_file_location(
        'tools_' + name.replace('/', '_'), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_config(path: str):
    """``Config.fromfile`` of a repository config (relative to the root),
    with its default checkpoint: ``PRETRAINED`` unset while it resolves."""
    from mmengine.config import Config
    saved = os.environ.pop('PRETRAINED', None)
    try:
        return Config.fromfile(osp.join(ROOT, path))
    finally:
        if saved is not None:
            os.environ['PRETRAINED'] = saved


def tiny_vit_cfg(**kw):
    """The tiny ViT (:mod:`mim_plugins.utils.tiny`) with 16-px patches: a
    4x4 token grid, one token a mask patch."""
    cfg = dict(type='A2MIMViT', arch=tiny.arch('vit'), img_size=tiny.IMG_SIZE,
               patch_size=tiny.MASK_PATCH, drop_path_rate=0.)
    cfg.update(kw)
    return cfg


def tiny_resnet_cfg(**kw):
    """The tiny ResNet (:mod:`mim_plugins.utils.tiny`), its last stage out."""
    cfg = dict(type='A2MIMResNet', **tiny.backbone('resnet'),
               out_indices=(3, ))
    cfg.update(kw)
    return cfg


#: A2MIM's ViT head (spatial loss + focal frequency loss), as openmixup's
#: ViT settings
VIT_HEAD = dict(
    type='A2MIMHead',
    loss=dict(type='RegressionLoss', mode='l1_loss', loss_weight=1.0,
              reduction='none'),
    unmask_weight=0., fft_weight=0.1, fft_focal=True, fft_unmask_weight=0.,
    fft_unmask_replace='mixed', fft_reweight=False, encoder_in_channels=3)
