"""Sharded training (FSDP) for real: tools/dist_train.sh with 2 CPU processes
(gloo), mmengine's FlexibleRunner and FSDPStrategy with one FSDP unit and one
activation checkpoint per ViT layer, on the tiny MaskDistill recipe (a
student, a frozen teacher in an FSDP unit of its own, clip_grad).

The sharded run is compared with plain DDP on the same 2 processes, from the
same initial weights and teacher, with the same masks and crops: the losses
and gradient norms of every iteration and the final weights must agree to
float32 rounding. FSDP reduce-scatters the gradients and sums the squared
gradient norm shard by shard where DDP all-reduces: the same sums, grouped
differently (with 2 ranks and a pre-division by 2 the results are the same
here, up to one ulp of the gradient norm). The checkpoint (a full state dict
gathered on rank 0) loads strictly into the plain model and completely into
a fine-tuning backbone, and a run resumed from it continues exactly. bf16
(FSDP's MixedPrecision with autocast, as on a GPU) runs and writes fp32
weights.
"""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from helpers import ROOT, TINY_CONFIGS, load_tool
from mim_plugins.apis import build_model_from_cfg, load_pretrain_model
from mim_plugins.engine import adapt_cfg_to_device, check_pretrained
from mim_plugins.reproduce.tiny import tiny_classification

TINY_MASKDISTILL = TINY_CONFIGS['maskdistill_vit']
FINETUNE = osp.join(ROOT, 'configs/classification/maskdistill/'
                    'vit-base-p16_maskdistill-pre_8xb128-coslr-100e_in1k.py')
ITERS = 4

#: what a config adds to train sharded (docs/usage.md)
SHARDED = """
runner_type = 'MIMFlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    state_dict_cfg='full',
    model_wrapper=dict(auto_wrap_policy='vit_layer_wrap_policy'),
    activation_checkpointing=dict(check_fn='is_vit_layer'))
"""
#: bf16 as a GPU config has it (AmpOptimWrapper there, CPU autocast here)
BF16 = """
optim_wrapper = dict(type='CPUAutocastOptimWrapper')
strategy = dict(model_wrapper=dict(mixed_precision=dict(
    param_dtype='bfloat16', reduce_dtype='float32', buffer_dtype='float32')))
"""


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _config(path, demo_data, teacher, init, extra=''):
    path.write_text(
        f"_base_ = '{TINY_MASKDISTILL}'\n"
        "custom_imports = dict(imports=['mim_plugins', "
        "'mim_plugins.engine.strategies', 'sharded_probe'], "
        "allow_failed_imports=False)\n"
        "model = dict(\n"
        "    backbone=dict(drop_path_rate=0.),\n"
        f"    target_generator=dict(checkpoint='{teacher}', "
        "random_init=False))\n"
        # low enough to clip every step: the norm must be the whole model's
        "optim_wrapper = dict(clip_grad=dict(max_norm=0.2))\n"
        f"train_dataloader = dict(batch_size=4, "
        f"dataset=dict(data_root='{demo_data}'))\n"
        f"train_cfg = dict(max_iters={ITERS})\n"
        "default_hooks = dict(logger=dict(interval=1), "
        "checkpoint=dict(interval=2, max_keep_ckpts=2))\n"
        "custom_hooks = [dict(type='ShardedProbeHook')]\n"
        f"load_from = '{init}'\n" + extra)
    return str(path)


def _train(config, work_dir, *args):
    env = dict(os.environ, PORT=str(_free_port()), CUDA_VISIBLE_DEVICES='',
               PYTHON=sys.executable, OMP_NUM_THREADS='1',
               PYTHONPATH=osp.join(ROOT, 'tests'))
    cmd = ['bash', osp.join(ROOT, 'tools/dist_train.sh'), config, '2',
           '--work-dir', str(work_dir), *args]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    with open(osp.join(work_dir, 'probe.jsonl')) as f:
        return [json.loads(line) for line in f]


def _weights(path):
    return torch.load(path, map_location='cpu')['state_dict']


@pytest.fixture(scope='module')
def runs(demo_data, tmp_path_factory):
    """The sharded run, the DDP run, a sharded run resumed at iteration 2
    and a sharded bf16 run, all from one initial model and teacher."""
    root = tmp_path_factory.mktemp('sharded')
    cfg = Config.fromfile(TINY_MASKDISTILL)
    torch.manual_seed(0)
    model = build_model_from_cfg(cfg)
    model.init_weights()
    teacher, init = str(root / 'teacher.pth'), str(root / 'init.pth')
    torch.save(model.target_generator.state_dict(), teacher)
    torch.save(dict(state_dict=model.state_dict()), init)
    out = dict(root=root, init=init)
    for name, extra in (('fsdp', SHARDED), ('ddp', ''), ('bf16', BF16)):
        path = root / f'{name}.py'
        if name == 'bf16':  # the sharded config, in bf16
            path.write_text(f"_base_ = '{out['fsdp_config']}'\n" + extra)
            config = str(path)
        else:
            config = _config(path, demo_data, teacher, init, extra)
        out[name] = _train(config, root / name)
        out[name + '_config'] = config
    out['resumed'] = _train(out['fsdp_config'], root / 'resumed', '--resume',
                            str(root / 'fsdp' / 'iter_2.pth'))
    return out


def test_sharded_run_saves_a_full_checkpoint(runs):
    work_dir = runs['root'] / 'fsdp'
    assert [r['iter'] for r in runs['fsdp']] == list(range(1, ITERS + 1))
    assert (work_dir / f'iter_{ITERS}.pth').is_file()
    # written under a temporary name, renamed when complete
    assert not [f for f in os.listdir(work_dir) if f.endswith('.partial')]
    log = open(next(osp.join(r, f) for r, _, fs in os.walk(work_dir)
                    for f in fs if f.endswith('.log'))).read()
    for name in ('MIMFSDPStrategy', 'ShardedSafeCheckpointHook',
                 'DivergenceHook'):
        assert name in log, name


def test_sharded_losses_and_weights_match_ddp(runs):
    fsdp, ddp = runs['fsdp'], runs['ddp']
    assert len(fsdp) == len(ddp) == ITERS
    for a, b in zip(fsdp, ddp):
        assert a['loss'] == pytest.approx(b['loss'], rel=1e-5), (a, b)
        # the whole model's gradient norm, clipped to 0.2 at every step
        assert a['grad_norm'] > 0.2
        assert a['grad_norm'] == pytest.approx(b['grad_norm'], rel=1e-5)
    got = _weights(runs['root'] / 'fsdp' / f'iter_{ITERS}.pth')
    want = _weights(runs['root'] / 'ddp' / f'iter_{ITERS}.pth')
    init = _weights(runs['init'])
    assert sorted(got) == sorted(want) == sorted(init)
    for key, value in want.items():
        torch.testing.assert_close(got[key], value, rtol=1e-5, atol=1e-7,
                                   msg=key)
    moved = [k for k in want if not torch.equal(want[k], init[k])]
    assert len(moved) > len(want) // 2  # the comparison is not vacuous


def test_sharded_checkpoint_loads_strictly_and_downstream(runs):
    ckpt = str(runs['root'] / 'fsdp' / f'iter_{ITERS}.pth')
    # the plain (unsharded) pre-training model, every key strictly
    model = load_pretrain_model(Config.fromfile(runs['fsdp_config']), ckpt)
    torch.testing.assert_close(model.backbone.cls_token,
                               _weights(ckpt)['backbone.cls_token'])
    # the fine-tuning backbone, as PretrainedCheckHook checks it
    cfg = Config.fromfile(FINETUNE)
    adapt_cfg_to_device(cfg)
    tiny_classification(cfg, ckpt, 'data/unused', iters=8)
    hook = next(h for h in cfg.custom_hooks
                if h.type == 'PretrainedCheckHook')
    allow = hook.get('allow_missing', ())  # the fine-tuning's own norm
    report = check_pretrained(build_model_from_cfg(cfg), allow)['backbone']
    assert not report.problems(allow) and not report.mismatched
    assert len(report.loaded) >= 35


def test_sharded_resume_continues_exactly(runs):
    resumed = runs['resumed']
    assert [r['iter'] for r in resumed] == [3, 4]
    assert resumed == runs['fsdp'][2:]
    got = _weights(runs['root'] / 'resumed' / f'iter_{ITERS}.pth')
    want = _weights(runs['root'] / 'fsdp' / f'iter_{ITERS}.pth')
    for key, value in want.items():
        assert torch.equal(got[key], value), key


def test_sharded_bf16_mixed_precision(runs):
    for a, b in zip(runs['bf16'], runs['fsdp']):
        assert a['loss'] == pytest.approx(b['loss'], rel=1e-3)
    ckpt = str(runs['root'] / 'bf16' / f'iter_{ITERS}.pth')
    assert {v.dtype for v in _weights(ckpt).values()
            if v.is_floating_point()} == {torch.float32}
    load_pretrain_model(Config.fromfile(runs['bf16_config']), ckpt)


@pytest.mark.parametrize('extra, launcher, message', [
    ("strategy = dict(type='FSDPStrategy')\n", 'pytorch',
     "runner_type='MIMRunner', which ignores it"),
    (SHARDED, 'none', 'tools/dist_train.sh CONFIG N'),
    (SHARDED + "custom_hooks = [dict(type='ReconstructionVisHook')]\n",
     'pytorch', 'ReconstructionVisHook cannot run under FSDP'),
], ids=['runner', 'launcher', 'hook'])
def test_sharded_config_mistakes_are_named(tmp_path, extra, launcher,
                                           message):
    """Before anything is built: a strategy that the runner would ignore,
    FSDP without a process group, a hook that needs the whole model."""
    config = tmp_path / 'config.py'
    config.write_text(f"_base_ = '{TINY_MASKDISTILL}'\n" + extra)
    with pytest.raises(SystemExit, match=message):
        load_tool('train').main([str(config), '--launcher', launcher,
                                 '--work-dir', str(tmp_path)])


def test_sharded_checkpoints_are_full_state_dicts():
    """Per-rank checkpoints (mmengine's default) would not resume."""
    from mim_plugins.engine.strategies import MIMFSDPStrategy
    with pytest.raises(ValueError, match="use state_dict_cfg='full'"):
        MIMFSDPStrategy(state_dict_cfg='local')
