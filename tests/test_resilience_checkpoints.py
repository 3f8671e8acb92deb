"""Nothing written is lost when a run is cut short or its checkpoints go
bad: an interrupted run resumes exactly where it was, a damaged, deleted or
half-written checkpoint is passed over for the newest intact one (or named
in a clear error), and a full disk while saving keeps the previous
checkpoints. Each test reproduces the fault on a tiny shipped config with a
real Runner and checks what is left on disk and what the user is told."""
import errno
import os
import os.path as osp
import shutil
import subprocess

import pytest
from mmengine.fileio import LocalBackend
from mmengine.hooks import Hook

from helpers import TINY_RESNET, TINY_VIT
from mim_plugins.engine.checkpoint_files import damage
from resilience_helpers import (_cfg, _iters, _last, _log, _Losses, _train,
                                train_tool)


class _Killed(Exception):
    pass


class _KillAt(Hook):
    """Ends the run (as a kill would) before iteration ``at``."""

    def __init__(self, at):
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 == self.at:
            raise _Killed


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
