"""Make GPU-first configs run on machines without one (CPU training, gloo)."""
import os
import warnings
from typing import Any

import torch
from mmengine.config import Config

_SYNC_BN = ('SyncBN', 'MMSyncBN', 'SyncBatchNorm')


def _revert_sync_bn(node: Any) -> int:
    """Replace SyncBN norm configs by BN in place; return how many."""
    count = 0
    if isinstance(node, dict):
        if node.get('type') in _SYNC_BN:
            node['type'] = 'BN'
            count += 1
        for value in node.values():
            count += _revert_sync_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            count += _revert_sync_bn(value)
    return count


def adapt_cfg_to_device(cfg: Config, launcher: str = 'none') -> Config:
    """Adapt ``cfg`` in place to a machine without CUDA; a no-op with CUDA.

    - SyncBN (CUDA-only) becomes BN.
    - ``AmpOptimWrapper`` (fp16/bf16 autocast with a CUDA grad scaler) becomes
      a plain ``OptimWrapper``: fp32 on CPU.
    - Distributed runs use the gloo backend, and DDP wraps CPU modules
      (``device_ids=None``); the process group is initialised here because
      mmengine's launcher selects a CUDA device first.

    Each change is reported with a warning, so nothing changes silently.
    """
    if torch.cuda.is_available():
        return cfg
    changes = []
    if _revert_sync_bn(cfg._cfg_dict):
        changes.append('SyncBN -> BN')
    optim = cfg.get('optim_wrapper')
    if optim is not None and optim.get('type') == 'AmpOptimWrapper':
        optim['type'] = 'OptimWrapper'
        for key in ('loss_scale', 'dtype', 'use_fsdp'):
            optim.pop(key, None)
        changes.append('AmpOptimWrapper -> OptimWrapper (fp32)')
    if launcher != 'none':
        env = cfg.setdefault('env_cfg', {})
        env.setdefault('dist_cfg', {})['backend'] = 'gloo'
        wrapper = cfg.get('model_wrapper_cfg') or dict(
            type='MMDistributedDataParallel', broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
        wrapper['device_ids'] = None
        cfg.model_wrapper_cfg = wrapper
        _init_cpu_process_group(env['dist_cfg'].get('timeout'))
        changes.append('distributed backend gloo on CPU')
    if changes:
        warnings.warn('No CUDA device: ' + '; '.join(changes) + '.')
    return cfg


def _init_cpu_process_group(timeout=None) -> None:
    """The gloo group, with ``env_cfg.dist_cfg.timeout`` seconds (default
    :data:`~mim_plugins.engine.runner.DEFAULT_DIST_TIMEOUT`) for a
    collective to complete."""
    import datetime

    import torch.distributed as dist

    from .runner import DEFAULT_DIST_TIMEOUT
    if dist.is_available() and not dist.is_initialized():
        dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']),
            timeout=datetime.timedelta(
                seconds=float(timeout or DEFAULT_DIST_TIMEOUT)))
