"""Every shipped config runs as shipped.

The tiny pre-training configs train for their 20 iterations through
``tools/train.py`` with nothing overridden: they run in a folder whose
``data/demo`` is the generated image folder, the path they name. Every
other config builds everything ``Runner.train`` builds before its first
iteration (model, data loaders with one sample through the training
pipeline, optimizer wrapper, schedulers, validation loop) from data laid out
where the config looks for it (``data/imagenet``, ``data/coco``,
``data/ade``) and a teacher file where the MaskDistill config names it.
"""
import glob
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from helpers import ROOT, TINY_CONFIGS, load_tool
from mim_plugins.reproduce.synthetic import (make_coco_instances,
                                             make_segmentation_folder)

train_tool = load_tool('train')

FULL_CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                         recursive=True)
    if '_base_' not in p and p not in TINY_CONFIGS.values())


def _imagenet(root):
    """ImageNet's layout: meta/{train,val}.txt and the class folders; the
    training list names each image 64 times, so that it fills one batch of
    every recipe (drop_last)."""
    rng = np.random.default_rng(0)
    os.makedirs(osp.join(root, 'meta'))
    for split in ('train', 'val'):
        lines = []
        for label in range(4):
            folder = osp.join(root, split, f'n0000000{label}')
            os.makedirs(folder)
            for i in range(2):
                name = f'n0000000{label}/{split}_{i}.JPEG'
                Image.fromarray(rng.integers(0, 255, (40, 48, 3),
                                             dtype=np.uint8)).save(
                    osp.join(root, split, name), format='JPEG')
                lines.append(f'{name} {label}')
        if split == 'train':  # one full batch of the largest recipe (512)
            lines = lines * (512 // len(lines))
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')


def _coco(root, tmp):
    """COCO 2017's layout and file names, with COCO category names."""
    from mmdet.datasets import CocoDataset
    src = make_coco_instances(str(tmp / 'coco_src'), num_train=4, num_val=2,
                              size=96)
    names = CocoDataset.METAINFO['classes']
    os.makedirs(osp.join(root, 'annotations'))
    for split in ('train', 'val'):
        os.symlink(osp.join(src, split), osp.join(root, f'{split}2017'))
        with open(osp.join(src, 'annotations', f'instances_{split}.json')) \
                as f:
            ann = json.load(f)
        for cat in ann['categories']:
            cat['name'] = names[cat['id'] - 1]
        with open(osp.join(root, 'annotations',
                           f'instances_{split}2017.json'), 'w') as f:
            json.dump(ann, f)


def _ade(root, tmp):
    """ADE20K's layout: JPEG images, PNG label maps."""
    src = make_segmentation_folder(str(tmp / 'ade_src'), num_train=2,
                                   num_val=2, size=64)
    os.makedirs(osp.join(root, 'annotations'))
    for split in ('training', 'validation'):
        os.symlink(osp.join(src, 'annotations', split),
                   osp.join(root, 'annotations', split))
        os.makedirs(osp.join(root, 'images', split))
        for png in glob.glob(osp.join(src, 'images', split, '*.png')):
            Image.open(png).convert('RGB').save(osp.join(
                root, 'images', split,
                osp.basename(png).replace('.png', '.jpg')))


@pytest.fixture(scope='module')
def shipped_cwd(tmp_path_factory, demo_data):
    """A working directory holding the data where the configs look."""
    tmp = tmp_path_factory.mktemp('shipped')
    data = tmp / 'data'
    data.mkdir()
    os.symlink(demo_data, data / 'demo')
    _imagenet(str(data / 'imagenet'))
    _coco(str(data / 'coco'), tmp)
    _ade(str(data / 'ade' / 'ADEChallengeData2016'), tmp)
    return tmp


@pytest.mark.parametrize('name', list(TINY_CONFIGS))
def test_tiny_config_trains_as_shipped(name, shipped_cwd, monkeypatch):
    monkeypatch.chdir(shipped_cwd)
    runner = train_tool.main([TINY_CONFIGS[name], '--work-dir',
                              f'work_dirs/{name}'])
    cfg = Config.fromfile(TINY_CONFIGS[name])
    assert runner.iter == cfg.train_cfg.max_iters == 20
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert np.isfinite(loss)
    assert osp.isfile(shipped_cwd / 'work_dirs' / name / 'iter_20.pth')


def _teacher_for(cfg, cwd):
    """A random teacher of the config's shape, saved where it names one."""
    from mmpretrain.registry import MODELS
    teacher = cfg.model.get('target_generator')
    if not teacher or not teacher.get('checkpoint'):
        return
    path = osp.join(cwd, teacher.checkpoint)
    if not osp.exists(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
        model = MODELS.build(dict(teacher, checkpoint=None,
                                  random_init=True))
        torch.save(model.state_dict(), path)


def _sharded_config_builds(cfg):
    """A FlexibleRunner config: the runner, its training data (one sample
    through the pipeline), and the model, optimizer wrapper and schedules
    that its strategy shards when training starts (tests/
    test_sharded_train.py trains a tiny one sharded)."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import PARAM_SCHEDULERS
    from mim_plugins.apis import build_model_from_cfg
    from mim_plugins.engine.strategies import MIMFlexibleRunner
    assert cfg.runner_type == 'MIMFlexibleRunner'
    runner = train_tool.build_runner(cfg)
    assert isinstance(runner, MIMFlexibleRunner)
    loader = runner.build_dataloader(cfg.train_dataloader)
    assert loader.dataset[0]['inputs'] is not None
    model = build_model_from_cfg(cfg)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    in_optim = {id(p) for g in optim.optimizer.param_groups
                for p in g['params']}
    assert in_optim == {id(p) for p in model.parameters() if p.requires_grad}
    for s in cfg.param_scheduler:
        s = dict(s)
        s.pop('_scope_', None)
        PARAM_SCHEDULERS.build(s, default_args=dict(
            optimizer=optim, epoch_length=len(loader)))


@pytest.mark.parametrize('path', FULL_CONFIGS,
                         ids=[osp.relpath(p, ROOT) for p in FULL_CONFIGS])
def test_config_builds_its_training_objects(path, shipped_cwd, monkeypatch):
    monkeypatch.chdir(shipped_cwd)
    cfg = Config.fromfile(path)
    assert cfg.custom_imports.imports[0] == 'mim_plugins'
    assert cfg.custom_imports.allow_failed_imports is False
    cfg.work_dir = str(shipped_cwd / 'work_dirs' / osp.basename(path))
    train_tool.adapt_cfg_to_device(cfg)
    _teacher_for(cfg, shipped_cwd)
    if cfg.get('strategy'):  # sharded: built by the strategy in train()
        _sharded_config_builds(cfg)
        return
    assert cfg.runner_type == 'MIMRunner'
    runner = train_tool.build_runner(cfg)
    # what Runner.train builds before its first iteration
    runner._train_loop = runner.build_train_loop(runner._train_loop)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.scale_lr(runner.optim_wrapper, runner.auto_scale_lr)
    runner.param_schedulers = runner.build_param_scheduler(
        runner.param_schedulers)
    if runner._val_loop is not None:
        runner._val_loop = runner.build_val_loop(runner._val_loop)
        assert len(runner.val_dataloader.dataset) > 0
    dataset = runner.train_dataloader.dataset
    assert len(dataset) > 0
    sample = dataset[0]  # one sample through the whole training pipeline
    assert sample['inputs'] is not None
    assert runner.param_schedulers, 'no lr schedule'
    for name in ('checkpoint', 'divergence'):
        assert any(type(h).__name__ == {'checkpoint': 'SafeCheckpointHook',
                                        'divergence': 'DivergenceHook'}[name]
                   for h in runner.hooks), name

    if 'PRETRAINED' in cfg.text:  # the default checkpoint is not here
        from mim_plugins.engine.hooks import PretrainedCheckHook
        monkeypatch.delenv('PRETRAINED', raising=False)
        hook = next(h for h in runner.hooks
                    if isinstance(h, PretrainedCheckHook))
        with pytest.raises(FileNotFoundError, match='from the environment '
                           'variable PRETRAINED, which is not set, and its '
                           'default work_dirs/.* does not exist. Set it: '
                           'PRETRAINED=PATH python tools/train.py CONFIG'):
            hook.before_run(runner)

    model = runner.model
    in_optim = {id(p) for g in runner.optim_wrapper.optimizer.param_groups
                for p in g['params']}
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert in_optim == trainable  # a frozen teacher is never optimised
    if cfg.model.type == 'A2MIM':
        by_name = {id(p): n for n, p in model.named_parameters()}
        groups = {by_name[id(g['params'][0])]: g
                  for g in runner.optim_wrapper.optimizer.param_groups}
        assert groups['backbone.mask_token']['weight_decay'] == 0
        if 'ResNet' in cfg.model.backbone.type:
            base_lr = cfg.optim_wrapper.optimizer.lr
            # the lr before the schedules (built above) moved it
            assert groups['backbone.mask_token']['initial_lr'] == \
                pytest.approx(0.1 * base_lr)
