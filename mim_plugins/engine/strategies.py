"""Sharded training with mmengine's own engine, its ``FlexibleRunner`` and
``FSDPStrategy`` (torch FSDP), and what our runs need on top of them.

- :class:`MIMFSDPStrategy`: mmengine's ``FSDPStrategy`` that also shards on
  the CPU (gloo), clips gradients by the whole model's norm, starts every
  rank from rank 0's weights, resumes, and writes one full checkpoint; and
  ``vit_layer_wrap_policy`` / ``is_vit_layer`` (mmengine ``FUNCTIONS``), an
  FSDP unit and an activation checkpoint per ViT layer. Both live in
  :mod:`mim_plugins.engine.fsdp_strategy`; importing this module imports
  (and so registers) them, and they stay importable from here.
- :class:`MIMFlexibleRunner`: mmengine's ``FlexibleRunner`` with what of
  :class:`~mim_plugins.engine.MIMRunner` applies to it: the divergence
  guard, checkpoints written under a temporary name and never of a diverged
  model, resume from the newest intact checkpoint with every rank's random
  state, ``resume_lr_factor``, the data and config checks.
- :func:`prepare_strategy_cfg`: the checks and CPU adaptations of
  ``tools/train.py``.

A config turns it on with (docs/usage.md, "Sharded training (FSDP)")::

    runner_type = 'MIMFlexibleRunner'
    strategy = dict(
        type='FSDPStrategy', state_dict_cfg='full',
        model_wrapper=dict(auto_wrap_policy='vit_layer_wrap_policy'),
        activation_checkpointing=dict(check_fn='is_vit_layer'))
"""
import copy
import os
import os.path as osp
import warnings
from typing import Optional

import torch
from mmengine.dist import barrier, is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS, RUNNERS
from mmengine.runner import FlexibleRunner

from . import random_state
from .checkpoint_files import damage, partial_name
from .fsdp_strategy import (MIMFSDPStrategy, is_vit_layer,  # noqa: F401
                            vit_layer_wrap_policy)
from .hooks import SafeCheckpointHook
from .hooks.divergence_hook import DivergenceError, _shared
from .runner import (MIMRunner, _is_timeout, _RunGuardHook, _stuck_ranks,
                     guarded_default_hooks, runner_cfg)

# --------------------------------------------------------------------------
# the config checks and the runner


#: hooks that run the bare model outside its forward pass or copy its
#: parameters: under FSDP they would see this rank's flat shards
UNSHARDED_HOOKS = ('KNNMonitorHook', 'ReconstructionVisHook', 'EMAHook')


def is_fsdp(strategy) -> bool:
    kind = strategy.get('type') if isinstance(strategy, dict) else None
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
    return name.split('.')[-1] in ('FSDPStrategy', 'MIMFSDPStrategy')


def use_mim_strategy(strategy):
    """The strategy config with mmengine's ``FSDPStrategy`` replaced by
    :class:`MIMFSDPStrategy` (same arguments); others as they are."""
    if is_fsdp(strategy):
        strategy = copy.copy(strategy)
        strategy['type'] = 'MIMFSDPStrategy'
    return strategy


def prepare_strategy_cfg(cfg, launcher: Optional[str] = None):
    """Check and adapt, in place, a config that trains through a
    ``strategy`` (no-op without one): its runner must be a
    ``FlexibleRunner`` (mmengine's ``Runner`` and ``MIMRunner`` ignore the
    key and would train with plain DDP), FSDP needs a launcher (a process
    group, even for one GPU; checked if ``launcher`` is given), hooks that
    cannot see a sharded model are refused, and ``FSDPStrategy`` becomes
    :class:`MIMFSDPStrategy`. Without CUDA, FSDP's bf16 ``mixed_precision``
    is dropped (with a warning) when the optimizer wrapper is mmengine's
    ``OptimWrapper`` or ``AmpOptimWrapper`` (which
    :func:`~mim_plugins.engine.adapt_cfg_to_device` turns into an fp32
    ``OptimWrapper``): bf16 weights without autocast meet the fp32 parts of
    our models."""
    strategy = cfg.get('strategy')
    if not strategy:
        return cfg
    runner = cfg.get('runner_type', 'MIMRunner')
    runner_cls = RUNNERS.get(runner) if isinstance(runner, str) else runner
    if not (isinstance(runner_cls, type)
            and issubclass(runner_cls, FlexibleRunner)):
        raise ValueError(
            f"The config sets strategy (type {strategy.get('type')!r}) but "
            f'runner_type={runner!r}, which ignores it and would train '
            f"with plain DDP: set runner_type = 'MIMFlexibleRunner' "
            f'(docs/usage.md, "Sharded training (FSDP)").')
    if not is_fsdp(strategy):
        return cfg
    if launcher == 'none':
        raise ValueError(
            'FSDPStrategy shards over a process group: start the run with '
            'tools/dist_train.sh CONFIG N (N=1 for one GPU) or '
            'tools/slurm_train.sh, or with --launcher pytorch|slurm.')
    hooks = [h.get('type') for h in cfg.get('custom_hooks') or []
             if isinstance(h, dict)]
    refused = sorted({h for h in hooks if isinstance(h, str)
                      and h.split('.')[-1] in UNSHARDED_HOOKS})
    if refused:
        raise ValueError(
            f'{", ".join(refused)} cannot run under FSDP: each rank holds '
            f'only its shard of the parameters outside the forward pass. '
            f'Remove them from custom_hooks, or train with DDP (no '
            f'strategy) when the model fits one GPU.')
    cfg.strategy = strategy = use_mim_strategy(strategy)
    wrapper = strategy.get('model_wrapper') or {}
    optim = (cfg.get('optim_wrapper') or {}).get('type', 'OptimWrapper')
    if not torch.cuda.is_available() and wrapper.get('mixed_precision') \
            and str(optim).split('.')[-1] in ('OptimWrapper',
                                              'AmpOptimWrapper'):
        wrapper.pop('mixed_precision')
        warnings.warn('No CUDA: FSDP mixed_precision off (fp32, as '
                      'AmpOptimWrapper).')
    return cfg


@HOOKS.register_module()
class ShardedSafeCheckpointHook(SafeCheckpointHook):
    """:class:`SafeCheckpointHook` for sharded models: each rank checks its
    own shard for divergence and the verdict is shared, so that every rank
    stops (or saves) together."""

    def _refuse_diverged(self, runner) -> None:
        try:
            super()._refuse_diverged(runner)
            reason = None
        except DivergenceError as e:
            reason = str(e)
        reasons = _shared(reason)
        if reasons:
            raise DivergenceError(' '.join(reasons))


@RUNNERS.register_module()
class MIMFlexibleRunner(FlexibleRunner):
    """mmengine's ``FlexibleRunner`` (``runner_type = 'MIMFlexibleRunner'``,
    training through a ``strategy``, e.g. FSDP) with the extras of
    :class:`~mim_plugins.engine.MIMRunner` that apply to it:

    - ``FSDPStrategy`` becomes :class:`MIMFSDPStrategy`, and hooks that
      cannot see a sharded model are refused (:func:`prepare_strategy_cfg`);
    - :class:`~mim_plugins.engine.hooks.DivergenceHook` is a default hook
      (``default_hooks.divergence``) and ``CheckpointHook`` becomes
      :class:`ShardedSafeCheckpointHook` (every rank's random state stored,
      no diverged model saved, old files deleted after the new one is
      written);
    - each checkpoint is written under a temporary name and renamed when
      complete;
    - ``resume=True`` takes the newest intact checkpoint; the random states
      are restored where the interrupted run had them; ``resume_lr_factor``
      scales the resumed learning rates;
    - data loaders take ``skip_unreadable`` and name failing samples; the
      config is checked at build; a timed-out collective names the ranks
      that stopped responding (``env_cfg.dist_cfg.timeout``).
    """

    build_dataloader = staticmethod(MIMRunner.build_dataloader)
    _newest_intact_checkpoint = MIMRunner._newest_intact_checkpoint
    _continue_random_states = MIMRunner._continue_random_states
    _scale_resumed_lr = MIMRunner._scale_resumed_lr

    def __init__(self, *args, **kwargs):
        self.resume_lr_factor = None
        self._resumed_random_states = None
        super().__init__(*args, **kwargs)

    @classmethod
    def from_cfg(cls, cfg) -> 'MIMFlexibleRunner':
        cfg, factor = runner_cfg(cfg)
        prepare_strategy_cfg(cfg)
        runner = super().from_cfg(cfg)
        runner.resume_lr_factor = factor
        return runner

    def register_default_hooks(self, hooks=None) -> None:
        super().register_default_hooks(guarded_default_hooks(
            hooks, 'ShardedSafeCheckpointHook',
            ('CheckpointHook', 'mmengine.CheckpointHook',
             'SafeCheckpointHook')))
        self.register_hook(_RunGuardHook())
        self.register_hook(_ResumedRandomStates())

    def save_checkpoint(self, out_dir, filename, file_client_args=None,
                        save_optimizer=True, save_param_scheduler=True,
                        meta=None, by_epoch=True, backend_args=None):
        """``FlexibleRunner.save_checkpoint`` (every rank takes part in
        gathering the state), written under a temporary name that rank 0
        renames when every rank is done (local folders)."""
        meta = dict(meta or {})
        meta.setdefault('random_states', [random_state.capture()])
        if file_client_args is not None or backend_args is not None \
                or '://' in str(out_dir):
            return super().save_checkpoint(
                out_dir, filename, file_client_args, save_optimizer,
                save_param_scheduler, meta, by_epoch, backend_args)
        final = osp.join(out_dir, filename)
        partial = partial_name(final)
        super().save_checkpoint(out_dir, osp.basename(partial), None,
                                save_optimizer, save_param_scheduler, meta,
                                by_epoch, None)
        barrier()
        if is_main_process():
            os.replace(partial, final)
        barrier()

    def load_or_resume(self) -> None:
        """mmengine's, resuming from the newest *intact* checkpoint, with
        the random states and ``resume_lr_factor`` of MIMRunner."""
        if self._has_loaded:
            return None
        resuming = bool(self._resume)
        if self._resume is True and self._load_from is None:
            self._load_from = self._newest_intact_checkpoint()
            if self._load_from is None:
                self._resume = False
        elif self._resume and self._load_from is not None:
            why = damage(self._load_from) if '://' not in str(
                self._load_from) else None
            if why is not None:
                raise FileNotFoundError(
                    f'Cannot resume from {self._load_from}: {why}.')
        super().load_or_resume()
        if resuming and self._has_loaded:
            self._continue_random_states()
            if self.resume_lr_factor is not None:
                self._scale_resumed_lr(self.resume_lr_factor)

    def train(self):
        try:
            return super().train()
        except RuntimeError as e:
            if self.distributed and _is_timeout(e):
                raise RuntimeError(_stuck_ranks(self, e)) from e
            raise


class _ResumedRandomStates(Hook):
    """Keeps the random states of the checkpoint being resumed for
    :meth:`MIMFlexibleRunner._continue_random_states`."""

    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint) -> None:
        runner._resumed_random_states = (checkpoint.get('meta')
                                         or {}).get('random_states')
