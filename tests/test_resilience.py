"""Nothing written is lost when training goes wrong: each test reproduces a
fault on a tiny shipped config with a real Runner (a crash or a full disk
while saving, a damaged or deleted checkpoint, a diverging run, an
interrupted run resumed, a stalled DDP rank) and checks what is left on
disk and what the user is told."""
import errno
import glob
import json
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config
from mmengine.fileio import LocalBackend
from mmengine.hooks import Hook

from helpers import ROOT, TINY_RESNET, TINY_VIT, load_tool
from mim_plugins.engine import MIMRunner
from mim_plugins.engine.checkpoint_files import damage
from mim_plugins.engine.hooks import DivergenceError

train_tool = load_tool('train')


def _cfg(path, data, work_dir, iters=6, interval=2, keep=2, **options):
    """The shipped tiny config on ``data``, ``iters`` iterations with a
    checkpoint every ``interval`` (the last ``keep`` kept)."""
    cfg = Config.fromfile(path)
    cfg.train_dataloader.dataset.data_root = data
    cfg.train_dataloader.batch_size = 4
    cfg.train_cfg.max_iters = iters
    cfg.default_hooks.checkpoint.update(interval=interval,
                                        max_keep_ckpts=keep)
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(options)
    return train_tool.adapt_cfg_to_device(cfg)


class _Losses(Hook):
    """Records the loss of every iteration, by iteration number."""

    def __init__(self):
        self.losses = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.losses[runner.iter + 1] = float(outputs['loss'])


class _Killed(Exception):
    pass


class _KillAt(Hook):
    """Ends the run (as a kill would) before iteration ``at``."""

    def __init__(self, at):
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 == self.at:
            raise _Killed


def _train(cfg, *hooks):
    runner = train_tool.build_runner(cfg)
    assert isinstance(runner, MIMRunner)
    for hook in hooks:
        runner.register_hook(hook)
    runner.train()
    return runner


def _last(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def _iters(work_dir):
    return sorted(int(osp.basename(p)[5:-4])
                  for p in glob.glob(osp.join(work_dir, 'iter_*.pth')))


def _no_partial_files(work_dir):
    return not [n for n in os.listdir(work_dir) if n.endswith('.partial')]


# -- exact resume ------------------------------------------------------------


@pytest.mark.parametrize('config,options', [
    (TINY_RESNET, {}),
    (TINY_VIT, {'model.backbone.drop_path_rate': 0.1}),
], ids=['resnet', 'vit-drop-path'])
def test_resumed_run_equals_the_uninterrupted_one(config, options,
                                                  demo_data, tmp_path):
    """Killed after iteration 3 and resumed from ``iter_3``: iterations 4-6
    have the losses of the run that was never interrupted, bit for bit (drop
    path, masks, crops and data order continue where they were)."""
    whole = _Losses()
    _train(_cfg(config, demo_data, tmp_path / 'whole', interval=3,
                **options), whole)
    with pytest.raises(_Killed):
        _train(_cfg(config, demo_data, tmp_path / 'cut', interval=3,
                    **options), _KillAt(4))
    resumed = _Losses()
    _train(_cfg(config, demo_data, tmp_path / 'cut', interval=3, resume=True,
                **options), resumed)
    assert sorted(resumed.losses) == [4, 5, 6]
    for it in (4, 5, 6):
        assert resumed.losses[it] == whole.losses[it], (it, resumed.losses,
                                                        whole.losses)


# -- damaged, deleted and half-written checkpoints ---------------------------


@pytest.fixture
def trained(demo_data, tmp_path):
    """A finished 6-iteration run keeping iter_4 and iter_6."""
    work = tmp_path / 'work'
    _train(_cfg(TINY_RESNET, demo_data, work))
    assert _iters(work) == [4, 6] and _last(work).endswith('iter_6.pth')
    return work


def _resume(demo_data, work, iters=8, **kw):
    cfg = _cfg(TINY_RESNET, demo_data, work, iters=iters, resume=True, **kw)
    runner = train_tool.build_runner(cfg)
    runner.load_or_resume()
    return runner


def _log(work):
    logs = sorted(glob.glob(osp.join(work, '*', '*.log')),
                  key=os.path.getmtime)
    with open(logs[-1]) as f:
        return f.read()


def test_truncated_newest_checkpoint_falls_back_with_a_warning(
        trained, demo_data):
    newest = osp.join(trained, 'iter_6.pth')
    with open(newest, 'r+b') as f:  # what a crash while writing leaves
        f.truncate(osp.getsize(newest) // 2)
    runner = _resume(demo_data, trained)
    assert runner.iter == 4
    log = _log(trained)
    assert f'Not resuming from {newest}: it is truncated or damaged' in log
    assert 'Resuming from the older ' + osp.join(trained, 'iter_4.pth') in log
    runner.train()
    assert runner.iter == 8 and damage(osp.join(trained, 'iter_8.pth')) is None


def test_deleted_newest_checkpoint_falls_back(trained, demo_data):
    os.remove(osp.join(trained, 'iter_6.pth'))  # last_checkpoint names it
    runner = _resume(demo_data, trained)
    assert runner.iter == 4
    assert 'iter_6.pth: it does not exist' in _log(trained)


def test_no_intact_checkpoint_is_a_clear_error(trained, demo_data):
    for it in (4, 6):
        open(osp.join(trained, f'iter_{it}.pth'), 'w').close()
    with pytest.raises(FileNotFoundError,
                       match='No intact checkpoint to resume from.*'
                             'iter_4.pth: it is empty'):
        _resume(demo_data, trained)
    # a damaged checkpoint named explicitly is not silently replaced
    with pytest.raises(FileNotFoundError,
                       match='Cannot resume from .*iter_6.pth: it is empty'):
        _resume(demo_data, trained, load_from=osp.join(trained,
                                                       'iter_6.pth'))


def _full_disk_after(monkeypatch, nbytes):
    """Local writes fail with ENOSPC after ``nbytes`` bytes, leaving the
    bytes written so far in the file, as a full disk does."""

    def put(self, obj, filepath):
        with open(filepath, 'wb') as f:
            f.write(obj[:nbytes])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), filepath)

    monkeypatch.setattr(LocalBackend, 'put', put)


def test_full_disk_while_saving_keeps_the_previous_checkpoints(
        trained, demo_data, monkeypatch):
    before = {n: os.stat(osp.join(trained, f'iter_{n}.pth')).st_mtime_ns
              for n in (4, 6)}
    cfg = _cfg(TINY_RESNET, demo_data, trained, iters=8, resume=True)
    runner = train_tool.build_runner(cfg)
    _full_disk_after(monkeypatch, 10_000)
    with pytest.raises(OSError, match='Could not write the checkpoint .*'
                       'iter_8.pth .*No space left.*Nothing was replaced'):
        runner.train()
    # max_keep_ckpts=2: iter_4 would have been deleted first by mmengine
    assert _iters(trained) == [4, 6] and _no_partial_files(trained)
    assert {n: os.stat(osp.join(trained, f'iter_{n}.pth')).st_mtime_ns
            for n in (4, 6)} == before
    assert _last(trained).endswith('iter_6.pth')
    monkeypatch.undo()  # space freed: the same command goes on
    runner = _train(_cfg(TINY_RESNET, demo_data, trained, iters=8,
                         resume=True))
    assert runner.iter == 8 and _iters(trained) == [6, 8]


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 20 MiB tmpfs (needs root or CAP_SYS_ADMIN; skipped otherwise)."""
    mount = tmp_path / 'tmpfs'
    mount.mkdir()
    if shutil.which('mount') is None or subprocess.run(
            ['mount', '-t', 'tmpfs', '-o', 'size=20m', 'tmpfs',
             str(mount)], capture_output=True).returncode != 0:
        pytest.skip('cannot mount a tmpfs here (not root)')
    yield mount
    subprocess.run(['umount', '-l', str(mount)], check=False)


def test_real_full_disk_keeps_the_previous_checkpoint(small_tmpfs, demo_data,
                                                      tmp_path):
    """A real file system that fills up: the second checkpoint does not
    fit beside the first (the tiny ResNet's is 13 MB with its Adam state),
    the first survives whole and the run resumes from it once there is
    room."""
    work = small_tmpfs / 'work'
    cfg = _cfg(TINY_RESNET, demo_data, work, iters=4, keep=1,
               log_level='WARNING')
    cfg.visualizer.vis_backends = []  # only the checkpoints on the tmpfs
    with pytest.raises(OSError, match='iter_4.pth .*No space left'):
        _train(cfg)
    assert _iters(work) == [2] and damage(osp.join(work, 'iter_2.pth')) \
        is None
    assert _no_partial_files(work) and _last(work).endswith('iter_2.pth')
    moved = tmp_path / 'moved'  # a disk with room: same files
    shutil.copytree(work, moved)
    cfg = _cfg(TINY_RESNET, demo_data, moved, iters=4, keep=1,
               resume=True, load_from=str(moved / 'iter_2.pth'))
    assert _train(cfg).iter == 4


# -- divergence --------------------------------------------------------------


def test_divergence_stops_before_saving_and_resumes_with_a_lower_lr(
        demo_data, tmp_path):
    """The lr is multiplied by 1e4 after iteration 4: the run stops at the
    loss jump of iteration 6, before that iteration's checkpoint can store
    it; ``--resume --lr-factor 1e-4`` then continues from iter_4 at the lr
    before the jump, and finishes."""
    lr = 2e-3
    schedule = [dict(type='MultiStepLR', by_epoch=False, milestones=[4],
                     gamma=1e4)]
    work = tmp_path / 'work'
    cfg = _cfg(TINY_VIT, demo_data, work, iters=10,
               **{'optim_wrapper.optimizer.lr': lr})
    cfg.param_scheduler = schedule
    losses = _Losses()
    with pytest.raises(DivergenceError) as info:
        _train(cfg, losses)
    message = str(info.value)
    assert max(losses.losses) == 5, losses.losses
    assert 'Training diverged at iteration 6' in message
    assert 'the training loss jumped to' in message
    assert osp.join(str(work), 'iter_4.pth') in message
    assert 'tools/train.py CONFIG --resume --lr-factor' in message
    assert _iters(work) == [2, 4] and _last(work).endswith('iter_4.pth')

    # mmengine names a run's log folder after the second it starts: the
    # resumed run must not share the diverged run's scalars.json
    time.sleep(1.1)
    config = tmp_path / 'diverging.py'
    config.write_text(f"_base_ = '{TINY_VIT}'\nparam_scheduler = "
                      f"{schedule!r}\n")
    runner = train_tool.main([
        str(config), '--work-dir', str(work), '--resume', '--lr-factor',
        '1e-4', '--cfg-options',
        f'train_dataloader.dataset.data_root={demo_data}',
        'train_dataloader.batch_size=4', 'train_cfg.max_iters=10',
        f'optim_wrapper.optimizer.lr={lr}', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=2'])
    assert runner.iter == 10
    scalars = glob.glob(osp.join(work, runner.timestamp, 'vis_data',
                                 'scalars.json'))
    with open(scalars[0]) as f:
        logged = {r['step']: r['lr'] for r in map(json.loads, f)
                  if 'lr' in r}
    # iterations 5-10 at 2e-3 x 1e4 (the resumed schedule) x 1e-4, not 20
    assert sorted(logged) == list(range(5, 11))
    assert list(logged.values()) == pytest.approx([lr] * 6, rel=1e-6)


class _Explode(Hook):
    """Blows the decoder's last weight up to a finite 1e31 after iteration
    ``at``, as a run that diverges without a non-finite loss can."""

    def __init__(self, at):
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.at:
            model = getattr(runner.model, 'module', runner.model)
            with torch.no_grad():
                list(model.parameters())[-1].mul_(0).add_(1e31)


def test_exploded_weights_are_never_saved(demo_data, tmp_path):
    work = tmp_path / 'work'
    cfg = _cfg(TINY_RESNET, demo_data, work, iters=6)
    cfg.default_hooks.divergence = None  # only the checkpoint's own guard
    with pytest.raises(DivergenceError, match='Not saving the checkpoint of '
                       r'iteration 4: .*neck.*\|w\| = 1e\+31.*iter_2.pth'):
        _train(cfg, _Explode(3))
    assert _iters(work) == [2] and _last(work).endswith('iter_2.pth')


def test_non_finite_statistics_are_never_saved(demo_data, tmp_path):
    """BN statistics that went non-finite (with finite weights): not saved
    either."""
    work = tmp_path / 'work'
    cfg = _cfg(TINY_RESNET, demo_data, work, iters=6)
    cfg.default_hooks.divergence = None

    class _InfiniteStatistics(_Explode):
        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            if runner.iter + 1 == self.at:
                with torch.no_grad():
                    runner.model.backbone.bn1.running_var.fill_(
                        float('inf'))

    with pytest.raises(DivergenceError, match='iteration 4: .*its buffer '
                       r'backbone\..*running_(mean|var) holds non-finite'):
        _train(cfg, _InfiniteStatistics(3))
    assert _iters(work) == [2]


def test_divergence_check_is_on_in_every_recipe_and_can_be_tuned(
        demo_data, tmp_path):
    from mim_plugins.engine.hooks import DivergenceHook, SafeCheckpointHook
    runner = train_tool.build_runner(_cfg(TINY_VIT, demo_data, tmp_path))
    kinds = {type(h) for h in runner.hooks}
    assert DivergenceHook in kinds and SafeCheckpointHook in kinds
    cfg = _cfg(TINY_VIT, demo_data, tmp_path / 'b')
    cfg.default_hooks.divergence = dict(spike_factor=4, max_grad_norm=100.)
    hook = next(h for h in train_tool.build_runner(cfg).hooks
                if isinstance(h, DivergenceHook))
    assert (hook.spike_factor, hook.max_grad_norm) == (4, 100.)


# -- a stalled rank ----------------------------------------------------------


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_stalled_ddp_rank_is_named_within_the_timeout(demo_data, tmp_path):
    """Rank 1 stops responding before iteration 3; with a 10 s process
    group timeout, the job ends in well under a minute, naming rank 1 and
    the last iteration it finished; iter_2 is intact."""
    env = dict(os.environ, PORT=str(_free_port()), CUDA_VISIBLE_DEVICES='',
               PYTHON=sys.executable, OMP_NUM_THREADS='1',
               PYTHONPATH=osp.join(ROOT, 'tests'))
    config = tmp_path / 'stall.py'
    config.write_text(
        f"_base_ = '{TINY_VIT}'\n"
        "custom_imports = dict(imports=['mim_plugins', 'dist_probe'], "
        "allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='StallRankHook', rank=1, at=3)]\n"
        "env_cfg = dict(dist_cfg=dict(backend='gloo', timeout=10))\n")
    cmd = ['bash', osp.join(ROOT, 'tools/dist_train.sh'), str(config), '2',
           '--work-dir', str(tmp_path), '--cfg-options',
           f'train_dataloader.dataset.data_root={demo_data}',
           'train_dataloader.batch_size=4', 'train_cfg.max_iters=4',
           'default_hooks.checkpoint.interval=2']
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert 'Stopped responding: rank(s) [1]' in out, out[-3000:]
    assert 'rank 1 last finished iteration 2' in out
    assert 'env_cfg.dist_cfg.timeout' in out
    assert damage(osp.join(tmp_path, 'iter_2.pth')) is None


# -- bad data and wrong configs ----------------------------------------------


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
