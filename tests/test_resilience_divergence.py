"""A diverging run never saves a diverged model: the divergence guard
stops it before the checkpoint of the jump (and ``--resume --lr-factor``
continues from the last good one), exploded weights or non-finite
statistics are refused by the checkpoint hook itself, and the guard is on
in every recipe. Each test runs a tiny shipped config with a real Runner."""
import glob
import json
import os.path as osp
import time

import pytest
import torch
from mmengine.hooks import Hook

from helpers import TINY_RESNET, TINY_VIT
from mim_plugins.engine.hooks import DivergenceError
from resilience_helpers import _cfg, _iters, _last, _Losses, _train, train_tool


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
