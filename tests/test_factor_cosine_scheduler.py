"""``CosineAnnealingFactorLR``, the cosine that several official schedules
need beside a warm-up: it multiplies the lr (so that a ``LinearLR`` warm-up
running at the same time composes with it exactly), keeps param groups
apart, converts its phase with the epochs, refuses a range it cannot
compose over, and resumes to the same lr."""
import math

import pytest
import torch
from mmengine.registry import PARAM_SCHEDULERS

import mim_plugins  # noqa: F401  registers CosineAnnealingFactorLR


def cos(base, floor, phase):
    return floor + (base - floor) * (1 + math.cos(math.pi * phase)) / 2


def test_factor_cosine_composes_exactly_and_keeps_groups_apart():
    """Two groups (lr and lr / 10) under a warm-up and the cosine at once:
    each is ``warmup(k) x cosine(k)`` with the same absolute floor."""
    opt = torch.optim.SGD([
        dict(params=[torch.nn.Parameter(torch.zeros(1))], lr=1.),
        dict(params=[torch.nn.Parameter(torch.zeros(1))], lr=.1)])
    warm = PARAM_SCHEDULERS.build(dict(
        type='LinearLR', start_factor=0.01, begin=0, end=10, by_epoch=False,
        optimizer=opt))
    cosine = PARAM_SCHEDULERS.build(dict(
        type='CosineAnnealingFactorLR', begin=0, end=100, eta_min=1e-3,
        by_epoch=False, optimizer=opt))
    for k in range(100):
        factor = 0.01 + 0.99 * k / 9 if k < 10 else 1.
        for group, base in zip(opt.param_groups, (1., .1)):
            expected = cos(base, 1e-3, k / 100) * factor
            assert abs(group['lr'] - expected) < 1e-12, (k, base)
        warm.step()
        cosine.step()


def test_factor_cosine_converts_its_phase_with_the_epochs():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.)
    s = PARAM_SCHEDULERS.build(
        dict(type='CosineAnnealingFactorLR', by_epoch=True, begin=20, end=100,
             phase_offset=20, convert_to_iter_based=True),
        default_args=dict(optimizer=opt, epoch_length=10))
    assert (s.begin, s.end, s.phase_offset, s.T_max) == (200, 1000, 200, 1000)


def test_factor_cosine_refuses_a_range_past_its_half_period():
    """Reaching phase T_max inside the range (a zero factor with eta_min 0)
    would lose the factors of a warm-up running beside it: refused."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.)
    with pytest.raises(ValueError, match='lengthen T_max'):
        PARAM_SCHEDULERS.build(dict(
            type='CosineAnnealingFactorLR', begin=0, end=10, T_max=6,
            by_epoch=False, optimizer=opt))
    with pytest.raises(ValueError, match='eta_min_ratio'):
        PARAM_SCHEDULERS.build(dict(
            type='CosineAnnealingFactorLR', begin=0, end=10,
            eta_min_ratio=0.1, by_epoch=False, optimizer=opt))


def test_factor_cosine_resumes_to_the_same_lr():
    """12 steps straight, or 6, a state_dict round trip and 6 more."""
    def make():
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.)
        warm = PARAM_SCHEDULERS.build(dict(
            type='LinearLR', start_factor=0.1, begin=0, end=4,
            by_epoch=False, optimizer=opt))
        cosine = PARAM_SCHEDULERS.build(dict(
            type='CosineAnnealingFactorLR', begin=0, end=12, eta_min=0.01,
            phase_offset=-4, by_epoch=False, optimizer=opt))
        return opt, [warm, cosine]

    opt, scheds = make()
    straight = []
    for _ in range(12):
        straight.append(opt.param_groups[0]['lr'])
        for s in scheds:
            s.step()
    opt, scheds = make()
    resumed = []
    for _ in range(6):
        resumed.append(opt.param_groups[0]['lr'])
        for s in scheds:
            s.step()
    states = [s.state_dict() for s in scheds]
    lr = opt.param_groups[0]['lr']
    opt, scheds = make()
    opt.param_groups[0]['lr'] = lr  # the optimizer's state is resumed too
    for s, state in zip(scheds, states):
        s.load_state_dict(state)
    for _ in range(6):
        resumed.append(opt.param_groups[0]['lr'])
        for s in scheds:
            s.step()
    assert resumed == pytest.approx(straight, rel=1e-12, abs=1e-15)
