"""``StepEMA`` averages as openmixup's ``EMAHook`` does, in a real Runner.

The reference is written here from openmixup's ``openmixup/core/hooks/
ema_hook.py``: the average starts as the weights before training
(``before_run``, lines 95-104); after data iteration ``i`` (from 0) with
``(i + 1) % update_interval == 0`` (``every_n_iters``), ``ema = M ema + (1 -
M) w`` (lines 111-123), where the old average's weight ``M`` is
``momentum (1 - (1 - i / warmup_iters) (1 - warmup_ratio))`` while ``i <=
warmup_iters`` (``get_warmup_momentum``, lines 76-85), else ``momentum``.
"""
import torch
import torch.nn as nn
from mmengine.hooks import EMAHook, Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner

from mim_plugins.engine import StepEMA


class Toy(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.fc(inputs)
        if mode == 'loss':
            return dict(loss=(out - 1).pow(2).mean())
        return out


class Record(Hook):
    """The weights before training and after every iteration."""
    priority = 'LOWEST'

    def __init__(self):
        self.weights = []

    def before_train(self, runner):
        self.weights.append(self._get(runner))

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.weights.append(self._get(runner))

    @staticmethod
    def _get(runner):
        return {k: v.detach().clone()
                for k, v in runner.model.named_parameters()}


def openmixup_ema(weights, momentum, interval, warmup_iters, warmup_ratio):
    """openmixup's average, from the weights before training (``weights[0]``)
    and after each iteration (``weights[i + 1]``); ``momentum`` is the
    weight of the old average (openmixup's convention)."""
    ema = {k: v.clone() for k, v in weights[0].items()}
    for i, w in enumerate(weights[1:]):
        if (i + 1) % interval:
            continue
        m = momentum
        if warmup_iters and i <= warmup_iters:
            m = momentum * (1 - (1 - i / warmup_iters) * (1 - warmup_ratio))
        for k in ema:
            ema[k] = m * ema[k] + (1 - m) * w[k]
    return ema


def train(tmp_path, ema_type, interval, iters=13, **ema):
    torch.manual_seed(0)
    data = [dict(inputs=torch.randn(4)) for _ in range(2 * iters)]
    record = Record()
    hook = EMAHook(ema_type=ema_type, interval=interval, **ema)
    runner = Runner(
        model=Toy(),
        work_dir=str(tmp_path / ema_type),
        train_dataloader=dict(
            dataset=data, batch_size=2, num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=False, max_iters=iters),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.1, momentum=0.9),
            accumulative_counts=interval),
        custom_hooks=[hook, record],
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=1000)),
        experiment_name=f'ema_{ema_type}_{interval}_{len(ema)}')
    runner.train()
    ours = dict(hook.ema_model.module.named_parameters())
    return ours, record.weights


def test_step_ema_equals_openmixup_with_accumulation_and_warmup(tmp_path):
    ours, weights = train(tmp_path, 'StepEMA', interval=2, momentum=0.3,
                          warmup_iters=6, warmup_ratio=0.5)
    ref = openmixup_ema(weights, momentum=0.7, interval=2, warmup_iters=6,
                        warmup_ratio=0.5)
    for k, v in ref.items():
        torch.testing.assert_close(ours[k], v, rtol=0, atol=1e-6)
    # the last optimizer step (iteration 11 of 0..12) is in the average
    assert not torch.allclose(ref['fc.weight'], openmixup_ema(
        weights[:-2], 0.7, 2, 6, 0.5)['fc.weight'])


def test_mmengine_interval_lags_and_the_check_can_fail(tmp_path):
    """mmengine's own ``interval`` averages one iteration after each step
    and leaves the last step out: the comparison above would fail."""
    ours, weights = train(tmp_path, 'ExponentialMovingAverage', interval=2,
                          momentum=0.3)
    ref = openmixup_ema(weights, momentum=0.7, interval=2, warmup_iters=0,
                        warmup_ratio=1.)
    assert (ours['fc.weight'] - ref['fc.weight']).abs().max() > 1e-3


def test_step_ema_without_accumulation_starts_after_the_first_step(
        tmp_path):
    """Every iteration averages; the average starts as the weights after
    the first iteration (mmengine's copy at step 0), where openmixup's
    starts before it: the reference from ``weights[1]`` is equal."""
    ours, weights = train(tmp_path, 'StepEMA', interval=1, momentum=0.2,
                          warmup_iters=4)
    ref = {k: v.clone() for k, v in weights[1].items()}
    for i, w in enumerate(weights[2:], start=1):
        m = 0.8 * (1 - (1 - i / 4) * 0.1) if i <= 4 else 0.8
        for k in ref:
            ref[k] = m * ref[k] + (1 - m) * w[k]
    for k, v in ref.items():
        torch.testing.assert_close(ours[k], v, rtol=0, atol=1e-6)


def test_momentum_warmup_values():
    ema = StepEMA(nn.Linear(2, 2), momentum=1e-4, warmup_iters=100,
                  warmup_ratio=0.9)
    keep = [1 - ema.momentum_at(i) for i in (0, 50, 100, 101)]
    assert abs(keep[0] - 0.9 * 0.9999) < 1e-12
    assert abs(keep[1] - 0.95 * 0.9999) < 1e-12
    assert keep[2] == keep[3] == 1 - 1e-4
