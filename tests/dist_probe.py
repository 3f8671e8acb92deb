"""Test helper imported by the distributed test's config (custom_imports).

Each rank records, per iteration, the loss of its own batch computed just
before the training step (same weights and data), the loss that the runner
logged, the sample indices it trained on, and at the end a checksum of its
parameters.
"""
import json
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class DistProbeHook(Hook):
    priority = 'VERY_HIGH'

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        with torch.no_grad():
            data = model.data_preprocessor(data_batch, True)
            losses = model._run_forward(data, mode='loss')
        self._local = float(losses['loss'])
        self._samples = [int(s.sample_idx) for s in data_batch['data_samples']]

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self._write(runner, dict(iter=runner.iter, local=self._local,
                                 logged=float(outputs['loss']),
                                 samples=self._samples))

    def after_train(self, runner):
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        total = sum(p.detach().double().sum().item()
                    for p in model.parameters())
        self._write(runner, dict(params_checksum=total))

    @staticmethod
    def _write(runner, record):
        path = osp.join(runner.work_dir, f'probe_rank{get_rank()}.jsonl')
        with open(path, 'a') as f:
            f.write(json.dumps(record) + '\n')


@HOOKS.register_module()
class StallRankHook(Hook):
    """Rank ``rank`` stops responding (sleeps) before iteration ``at``, as a
    rank stuck in data loading or a deadlock would."""

    def __init__(self, rank: int, at: int):
        self.rank, self.at = rank, at

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        import time
        if get_rank() == self.rank and runner.iter + 1 == self.at:
            time.sleep(3600)
