"""Speed options of the backbones: fused SDPA attention, activation
checkpointing, channels_last; ``compile=True`` through a real Runner."""
import io

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.utils import BEiTAttention
from mmpretrain.registry import MODELS

from helpers import TINY_VIT, load_tool, tiny_resnet_cfg, tiny_vit_cfg
from mim_plugins.models.backbones import mim_vit
from mim_plugins.models.backbones.sdpa_attention import SDPABEiTAttention

ATOL = RTOL = 1e-5


def _randomize(model, seed=0):
    """Non-trivial values everywhere (the relative position bias tables and
    q/v biases are zeros at construction)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.1)
    return model


def _twins(cfg, **diff):
    """``cfg`` with and without ``diff``, with the same weights."""
    torch.manual_seed(0)
    ref = _randomize(MODELS.build(cfg))
    other = MODELS.build({**cfg, **diff})
    other.load_state_dict(ref.state_dict())
    return ref, other


def _run(model, x, mask, seed=0):
    """Output and gradients (by name) of one training step."""
    model.train()
    model.zero_grad()
    torch.manual_seed(seed)
    out = model(x, mask)[-1]
    (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()
             if p.grad is not None}
    return out.detach(), grads


def _assert_same_step(a, b, x, mask, atol=ATOL, rtol=RTOL):
    out_a, grads_a = _run(a, x, mask)
    out_b, grads_b = _run(b, x, mask)
    torch.testing.assert_close(out_a, out_b, atol=atol, rtol=rtol)
    assert grads_a.keys() == grads_b.keys()
    for k in grads_a:
        torch.testing.assert_close(grads_a[k], grads_b[k], atol=atol,
                                   rtol=rtol, msg=k)
    return grads_a


VIT_CASES = {
    # per-layer relative position bias + absolute position embedding
    'a2mim': tiny_vit_cfg(type='A2MIMViT', mask_layer=0),
    'a2mim_mask_layer1_qkv_bias': tiny_vit_cfg(type='A2MIMViT', mask_layer=1,
                                               mask_init=0.5, bias=True),
    # one relative position bias shared by the layers, replaced tokens
    'simmim': tiny_vit_cfg(type='SimMIMViT'),
    'maskdistill_no_qkv_bias': tiny_vit_cfg(type='MaskDistillViT',
                                            bias=False),
}


@pytest.mark.parametrize('name', list(VIT_CASES))
def test_sdpa_equals_eager_attention(name, monkeypatch):
    cfg = VIT_CASES[name]
    eager, sdpa = _twins(dict(cfg, use_sdpa=False), use_sdpa=True)
    assert all(type(layer.attn) is BEiTAttention for layer in eager.layers)
    assert all(type(layer.attn) is SDPABEiTAttention for layer in sdpa.layers)
    # the same checkpoint keys (and so the same downstream checkpoints)
    assert list(sdpa.state_dict()) == list(eager.state_dict())
    assert list(MODELS.build(cfg).state_dict()) == list(eager.state_dict())

    calls = []
    fused = F.scaled_dot_product_attention

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return fused(*args, **kwargs)

    monkeypatch.setattr(F, 'scaled_dot_product_attention', counted)
    x = torch.randn(2, 3, 64, 64)
    mask = torch.randint(0, 2, (2, 4, 4))
    for m in (None, mask):
        grads = _assert_same_step(eager, sdpa, x, m)
        # the relative position bias is learnt through the fused kernel
        assert any('relative_position_bias_table' in k and v.abs().sum() > 0
                   for k, v in grads.items())
    assert len(calls) == 2 * len(sdpa.layers)
    assert all(c['attn_mask'] is not None for c in calls)

    sdpa.eval()
    eager.eval()
    with torch.no_grad():
        torch.testing.assert_close(sdpa(x, mask)[-1], eager(x, mask)[-1],
                                   atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize('typ', ['A2MIMViT', 'SimMIMViT'])
def test_sdpa_under_bf16_autocast(typ):
    """The float relative position bias follows q's dtype under autocast."""
    eager, sdpa = _twins(tiny_vit_cfg(type=typ, use_sdpa=False),
                         use_sdpa=True)
    x = torch.randn(2, 3, 64, 64)
    mask = torch.randint(0, 2, (2, 4, 4))
    with torch.no_grad():
        ref = eager(x, mask)[-1]
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = sdpa(x, mask)[-1]
    out.float().pow(2).mean().backward()
    torch.testing.assert_close(out.float(), ref, atol=0.1, rtol=0.05)
    assert all(p.grad is not None and p.grad.dtype == torch.float32
               for n, p in sdpa.named_parameters()
               if 'relative_position_bias_table' in n)


def test_sdpa_is_the_default_and_loads_into_plain_beit():
    cfg = tiny_vit_cfg(type='A2MIMViT')
    model = _randomize(MODELS.build(cfg)).eval()
    assert model.use_sdpa
    plain = MODELS.build(dict(
        type='BEiTViT', arch=cfg['arch'], img_size=64, patch_size=16,
        out_type='featmap', final_norm=True, use_abs_pos_emb=True,
        layer_scale_init_value=0.1))
    plain.eval()
    missing, unexpected = plain.load_state_dict(model.state_dict(),
                                                strict=False)
    assert not missing and set(unexpected) == {'mask_token'}
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x)[-1], plain(x)[-1], atol=ATOL,
                                   rtol=RTOL)


def test_sdpa_attention_dropout_only_in_training(monkeypatch):
    cfg = tiny_vit_cfg(type='A2MIMViT',
                       layer_cfgs=dict(attn_cfg=dict(attn_drop_rate=0.5)))
    eager, sdpa = _twins(dict(cfg, use_sdpa=False), use_sdpa=True)
    seen = []
    fused = F.scaled_dot_product_attention
    monkeypatch.setattr(
        F, 'scaled_dot_product_attention',
        lambda *a, **kw: seen.append(kw['dropout_p']) or fused(*a, **kw))
    x = torch.randn(2, 3, 64, 64)
    sdpa.train()
    with torch.no_grad():
        torch.manual_seed(1)
        out1 = sdpa(x)[-1]
        torch.manual_seed(2)
        out2 = sdpa(x)[-1]
    assert not torch.allclose(out1, out2)
    assert seen == [0.5] * 4
    seen.clear()
    sdpa.eval()
    eager.eval()
    with torch.no_grad():
        torch.testing.assert_close(sdpa(x)[-1], eager(x)[-1], atol=ATOL,
                                   rtol=RTOL)
    assert seen == [0.] * 2


@pytest.mark.parametrize('typ', ['A2MIMViT', 'SimMIMViT'])
@pytest.mark.parametrize('drop_path_rate', [0., 0.5])
def test_vit_with_cp_gives_the_same_gradients(typ, drop_path_rate,
                                              monkeypatch):
    cfg = tiny_vit_cfg(type=typ, drop_path_rate=drop_path_rate)
    plain, cp = _twins(cfg, with_cp=True)
    calls = []
    checkpoint = mim_vit.checkpoint
    monkeypatch.setattr(mim_vit, 'checkpoint', lambda *a, **kw: calls.append(
        kw) or checkpoint(*a, **kw))
    x = torch.randn(2, 3, 64, 64)
    mask = torch.randint(0, 2, (2, 4, 4))
    # non-reentrant checkpointing restores the RNG state, so even the
    # recomputed drop path is the same
    _assert_same_step(plain, cp, x, mask)
    assert calls == [dict(use_reentrant=False)] * len(cp.layers)
    calls.clear()
    with torch.no_grad():
        cp(x, mask)
    cp.eval()
    cp(x, mask)
    assert not calls  # only when training with gradients


def test_resnet_with_cp_is_passed_through_and_gives_the_same_gradients():
    cfg = tiny_resnet_cfg(mask_layer=1, mask_init=0.5)
    plain, cp = _twins(cfg, with_cp=True)
    blocks = [b for n in cp.res_layers for b in getattr(cp, n)]
    assert blocks and all(b.with_cp for b in blocks)
    x = torch.randn(2, 3, 64, 64)
    mask = torch.randint(0, 2, (2, 16, 16))
    for m in (None, mask):
        _assert_same_step(plain, cp, x, m)


@pytest.mark.parametrize('cfg', [tiny_resnet_cfg(mask_layer=3),
                                 tiny_resnet_cfg(type='SimMIMResNet',
                                                 mask_layer=0)])
def test_resnet_channels_last(cfg):
    torch.manual_seed(0)
    plain = MODELS.build(cfg)
    plain.init_weights()
    cl = MODELS.build(dict(cfg, channels_last=True))
    params = dict(cl.named_parameters())
    convs = [p for p in params.values() if p.dim() == 4]
    assert convs and all(
        p.is_contiguous(memory_format=torch.channels_last) for p in convs)
    # still the same Parameter objects after init_weights / loading
    cl.init_weights()
    cl.load_state_dict(plain.state_dict())
    assert all(p is params[n] for n, p in cl.named_parameters())
    assert all(
        p.is_contiguous(memory_format=torch.channels_last) for p in convs)

    x = torch.randn(2, 3, 64, 64)
    grid = 4 if cfg['mask_layer'] == 3 else 16
    mask = torch.randint(0, 2, (2, grid, grid))
    for m in (None, mask):
        # the convolutions run other (oneDNN/cuDNN) kernels, so the values
        # are equal up to float32 summation order
        out_cl, grads_cl = _run(cl, x, m)
        out, grads = _run(plain, x, m)
        assert out_cl.is_contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(out_cl, out, atol=ATOL, rtol=RTOL)
        assert grads_cl.keys() == grads.keys()
        for k, g in grads.items():
            # relative to the tensor's scale: batch-norm gradients are sums
            # that nearly cancel
            torch.testing.assert_close(grads_cl[k], g, rtol=0,
                                       atol=2e-4 * g.abs().max(), msg=k)
        cl.eval()
        plain.eval()
        with torch.no_grad():
            torch.testing.assert_close(cl(x, m)[-1], plain(x, m)[-1],
                                       atol=ATOL, rtol=RTOL)

    # a channels_last checkpoint loads into a default-layout model
    buf = io.BytesIO()
    torch.save(cl.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf)
    fresh = MODELS.build(dict(cfg, init_cfg=None))
    fresh.load_state_dict(state)
    downstream = MODELS.build(dict(
        type='ResNet', depth=18, stem_channels=16, base_channels=16,
        out_indices=(3, )))
    missing, unexpected = downstream.load_state_dict(state, strict=False)
    assert not missing and set(unexpected) <= {'mask_token', 'mask_gamma'}
    for model in (fresh, downstream):
        for k, v in model.state_dict().items():
            assert v.is_contiguous(), k
            assert torch.equal(v, cl.state_dict()[k]), k


@pytest.mark.parametrize('cfg', [
    tiny_vit_cfg(type='A2MIMViT', drop_path_rate=0.1),
    tiny_vit_cfg(type='SimMIMViT', drop_path_rate=0.1, with_cp=True),
    tiny_resnet_cfg(channels_last=True, with_cp=True)])
def test_backbones_trace_into_one_graph(cfg):
    """No graph break in the backbones under TorchDynamo (train mode, drop
    path on). mmpretrain's numpy drop path rates used to break the graph
    in mmcv's ``drop_path`` and send the whole ViT layer loop to eager."""
    model = MODELS.build(cfg).train()
    assert all(type(m.drop_prob) is float for m in model.modules()
               if hasattr(m, 'drop_prob'))
    x = torch.randn(2, 3, 64, 64)
    mask = torch.randint(0, 2, (2, 4, 4))
    torch._dynamo.reset()
    try:
        for m in (None, mask):
            explained = torch._dynamo.explain(model)(x, m)
            assert explained.graph_break_count == 0, explained.break_reasons
            assert explained.graph_count == 1
    finally:
        torch._dynamo.reset()


def _compile_supported():
    if not hasattr(torch, 'compile'):
        return 'torch.compile is not available in this PyTorch'
    try:
        torch.compile(lambda t: t * 2 + 1)(torch.ones(3))
    except Exception as e:  # noqa: BLE001 - no compiler, unsupported Python
        return f'torch.compile does not work here: {type(e).__name__}: {e}'
    return None


def test_compile_true_trains_the_tiny_a2mim_vit(demo_data, tmp_path):
    """``compile=True`` through a real Runner, 2 iterations; the same losses
    as eager. Slow the first time (Inductor compiles the C++ kernels: about
    100 s on 2 busy CPU cores), then its cache makes it ~20-30 s."""
    reason = _compile_supported()
    if reason:
        pytest.skip(reason)
    from mmengine.config import Config
    train_tool = load_tool('train')

    try:
        losses = {}
        for compile_ in (False, True):
            cfg = Config.fromfile(TINY_VIT)
            cfg.train_dataloader.dataset.data_root = demo_data
            cfg.train_dataloader.batch_size = 4
            cfg.train_cfg.max_iters = 2
            # a constant lr: a new lr value makes TorchDynamo recompile the
            # optimizer step (slow on CPU)
            cfg.param_scheduler = []
            cfg.default_hooks.logger.interval = 1
            cfg.default_hooks.checkpoint.interval = 2
            cfg.work_dir = str(tmp_path / str(compile_))
            cfg.randomness = dict(seed=0)
            cfg.compile = compile_
            train_tool.adapt_cfg_to_device(cfg)
            runner = train_tool.build_runner(cfg)
            runner.train()
            assert runner.iter == 2
            if compile_:
                assert hasattr(runner.model.train_step,
                               '_torchdynamo_orig_callable')
                # added by tools/train.py for compile=True
                assert any(type(h).__name__ == 'PlainParamGroupsHook'
                           for h in runner.hooks)
                groups = runner.optim_wrapper.optimizer.param_groups
                assert all(type(g) is dict for g in groups)
            history = runner.message_hub.get_scalar('train/loss')
            losses[compile_] = history.data[0]
    finally:
        torch._dynamo.reset()
    assert len(losses[True]) == 2
    torch.testing.assert_close(torch.as_tensor(losses[True]),
                               torch.as_tensor(losses[False]),
                               rtol=1e-3, atol=1e-4)
