"""What the resilience tests share (``test_resilience_*.py``): the shipped
tiny configs on generated data, a real Runner built by ``tools/train.py``,
and what a run leaves in its work dir."""
import glob
import os
import os.path as osp

from mmengine.config import Config
from mmengine.hooks import Hook

from helpers import load_tool
from mim_plugins.engine import MIMRunner

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


def _log(work):
    logs = sorted(glob.glob(osp.join(work, '*', '*.log')),
                  key=os.path.getmtime)
    with open(logs[-1]) as f:
        return f.read()
