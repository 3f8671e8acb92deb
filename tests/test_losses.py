"""Loss values and gradients against formulas computed here, independently."""
import numpy as np
import pytest
import torch

from mmpretrain.registry import MODELS

from helpers import VIT_HEAD

R50_HEAD = dict(
    type='A2MIMHead',
    loss=dict(type='RegressionLoss', mode='focal_l1_loss', loss_weight=1.0,
              reduction='none', activate='sigmoid', alpha=0.2, gamma=1.0,
              residual=False),
    unmask_weight=0., fft_weight=0.5, fft_focal=True, fft_unmask_weight=1e-3,
    fft_unmask_replace='mixed', fft_reweight=False, encoder_in_channels=3)


def _inputs(seed=0, B=3, H=64, grid=4):
    g = torch.Generator().manual_seed(seed)
    target = torch.randn(B, 3, H, H, generator=g)
    pred = torch.randn(B, 3, H, H, generator=g)
    mask = (torch.rand(B, grid, grid, generator=g) > 0.4).long()
    return pred, target, mask


def np_focal_frequency(pred, target):
    """FFL with alpha 1, batch-averaged spectrum, log matrix, batch max."""
    fp = np.fft.fft2(pred, axes=(2, 3), norm='ortho').mean(0)
    ft = np.fft.fft2(target, axes=(2, 3), norm='ortho').mean(0)
    dist2 = np.abs(fp - ft)**2
    w = np.log(np.sqrt(dist2) + 1.0)
    w = np.clip(np.nan_to_num(w / w.max()), 0, 1)
    return (w * dist2).mean()


def np_a2mim(pred, target, mask, focal, fft_weight, fft_unmask_weight):
    """A2MIM loss from METHODS.md, in numpy float64."""
    s = target.shape[-1] // mask.shape[-1]
    M = np.kron(mask, np.ones((s, s)))[:, None]
    d = np.abs(pred - target)
    ell = d * (2 / (1 + np.exp(-0.2 * d)) - 1) if focal else d
    spatial = (ell * M).sum() / (M.sum() + 1e-5) / 3
    Mf = M + (1 - M) * fft_unmask_weight
    rep = 0.5 * pred + 0.5 * target
    freq = np_focal_frequency(pred * Mf + rep * (1 - Mf), target)
    return spatial + fft_weight * freq


@pytest.mark.parametrize('mode', ['l1_loss', 'mse_loss', 'focal_l1_loss',
                                  'focal_mse_loss'])
@pytest.mark.parametrize('activate', ['sigmoid', 'tanh'])
def test_regression_loss_modes(mode, activate):
    pred, target, _ = _inputs()
    loss = MODELS.build(dict(type='RegressionLoss', mode=mode, alpha=0.3,
                             gamma=2.0, activate=activate, residual=True,
                             loss_weight=2.0))
    d = (pred - target).abs().double()
    plain = d if 'l1' in mode else d**2
    act = torch.tanh(0.3 * d) if activate == 'tanh' else \
        2 * torch.sigmoid(0.3 * d) - 1
    expected = plain * act**2 + plain if 'focal' in mode else plain
    out = loss(pred, target, reduction_override='none')
    torch.testing.assert_close(out.double(), 2.0 * expected, rtol=1e-5,
                               atol=1e-6)
    assert torch.isclose(loss(pred, target), 2.0 * expected.mean().float(),
                         rtol=1e-5)


def test_regression_loss_rejects_unknown_mode():
    with pytest.raises(ValueError, match='mode'):
        MODELS.build(dict(type='RegressionLoss', mode='kl_loss'))


def test_focal_frequency_loss_matches_numpy():
    pred, target, _ = _inputs(1)
    ffl = MODELS.build(dict(type='FocalFrequencyLoss', alpha=1.0,
                            ave_spectrum=True, log_matrix=True,
                            batch_matrix=True))
    expected = np_focal_frequency(pred.double().numpy(),
                                  target.double().numpy())
    assert ffl(pred, target).item() == pytest.approx(expected, rel=1e-5)


def test_focal_frequency_loss_is_zero_for_perfect_prediction():
    _, target, _ = _inputs(2)
    ffl = MODELS.build(dict(type='FocalFrequencyLoss', ave_spectrum=True,
                            log_matrix=True, batch_matrix=True))
    out = ffl(target.clone(), target)
    assert torch.isfinite(out) and out.item() == 0.0


@pytest.mark.parametrize('cfg,focal', [(R50_HEAD, True), (VIT_HEAD, False)])
def test_a2mim_head_value_and_gradient(cfg, focal):
    pred, target, mask = _inputs(3)
    head = MODELS.build(cfg)
    p = pred.clone().requires_grad_()
    out = head.loss(p, target, mask)
    expected = np_a2mim(pred.double().numpy(), target.double().numpy(),
                        mask.numpy(), focal, cfg['fft_weight'],
                        cfg['fft_unmask_weight'])
    assert out['loss'].item() == pytest.approx(expected, rel=1e-5)
    assert set(out) == {'loss', 'spatial', 'frequency'}

    # gradient: the same formula written with torch ops in float64
    q = pred.double().clone().requires_grad_()
    t, s = target.double(), target.shape[-1] // mask.shape[-1]
    M = mask.double().repeat_interleave(s, 1).repeat_interleave(s, 2)[:, None]
    d = (q - t).abs()
    ell = d * (2 * torch.sigmoid(0.2 * d) - 1) if focal else d
    spatial = (ell * M).sum() / (M.sum() + 1e-5) / 3
    Mf = M + (1 - M) * cfg['fft_unmask_weight']
    qf = q * Mf + (0.5 * q.detach() + 0.5 * t) * (1 - Mf)
    fq = torch.fft.fft2(qf, norm='ortho').mean(0)
    ft = torch.fft.fft2(t, norm='ortho').mean(0)
    dist2 = (fq - ft).abs()**2
    w = torch.log(dist2.sqrt() + 1).detach()
    w = (w / w.max()).clamp(0, 1)
    ref = spatial + cfg['fft_weight'] * (w * dist2).mean()
    ref.backward()
    out['loss'].backward()
    torch.testing.assert_close(p.grad.double(), q.grad, rtol=1e-4, atol=1e-9)


def test_a2mim_head_unmask_weight_and_replace_modes():
    pred, target, mask = _inputs(4)
    for replace in ('target', 'prediction', 'mean', 'mixed'):
        head = MODELS.build(dict(VIT_HEAD, fft_unmask_replace=replace,
                                 unmask_weight=0.25, fft_unmask_weight=0.5))
        out = head.loss(pred, target, mask)
        M = mask.repeat_interleave(16, 1).repeat_interleave(16, 2)[:, None]
        Ms = M + (1 - M) * 0.25
        spatial = ((pred - target).abs() * Ms).sum() / (Ms.sum() + 1e-5) / 3
        assert out['spatial'].item() == pytest.approx(spatial.item(), rel=1e-5)
        assert torch.isfinite(out['loss'])


def test_a2mim_head_runs_fp32_under_autocast():
    pred, target, mask = _inputs(5)
    head = MODELS.build(R50_HEAD)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = head.loss(pred.bfloat16(), target.bfloat16(), mask)
    assert out['loss'].dtype == torch.float32
    ref = head.loss(pred.bfloat16().float(), target.bfloat16().float(), mask)
    assert out['loss'].item() == pytest.approx(ref['loss'].item(), rel=1e-6)


def test_a2mim_head_rejects_bad_arguments():
    with pytest.raises(ValueError, match='fft_unmask_replace'):
        MODELS.build(dict(VIT_HEAD, fft_unmask_replace='zeros'))
    with pytest.raises(ValueError, match='unmask_weight'):
        MODELS.build(dict(VIT_HEAD, unmask_weight=2.0))
    head = MODELS.build(VIT_HEAD)
    pred, target, mask = _inputs(6)
    with pytest.raises(ValueError, match='differ in shape'):
        head.loss(pred[..., :32, :32], target, mask)
