"""A cosine annealing that composes exactly with a warm-up, at any phase.

The official MIM recipes schedule with mmcv 1.x or timm, whose cosines are
closed-form functions of the iteration: mmcv's ``CosineAnnealing`` spans the
whole run and its linear warm-up *multiplies* it; openmixup's
``StepFixCosineAnnealing`` starts the cosine after the warm-up and evaluates
it at the negative phase during the warm-up; timm's ``CosineLRScheduler``
ramps linearly to the base lr and then follows a cosine that spans the whole
run. mmengine's ``CosineAnnealingLR`` restarts its cosine at its ``begin``
and composes with a concurrent scheduler only approximately (its recursion
acts on ``lr - eta_min``).
"""
import math

from mmengine.optim.scheduler.lr_scheduler import CosineAnnealingLR
from mmengine.optim.scheduler.param_scheduler import INF
from mmengine.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class CosineAnnealingFactorLR(CosineAnnealingLR):
    """Multiply the lr by ``c(t) / c(t - 1)`` at each step, with

    ``c(t) = eta_min + (base - eta_min) * (1 + cos(pi * t / T_max)) / 2``

    for each param group's base lr and ``t = steps since begin +
    phase_offset``; the first step multiplies by ``c(phase_offset) / base``.
    Alone, the lr is ``c(t)``; with a ``LinearLR`` warm-up over the same
    steps it is exactly ``warmup_factor(t) * c(t)`` (mmengine's chained
    schedulers multiply). Recipes:

    - mmcv ``CosineAnnealing`` + linear warm-up (``warmup_ratio`` r over W):
      ``LinearLR(start_factor=r, end=W)`` and this with ``begin=0,
      end=total``;
    - openmixup ``StepFixCosineAnnealing``: this with ``begin=0,
      end=total, phase_offset=-W`` (during the warm-up the cosine at the
      negative phase, as openmixup's) with the warm-up ``LinearLR``;
    - timm ``CosineLRScheduler`` (``warmup_prefix=False``): the warm-up
      ``LinearLR`` alone up to W, then this with ``begin=W, end=total,
      phase_offset=W``.

    ``eta_min`` is absolute for every group, as in mmcv and timm. With
    ``by_epoch=True`` and ``convert_to_iter_based=True``, ``T_max`` and
    ``phase_offset`` are converted to iterations with ``begin`` and ``end``.

    Args:
        optimizer (Optimizer or OptimWrapper): Wrapped optimizer.
        T_max (int): Length of the half cosine. Defaults to ``end - begin +
            phase_offset``: eta_min is reached at ``end``.
        eta_min (float): Final lr. Defaults to 0.
        phase_offset (int): Phase of the first step. Defaults to 0.
        **kwargs: ``begin``, ``end``, ``last_step``, ``by_epoch``,
            ``verbose`` as mmengine's ``CosineAnnealingLR``.
    """

    def __init__(self, optimizer, T_max=None, eta_min=0., phase_offset=0,
                 begin=0, end=INF, **kwargs):
        if kwargs.get('eta_min_ratio') is not None:
            raise ValueError(
                'CosineAnnealingFactorLR: eta_min_ratio is not supported; '
                'give eta_min, the final lr of every param group (as mmcv '
                'and timm do).')
        kwargs.pop('eta_min_ratio', None)
        self.phase_offset = phase_offset
        if T_max is None:  # the cosine reaches eta_min at `end`
            T_max = end - begin + phase_offset
        if end != INF and end - 1 - begin + phase_offset >= T_max:
            # at phase T_max a zero floor makes the factor 0, which cannot
            # carry the factors of the schedulers running beside this one
            raise ValueError(
                f'CosineAnnealingFactorLR: the last step of [{begin}, {end}) '
                f'is at phase {end - 1 - begin + phase_offset}, not before '
                f'T_max={T_max}: lengthen T_max (default: end - begin + '
                f'phase_offset, the cosine reaching eta_min at end) or '
                f'shorten the range.')
        super().__init__(optimizer, T_max=T_max, eta_min=eta_min,
                         begin=begin, end=end, **kwargs)

    @classmethod
    def build_iter_from_epoch(cls, *args, phase_offset=0, epoch_length=None,
                              **kwargs):
        return super().build_iter_from_epoch(
            *args, phase_offset=phase_offset * epoch_length,
            epoch_length=epoch_length, **kwargs)

    def _cosine(self, base: float, t: float) -> float:
        return self.eta_min + (base - self.eta_min) * (
            1 + math.cos(math.pi * t / self.T_max)) / 2

    def _get_value(self):
        t = self.last_step + self.phase_offset
        values = []
        for group, base in zip(self.optimizer.param_groups, self.base_values):
            now = self._cosine(base, t)
            before = base if self.last_step == 0 else self._cosine(base, t - 1)
            lr = group[self.param_name]
            values.append(lr * now / before)
        return values


__all__ = ['CosineAnnealingFactorLR']
