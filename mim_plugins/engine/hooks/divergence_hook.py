"""Stop a diverging run before a checkpoint can store it."""
import math
import statistics
import warnings
from collections import deque
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


class DivergenceError(FloatingPointError):
    """Training diverged; the last checkpoint written before it is intact."""


def resume_advice(runner) -> str:
    """What to do after a divergence: the last good checkpoint and a resume
    command whose lower learning rate takes effect."""
    fixes = ('gradient clipping (`--cfg-options '
             'optim_wrapper.clip_grad.max_norm=1.0`) or, under fp16 AMP, '
             'bf16 (`optim_wrapper.dtype=bfloat16`) or fp32')
    last = runner.message_hub.get_info('last_ckpt')
    if not last:
        return ('No checkpoint was written before this: start again with a '
                'lower learning rate (optim_wrapper.optimizer.lr), ' + fixes
                + '.')
    return (f'The last checkpoint, {last}, was written before this and is '
            f'intact. Resume from it with a lower learning rate: '
            f'`python tools/train.py CONFIG --resume --lr-factor 0.5` (or '
            f'`--cfg-options resume_lr_factor=0.5` with any train script; it '
            f'scales the resumed optimizer and its schedule, which '
            f'optim_wrapper.optimizer.lr cannot, as --resume restores them '
            f'from the checkpoint), or with ' + fixes + '.')


@HOOKS.register_module()
class DivergenceHook(Hook):
    """Raise :class:`DivergenceError` when the training loss or gradients
    show that the run diverged.

    Checked after every ``interval``-th iteration, before the checkpoint hook
    of the same iteration (priority 'ABOVE_NORMAL'), so a diverged state is
    never saved and the last checkpoint stays the last good one:

    - the loss is NaN or infinite;
    - the loss exceeds ``spike_factor`` times its median over the last
      ``window`` checked iterations (once ``min_history`` are known): the
      jump of a run that blows up, far above the noise of a healthy one;
    - the gradient norm logged by ``optim_wrapper.clip_grad`` is NaN or
      infinite (ignored under dynamic fp16 loss scaling, which skips such
      steps by design) or above ``max_grad_norm`` (if set).

    With several ranks the verdict is shared (one all-reduce of a flag per
    check), so every rank stops at the same iteration. :class:`MIMRunner`
    registers this hook by default (``default_hooks.divergence``; set it to
    ``None`` to turn it off).

    Args:
        interval (int): Check every ``interval`` iterations. Defaults to 1.
        spike_factor (float, optional): Loss jump that counts as divergence;
            ``None`` turns the check off. Defaults to 10.
        window (int): Iterations of the running median. Defaults to 50.
        min_history (int): Checked iterations before spikes are judged.
            Defaults to 1: a run that blows up in its first iterations (the
            usual way of a far too high lr) is caught at once, and no
            healthy loss jumps tenfold from one iteration to the next.
        max_grad_norm (float, optional): Gradient norm that counts as
            divergence. Defaults to None (only non-finite norms).
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 interval: int = 1,
                 spike_factor: Optional[float] = 10.,
                 window: int = 50,
                 min_history: int = 1,
                 max_grad_norm: Optional[float] = None) -> None:
        if spike_factor is not None and spike_factor <= 1:
            raise ValueError(
                f'DivergenceHook: spike_factor={spike_factor} would stop a '
                f'healthy run; use a factor above 1 (default 10) or None.')
        if min_history > window:
            raise ValueError(
                f'DivergenceHook: min_history={min_history} is more than the '
                f'window={window} it is counted in.')
        self.interval = interval
        self.spike_factor = spike_factor
        self.min_history = min_history
        self.max_grad_norm = max_grad_norm
        self.history = deque(maxlen=window)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if not self.every_n_train_iters(runner, self.interval):
            return
        reason = self._local_reason(runner, outputs)
        reasons = _shared(reason)
        if reasons:
            raise DivergenceError(
                f'Training diverged at iteration {runner.iter + 1} (work dir '
                f'{runner.work_dir}): {"; ".join(reasons)}. '
                + resume_advice(runner))

    def _local_reason(self, runner, outputs) -> Optional[str]:
        loss = (outputs or {}).get('loss')
        if loss is None:
            return None
        value = float(loss.detach() if hasattr(loss, 'detach') else loss)
        if not math.isfinite(value):
            return f'the training loss is {value}'
        if (self.spike_factor is not None
                and len(self.history) >= self.min_history):
            median = statistics.median(self.history)
            if median > 0 and value > self.spike_factor * median:
                return (f'the training loss jumped to {value:.4g}, '
                        f'{value / median:.1f}x its median {median:.4g} over '
                        f'the last {len(self.history)} checked iterations '
                        f'(spike_factor={self.spike_factor})')
        norm = _current_grad_norm(runner)
        if norm is not None:
            if not math.isfinite(norm) and not _dynamic_loss_scale(runner):
                return f'the gradient norm is {norm}'
            if self.max_grad_norm is not None and norm > self.max_grad_norm:
                return (f'the gradient norm {norm:.4g} is above '
                        f'max_grad_norm={self.max_grad_norm}')
        self.history.append(value)
        return None


def _current_grad_norm(runner) -> Optional[float]:
    """The gradient norm this iteration logged (with clip_grad), if any."""
    hub = runner.message_hub
    if 'train/grad_norm' not in hub.log_scalars:
        return None
    buffer = hub.get_scalar('train/grad_norm')
    if len(buffer.data[0]) == 0:
        return None
    # logged before the step of this iteration (OptimWrapper._clip_grad)
    return float(buffer.current())


def _dynamic_loss_scale(runner) -> bool:
    """AMP with a dynamic loss scale: a step with non-finite gradients is
    skipped and the scale lowered, as intended."""
    wrapper = runner.optim_wrapper
    return getattr(wrapper, 'loss_scaler', None) is not None and \
        getattr(wrapper, '_scale_update_param', 0) is None


def _shared(reason: Optional[str]) -> list:
    """Every rank's reason, on every rank (one all-reduce while all agree
    that nothing is wrong)."""
    import torch.distributed as dist
    if not (dist.is_available() and dist.is_initialized()) or \
            dist.get_world_size() == 1:
        return [reason] if reason else []
    from mmengine.dist import all_gather_object, get_comm_device
    device = get_comm_device(dist.group.WORLD)
    flag = torch.tensor([1 if reason else 0], device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    if not flag.item():
        return []
    return [f'rank {r}: {why}' for r, why in
            enumerate(all_gather_object(reason)) if why]


@HOOKS.register_module()
class StopOnInvalidLossHook(DivergenceHook):
    """The former name of :class:`DivergenceHook`, kept for configs that
    list it; :class:`MIMRunner` already registers the guard by default."""

    def __init__(self, interval: int = 1) -> None:
        warnings.warn(
            'StopOnInvalidLossHook is now DivergenceHook, which MIMRunner '
            'registers by default (default_hooks.divergence): remove it from '
            'custom_hooks.', DeprecationWarning)
        super().__init__(interval=interval)
