"""Test helper imported by the sharded-training test's configs
(custom_imports).

Two runs compared iteration by iteration must draw the same masks and crops
although their runners (Runner with DDP, FlexibleRunner with FSDP) consume
the random generators differently while they build: every rank reseeds all
of them with ``seed + rank`` just before training. Rank 0 then records, per
iteration, the loss the runner logged (the mean over the ranks) and the
gradient norm ``clip_grad`` logged, at full precision.

``CPUAutocastOptimWrapper`` runs the forward under CPU bf16 autocast.
"""
import json
import os.path as osp
from contextlib import contextmanager

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper
from mmengine.runner import set_random_seed

from mmpretrain.registry import HOOKS, OPTIM_WRAPPERS


@HOOKS.register_module()
class ShardedProbeHook(Hook):
    priority = 'VERY_HIGH'

    def __init__(self, seed: int = 0):
        self.seed = seed

    def before_train(self, runner) -> None:
        set_random_seed(self.seed + get_rank())

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if get_rank() != 0:
            return
        norm = runner.message_hub.get_scalar('train/grad_norm').current()
        record = dict(iter=runner.iter + 1, loss=float(outputs['loss']),
                      grad_norm=float(norm))
        with open(osp.join(runner.work_dir, 'probe.jsonl'), 'a') as f:
            f.write(json.dumps(record) + '\n')


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under CPU bf16 autocast: on the
    CPU, where mmengine's ``AmpOptimWrapper`` (CUDA only) cannot run, the
    dtype mix of ``AmpOptimWrapper(dtype='bfloat16')`` with FSDP's bf16
    ``MixedPrecision``."""

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=torch.bfloat16):
            yield
