"""torch FSDP through mmengine's ``FSDPStrategy``: what it wraps, and
:class:`MIMFSDPStrategy`, what our runs need on top of it.

- ``vit_layer_wrap_policy`` / ``is_vit_layer`` (mmengine ``FUNCTIONS``): an
  FSDP unit and an activation checkpoint per transformer layer of
  mmpretrain's ViTs (``BEiTViT``, ``VisionTransformer`` and ours).
- :class:`MIMFSDPStrategy`: mmengine's ``FSDPStrategy`` that also shards on
  the CPU (gloo), clips gradients by the whole model's norm (mmengine's
  clips each shard by its own), starts every rank from rank 0's weights,
  resumes, and writes one full checkpoint.

The runner that trains through it, ``MIMFlexibleRunner``, and the config
checks are in :mod:`mim_plugins.engine.strategies`, which imports (and so
registers) this module.
"""
from functools import partial

import torch
import torch.nn as nn
from mmengine._strategy import FSDPStrategy
from mmengine.optim import OptimWrapper
from mmengine.registry import FUNCTIONS, STRATEGIES
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

from mmpretrain.models.backbones.vision_transformer import \
    TransformerEncoderLayer

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

