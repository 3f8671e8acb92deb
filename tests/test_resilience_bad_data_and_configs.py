"""Bad data and wrong configs are named before or while training: an
unreadable image is named (or skipped and counted on request), a data set
filtered down to nothing says why, a ViT whose crop differs from its
img_size fails at build, and top-level keys that nothing reads are warned
about. Each test uses a tiny shipped config with a real Runner."""
import glob
import os.path as osp
import shutil

import pytest
from mmengine.config import Config

from helpers import TINY_RESNET, TINY_VIT
from mim_plugins.engine import MIMRunner
from resilience_helpers import _cfg, _log, _train, train_tool


@pytest.fixture
def own_data(demo_data, tmp_path):
    """A copy of the generated image folder, to damage."""
    root = tmp_path / 'data'
    shutil.copytree(demo_data, root)
    return root


def _an_image(root):
    return sorted(glob.glob(str(root / 'train' / '*' / '*.png')))[0]


@pytest.mark.parametrize('damage_kind,why', [
    ('empty', 'it is empty (0 bytes)'),
    ('truncated', 'it is not a readable image'),
    ('text', "it is not a readable image (13 bytes starting with "
             "b'not an i'"),
])
def test_unreadable_image_is_named(damage_kind, why, own_data, tmp_path):
    path = _an_image(own_data)
    if damage_kind == 'empty':
        open(path, 'w').close()
    elif damage_kind == 'truncated':
        with open(path, 'r+b') as f:
            f.truncate(100)
    else:
        with open(path, 'w') as f:
            f.write('not an image\n')
    cfg = _cfg(TINY_RESNET, str(own_data), tmp_path / 'work', iters=40)
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=False)
    with pytest.raises(Exception) as info:
        _train(cfg)
    message = str(info.value)
    assert f'cannot read the sample {path}: {why}' in message, message
    assert 'train_dataloader.skip_unreadable=True' in message
    assert not glob.glob(osp.join(tmp_path, 'work', '*.pth'))


def test_unreadable_images_can_be_skipped_with_a_count(own_data, tmp_path):
    bad = sorted(glob.glob(str(own_data / 'train' / '*' / '*.png')))[:2]
    for path in bad:
        open(path, 'w').close()
    cfg = _cfg(TINY_RESNET, str(own_data), tmp_path / 'work', iters=32)
    cfg.train_dataloader.skip_unreadable = True
    runner = _train(cfg)
    assert runner.iter == 32  # 64 images x 2 epochs: every one was read
    log = _log(tmp_path / 'work')
    for path in bad:
        assert f'Skipped an unreadable sample ({path}: it is empty' in log
    assert '2 skipped so far' in log


def _upstream(tmp_path, base):
    """The training data loader of an upstream data set config."""
    config = tmp_path / 'data_config.py'
    config.write_text(f"_base_ = '{base}'\n")
    return Config.fromfile(str(config)).train_dataloader


def test_coco_classes_that_match_nothing_are_explained(tmp_path):
    """The generated COCO set (shapes) under a config of COCO's 80
    classes: every image is filtered out; the error says so and why."""
    from mim_plugins.datasets.checks import EmptyDatasetError
    from mim_plugins.reproduce.synthetic import make_coco_instances
    root = make_coco_instances(str(tmp_path / 'coco'), num_train=4,
                               num_val=1, size=64)
    loader = _upstream(tmp_path, 'mmdet::_base_/datasets/coco_instance.py')
    loader.dataset.update(data_root=root + '/',
                          ann_file='annotations/instances_train.json',
                          data_prefix=dict(img='train/'))
    with pytest.raises(EmptyDatasetError) as info:
        MIMRunner.build_dataloader(loader.to_dict())
    message = str(info.value)
    assert 'is empty after filtering: all 4 samples were removed' in message
    assert "none of the config's 80 classes (person, bicycle, car, ...)" \
        in message
    assert 'circle' in message and 'metainfo=dict(classes=...)' in message


def test_ade_suffixes_that_match_nothing_are_explained(tmp_path):
    """ADE20K's config reads .jpg images; a set of .png images is empty,
    and the error says which suffix it looked for and what is there."""
    from mim_plugins.datasets.checks import EmptyDatasetError
    from mim_plugins.reproduce.synthetic import make_segmentation_folder
    root = make_segmentation_folder(str(tmp_path / 'ade'), num_train=3,
                                    num_val=1, size=32)
    loader = _upstream(tmp_path, 'mmseg::_base_/datasets/ade20k.py')
    loader.dataset.data_root = root
    with pytest.raises(EmptyDatasetError) as info:
        MIMRunner.build_dataloader(loader.to_dict())
    message = str(info.value)
    assert "no file in " in message and "ends with img_suffix='.jpg'" \
        in message
    assert 'holds 3 files (3 .png)' in message


def test_vit_crop_other_than_img_size_fails_at_build(demo_data, tmp_path):
    cfg = _cfg(TINY_VIT, demo_data, tmp_path)
    cfg.train_dataloader.dataset.pipeline[1].scale = 96
    with pytest.raises(ValueError, match=r'makes 96x96 images \(pipeline'
                       r'\[1\] RandomResizedCrop scale=96\) but '
                       r'model.backbone.img_size is 64'):
        train_tool.build_runner(cfg)


def test_vit_default_img_size_is_checked_too(demo_data, tmp_path):
    """No img_size in the config: the ViT's default (224) is the size."""
    cfg = _cfg(TINY_VIT, demo_data, tmp_path)
    cfg.model.backbone.pop('img_size')
    with pytest.raises(ValueError, match='makes 64x64 images .* '
                       r'model.backbone.img_size is not set: 224, the '
                       r'default of A2MIMViT'):
        train_tool.build_runner(cfg)


@pytest.mark.parametrize('key,hint', [
    ('optim_wraper', "did you mean 'optim_wrapper'"),
    ('trian_cfg', "did you mean 'train_cfg'"),
    ('lr_config', 'mmcv 1.x setting that nothing reads in OpenMMLab 2.x: '
                  'use param_scheduler'),
])
def test_top_level_keys_nothing_reads_are_warned_about(key, hint, demo_data,
                                                       tmp_path):
    cfg = _cfg(TINY_RESNET, demo_data, tmp_path, iters=1)
    cfg[key] = dict(max_iters=100)
    with pytest.warns(UserWarning, match=f"top-level key '{key}' .*{hint}"):
        train_tool.build_runner(cfg)
