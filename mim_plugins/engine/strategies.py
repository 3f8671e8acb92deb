"""Sharded training with mmengine's own engine, its ``FlexibleRunner`` and
``FSDPStrategy`` (torch FSDP), and what our runs need on top of them.

- :class:`MIMFSDPStrategy`: mmengine's ``FSDPStrategy`` that also shards on
  the CPU (gloo), clips gradients by the whole model's norm (mmengine's
  clips each shard by its own), starts every rank from rank 0's weights,
  resumes, and writes one full checkpoint.
- :class:`MIMFlexibleRunner`: mmengine's ``FlexibleRunner`` with what of
  :class:`~mim_plugins.engine.MIMRunner` applies to it: the divergence
  guard, checkpoints written under a temporary name and never of a diverged
  model, resume from the newest intact checkpoint with every rank's random
  state, ``resume_lr_factor``, the data and config checks.
- ``vit_layer_wrap_policy`` / ``is_vit_layer`` (mmengine ``FUNCTIONS``): an
  FSDP unit and an activation checkpoint per transformer layer of
  mmpretrain's ViTs (``BEiTViT``, ``VisionTransformer`` and ours).
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
from functools import partial
from typing import Optional

import torch
import torch.nn as nn
from mmengine._strategy import FSDPStrategy
from mmengine.dist import barrier, is_main_process
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper
from mmengine.registry import FUNCTIONS, HOOKS, RUNNERS, STRATEGIES
from mmengine.runner import FlexibleRunner
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

from mmpretrain.models.backbones.vision_transformer import \
    TransformerEncoderLayer
from . import random_state
from .checkpoint_files import damage, partial_name
from .hooks import SafeCheckpointHook
from .hooks.divergence_hook import DivergenceError, _shared
from .runner import (MIMRunner, _is_timeout, _RunGuardHook, _stuck_ranks,
                     guarded_default_hooks, runner_cfg)

# --------------------------------------------------------------------------
# what FSDP wraps and checkpoints


@FUNCTIONS.register_module()
def is_vit_layer(module: nn.Module) -> bool:
    """A transformer layer of an mmpretrain ViT (``BEiTViT``'s
    ``BEiTTransformerEncoderLayer`` included): the unit of activation
    checkpointing (``activation_checkpointing=dict(check_fn=
    'is_vit_layer')``)."""
    return isinstance(module, TransformerEncoderLayer)


@FUNCTIONS.register_module()
def vit_layer_wrap_policy(module: nn.Module, recurse: bool,
                          nonwrapped_numel: int) -> bool:
    """FSDP auto-wrap policy (``model_wrapper=dict(auto_wrap_policy=
    'vit_layer_wrap_policy')``): an FSDP unit for each ViT layer, gathered
    just before its forward and backward and freed after, and one for a
    frozen CLIP teacher (MaskDistill), whose weights its algorithm leaves
    out of the state dict; the rest of the model in the root unit."""
    from ..models.target_generators import CLIPViTTeacher
    return recurse or is_vit_layer(module) or isinstance(
        module, CLIPViTTeacher)


# --------------------------------------------------------------------------
# the strategy


@STRATEGIES.register_module()
class MIMFSDPStrategy(FSDPStrategy):
    """mmengine's ``FSDPStrategy`` (same arguments) with these changes:

    - **CPU.** Without CUDA, FSDP shards on the CPU over gloo
      (``device_id=torch.device('cpu')``; mmengine passes the local rank,
      a CUDA device).
    - **Gradient clipping.** ``optim_wrapper.clip_grad`` (norm) clips by the
      norm of the whole model, computed across ranks with
      ``FullyShardedDataParallel.clip_grad_norm_``, as DDP does; mmengine's
      wrapper calls ``torch.nn.utils.clip_grad_norm_`` on each rank's shard,
      which scales every shard by a different factor.
    - **One initialisation.** Every rank starts from rank 0's initial
      weights, as DDP's first broadcast does (``sync_module_states=True``;
      with ``randomness.diff_rank_seed`` each rank would otherwise keep the
      shard of its own random init).
    - **Checkpoints.** ``state_dict_cfg='full'`` (the default, and the
      only one accepted): one file, gathered on rank 0, that the plain
      model and every downstream config load. mmengine's default,
      ``'local'``, writes a folder of per-rank ShardedTensors, which the
      safe loader (``weights_only``) refuses. Resuming restores the
      optimizer (mmengine's call passes its arguments in torch 2.0's
      order, which later torch rejects) and the optimizer wrapper's base
      lr and loss scale (mmengine's save drops them).

    ``MIMFlexibleRunner`` (and ``tools/train.py``) use it in place of
    ``FSDPStrategy``.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault('state_dict_cfg', 'full')
        super().__init__(**kwargs)
        if not self._is_full_state_dict():
            raise ValueError(
                f'MIMFSDPStrategy: state_dict_cfg={kwargs["state_dict_cfg"]!r}'
                f' writes per-rank shards (torch ShardedTensors), which the '
                f'safe checkpoint loader refuses when resuming and which no '
                f'downstream config reads: use state_dict_cfg=\'full\' (the '
                f'default).')
        if not torch.cuda.is_available():
            # offloading to the CPU it is already on, torch's FSDP keeps
            # views of the buffers it gathers into instead of copies; it
            # reuses the optimizer's for each state, so the saved exp_avg
            # would be exp_avg_sq. Without offloading it copies.
            for config in (self.state_dict_config,
                           self.optim_state_dict_config):
                if getattr(config, 'offload_to_cpu', False):
                    config.offload_to_cpu = False

    def _wrap_model(self, model: nn.Module) -> nn.Module:
        wrapper = dict(self.model_wrapper or {})
        wrapper.setdefault('type', 'MMFullyShardedDataParallel')
        if torch.cuda.is_available():
            wrapper.setdefault('sync_module_states', True)
        else:
            wrapper.setdefault('device_id', torch.device('cpu'))
            if wrapper.pop('sync_module_states', True):
                _broadcast_module_states(model)  # FSDP's needs CUDA
        self.model_wrapper = wrapper
        return super()._wrap_model(model)

    def optim_state_dict(self) -> dict:
        """The optimizer state in the layout of ``state_dict_cfg`` (full:
        by parameter name, on rank 0), plus the optimizer wrapper's own
        entries (the base lr it logs, AMP's loss scale). mmengine passes the
        wrapper itself to FSDP, whose extra param group (the base lr)
        FSDP then maps to model parameters."""
        state = FSDP.optim_state_dict(self.model, self.optim_wrapper.optimizer)
        state.update(_wrapper_extras(self.optim_wrapper))
        return state

    def load_optim_state_dict(self, state_dict: dict) -> None:
        """The resumed optimizer state, sharded as this rank's optimizer
        holds it."""
        state = dict(state_dict)
        extras = {k: state.pop(k) for k in _WRAPPER_KEYS if k in state}
        state = FSDP.optim_state_dict_to_load(
            model=self.model, optim=self.optim_wrapper.optimizer,
            optim_state_dict=state)
        state.update(extras)
        self.optim_wrapper.load_state_dict(state)

    def build_optim_wrapper(self, optim_wrapper, model=None):
        wrapper = super().build_optim_wrapper(optim_wrapper, model)
        model = model if model is not None else self.model
        if isinstance(wrapper, OptimWrapper) and wrapper.clip_grad_kwargs \
                and wrapper.clip_func is torch.nn.utils.clip_grad_norm_:
            wrapper.clip_func = partial(_clip_sharded_grad_norm, model)
        return wrapper


#: what an mmengine optimizer wrapper adds to its optimizer's state dict
_WRAPPER_KEYS = ('base_param_settings', 'loss_scaler')


def _wrapper_extras(wrapper) -> dict:
    extras = {}
    if getattr(wrapper, 'base_param_settings', None) is not None:
        extras['base_param_settings'] = wrapper.base_param_settings
    if getattr(wrapper, 'loss_scaler', None) is not None:
        extras['loss_scaler'] = wrapper.loss_scaler.state_dict()
    return extras


def _broadcast_module_states(model: nn.Module) -> None:
    """Rank 0's parameters and buffers on every rank (CPU tensors, gloo)."""
    import torch.distributed as dist
    if not (dist.is_available() and dist.is_initialized()):
        return
    with torch.no_grad():
        for tensor in list(model.parameters()) + list(model.buffers()):
            dist.broadcast(tensor.data, src=0)


def _clip_sharded_grad_norm(model, params, max_norm, norm_type=2., **kwargs):
    """``clip_grad_norm_`` for an FSDP model: the total norm over every
    rank's shard (``params`` are this rank's shards: all of them are
    clipped by ``model``'s root)."""
    for key in ('error_if_nonfinite', 'foreach'):
        kwargs.pop(key, None)
    if kwargs:
        raise TypeError(f'clip_grad arguments {sorted(kwargs)} are not '
                        f'supported under FSDP (max_norm, norm_type are).')
    return model.clip_grad_norm_(max_norm, norm_type)


# --------------------------------------------------------------------------
# the runner


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
