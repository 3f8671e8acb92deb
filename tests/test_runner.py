"""Real mmengine Runner: train, save, resume; CPU fallbacks; NaN guard."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from helpers import TINY_CONFIGS, TINY_RESNET, TINY_VIT, load_tool
train_tool = load_tool('train')


def _cfg(path, data, work_dir, iters=4, **options):
    cfg = Config.fromfile(path)
    cfg.train_dataloader.dataset.data_root = data
    cfg.train_dataloader.batch_size = 4
    cfg.train_cfg.max_iters = iters
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.5,
                                by_epoch=False, begin=0, end=iters)]
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.checkpoint.max_keep_ckpts = 5
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(options)
    return train_tool.adapt_cfg_to_device(cfg)


@pytest.mark.parametrize('name', list(TINY_CONFIGS))
def test_train_save_and_resume_to_the_same_state(name, demo_data, tmp_path):
    config = TINY_CONFIGS[name]
    cfg = _cfg(config, demo_data, tmp_path)
    runner = train_tool.build_runner(train_tool.adapt_cfg_to_device(cfg))
    runner.train()
    assert runner.iter == 4
    ckpt2 = osp.join(tmp_path, 'iter_2.pth')
    assert osp.exists(ckpt2) and osp.exists(osp.join(tmp_path, 'iter_4.pth'))
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert loss == loss and loss > 0

    saved = torch.load(ckpt2, map_location='cpu')  # safe (weights_only) load
    cfg2 = _cfg(config, demo_data, tmp_path / 'resumed', iters=4)
    cfg2.load_from, cfg2.resume = ckpt2, True
    runner2 = train_tool.build_runner(cfg2)
    runner2.load_or_resume()
    assert runner2.iter == 2
    for k, v in runner2.model.state_dict().items():
        torch.testing.assert_close(v, saved['state_dict'][k], msg=k)
    opt_state = runner2.optim_wrapper.state_dict()['state']
    for pid, st in saved['optimizer']['state'].items():
        torch.testing.assert_close(opt_state[pid]['exp_avg'], st['exp_avg'])
    assert runner2.param_schedulers[0].last_step == \
        saved['param_schedulers'][0]['last_step']
    runner2.train()
    assert runner2.iter == 4


def test_train_tool_cli_with_cfg_options(demo_data, tmp_path):
    runner = train_tool.main([
        TINY_VIT, '--work-dir', str(tmp_path), '--cfg-options',
        f'train_dataloader.dataset.data_root={demo_data}',
        'train_dataloader.batch_size=4', 'train_cfg.max_iters=2',
        'default_hooks.checkpoint.interval=2'])
    assert runner.iter == 2
    assert osp.exists(osp.join(tmp_path, 'iter_2.pth'))
    # --resume continues from the latest checkpoint in the work dir
    runner = train_tool.main([
        TINY_VIT, '--work-dir', str(tmp_path), '--resume', '--cfg-options',
        f'train_dataloader.dataset.data_root={demo_data}',
        'train_dataloader.batch_size=4', 'train_cfg.max_iters=3'])
    assert runner.iter == 3


def test_syncbn_and_amp_configs_train_on_cpu(demo_data, tmp_path):
    cfg = _cfg(TINY_RESNET, demo_data, tmp_path, iters=2)
    cfg.model.backbone.norm_cfg = dict(type='SyncBN')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'
    if torch.cuda.is_available():
        pytest.skip('the CPU fallback is a no-op with CUDA')
    with pytest.warns(UserWarning, match='SyncBN -> BN.*AmpOptimWrapper'):
        train_tool.adapt_cfg_to_device(cfg)
    assert cfg.model.backbone.norm_cfg.type == 'BN'
    runner = train_tool.build_runner(cfg)
    runner.train()
    assert runner.iter == 2


def test_non_finite_loss_stops_before_checkpointing(demo_data, tmp_path):
    cfg = _cfg(TINY_VIT, demo_data, tmp_path, iters=4)
    cfg.model.head.loss.loss_weight = float('nan')
    runner = train_tool.build_runner(cfg)
    with pytest.raises(FloatingPointError, match='diverged at iteration 1 .*'
                       'the training loss is nan. No checkpoint was written'):
        runner.train()
    assert runner.iter < 2
    assert not glob.glob(osp.join(tmp_path, 'iter_*.pth'))


def test_runs_of_one_config_in_one_second_keep_their_own_state(
        demo_data, tmp_path, monkeypatch):
    """mmengine names the logger, message hub and visualizer after the
    config and the second the Runner starts; two runs built by
    ``build_runner`` in that second still get their own, and each writes
    its scalars into its own work dir."""
    import json
    import time as real_time
    import types

    import mmengine.runner.runner as mm_runner
    frozen = types.SimpleNamespace(
        **{k: getattr(real_time, k) for k in dir(real_time)
           if not k.startswith('__')})
    frozen.strftime = lambda fmt, t=None: '20261128_000000'
    monkeypatch.setattr(mm_runner, 'time', frozen)
    runners = []
    for tag in ('a', 'b'):
        runner = train_tool.build_runner(
            _cfg(TINY_RESNET, demo_data, tmp_path / tag, iters=2))
        runner.train()
        runners.append(runner)
    a, b = runners
    assert a.message_hub is not b.message_hub
    assert a.visualizer is not b.visualizer
    for tag, runner in zip('ab', runners):
        scalars = glob.glob(str(tmp_path / tag / '*' / 'vis_data' /
                                'scalars.json'))
        assert len(scalars) == 1, tag
        with open(scalars[0]) as f:
            steps = [json.loads(line)['step'] for line in f]
        assert steps == [1, 2], (tag, steps)
        assert len(runner.message_hub.get_scalar('train/loss').data[0]) == 2
