"""An EMA averaged once per optimizer step, with a momentum warm-up."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import ExponentialMovingAverage
from mmengine.registry import MODELS


@MODELS.register_module()
class StepEMA(ExponentialMovingAverage):
    """The EMA of openmixup's ``EMAHook`` (``openmixup/core/hooks/
    ema_hook.py``), for mmengine's ``EMAHook``.

    mmengine's ``EMAHook`` calls ``update_parameters`` after every
    iteration. Here data iteration ``i`` (from 0) averages only when it ends
    an optimizer step, ``(i + 1) % interval == 0``: set ``interval`` to the
    optim wrapper's ``accumulative_counts`` to average once per step, right
    after it, as openmixup's ``update_interval``. mmengine's own
    ``interval`` averages at ``i % interval == 0``, one iteration later,
    which leaves the last optimizer step of a run out of the average.

    During the first ``warmup_iters`` data iterations the weight of the old
    average rises linearly, as openmixup's ``warmup='linear'``: at
    iteration ``i <= warmup_iters`` it is ``(1 - momentum) * (1 - (1 - i /
    warmup_iters) * (1 - warmup_ratio))``.

    Args:
        model (nn.Module): The model to average.
        momentum (float): Weight of the new value (mmengine's convention;
            openmixup's ``momentum=0.9999`` is 1e-4 here).
        interval (int): Data iterations per optimizer step. Defaults to 1.
        warmup_iters (int): Data iterations of the momentum warm-up; 0 for
            none. Defaults to 0.
        warmup_ratio (float): The old average's weight at iteration 0, as a
            fraction of ``1 - momentum``. Defaults to 0.9.
        device (torch.device, optional): Where the average is kept.
        update_buffers (bool): Average the buffers too. Defaults to False.
    """

    def __init__(self,
                 model: nn.Module,
                 momentum: float = 2e-4,
                 interval: int = 1,
                 warmup_iters: int = 0,
                 warmup_ratio: float = 0.9,
                 device: Optional[torch.device] = None,
                 update_buffers: bool = False) -> None:
        super().__init__(model, momentum=momentum, interval=interval,
                         device=device, update_buffers=update_buffers)
        if warmup_iters < 0 or not 0 < warmup_ratio <= 1:
            raise ValueError(
                f'StepEMA: warmup_iters={warmup_iters} must be >= 0 and '
                f'warmup_ratio={warmup_ratio} in (0, 1].')
        self.warmup_iters = warmup_iters
        self.warmup_ratio = warmup_ratio

    def momentum_at(self, i: int) -> float:
        """Weight of the new value at data iteration ``i``."""
        if self.warmup_iters and i <= self.warmup_iters:
            keep = (1 - self.momentum) * (
                1 - (1 - i / self.warmup_iters) * (1 - self.warmup_ratio))
            return 1 - keep
        return self.momentum

    def update_parameters(self, model: nn.Module) -> None:
        i = int(self.steps)
        src = (model.state_dict()
               if self.update_buffers else dict(model.named_parameters()))
        if i == 0:
            for k, p_avg in self.avg_parameters.items():
                p_avg.data.copy_(src[k].data)
        elif (i + 1) % self.interval == 0:
            m = self.momentum_at(i)
            for k, p_avg in self.avg_parameters.items():
                if p_avg.dtype.is_floating_point:
                    p_avg.data.lerp_(src[k].data.to(p_avg.device), m)
        if not self.update_buffers:
            for b_avg, b_src in zip(self.module.buffers(), model.buffers()):
                b_avg.data.copy_(b_src.data.to(b_avg.device))
        self.steps += 1
