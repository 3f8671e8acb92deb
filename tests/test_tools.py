"""tools/test.py, dist_test.sh, upstream mmpretrain tools/train.py, imports."""
import os
import os.path as osp
import socket
import subprocess
import sys

import mmpretrain
import pytest

from helpers import ROOT, TINY_RESNET, load_tool
test_tool = load_tool('test')
train_tool = load_tool('train')

UPSTREAM_TOOLS = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools')

CLS_CONFIG = """
_base_ = ['mmpretrain::_base_/default_runtime.py']
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)
data_preprocessor = dict(num_classes=4, mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], to_rgb=True)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, stem_channels=16, base_channels=16),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=4, in_channels=128,
              loss=dict(type='CrossEntropyLoss')))
pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=8, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CustomDataset', data_root='{root}', data_prefix='train',
                 pipeline=pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CustomDataset', data_root='{root}', data_prefix='val',
                 pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
val_cfg = dict()
test_cfg = dict()
"""


@pytest.fixture(scope='module')
def cls_run(demo_data, tmp_path_factory):
    """A tiny image classifier trained for one epoch on the demo folder."""
    work = tmp_path_factory.mktemp('cls')
    config = work / 'cls.py'
    config.write_text(CLS_CONFIG.replace('{root}', demo_data))
    train_tool.main([str(config), '--work-dir', str(work)])
    return str(config), str(work / 'epoch_1.pth')


def test_test_tool_evaluates_a_checkpoint(cls_run, tmp_path):
    config, ckpt = cls_run
    out = tmp_path / 'metrics.json'
    metrics = test_tool.main([config, ckpt, '--work-dir', str(tmp_path),
                              '--out', str(out)])
    assert 0 <= metrics['accuracy/top1'] <= 100
    assert out.exists()
    with pytest.raises(FileNotFoundError, match='does not exist'):
        test_tool.main([config, str(tmp_path / 'missing.pth')])


def test_dist_test_two_cpu_processes(cls_run, tmp_path):
    config, ckpt = cls_run
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PORT=str(port), CUDA_VISIBLE_DEVICES='',
               PYTHON=sys.executable, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools/dist_test.sh'), config, ckpt, '2',
         '--work-dir', str(tmp_path), '--out', str(tmp_path / 'm.json')],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'accuracy/top1' in (tmp_path / 'm.json').read_text()


def test_upstream_mmpretrain_train_runs_our_config(demo_data, tmp_path):
    """Drop-in: mmpretrain's own tools/train.py + custom_imports."""
    proc = subprocess.run(
        [sys.executable, osp.join(UPSTREAM_TOOLS, 'train.py'), TINY_RESNET,
         '--work-dir', str(tmp_path), '--cfg-options',
         f'train_dataloader.dataset.data_root={demo_data}',
         'train_dataloader.batch_size=4', 'train_cfg.max_iters=2',
         'default_hooks.checkpoint.interval=2'],
        cwd=str(tmp_path), capture_output=True, text=True, timeout=600,
        env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert osp.exists(tmp_path / 'iter_2.pth')


def test_import_needs_mmpretrain_only():
    code = (
        "import sys\n"
        "sys.modules['mmdet'] = None\n"
        "sys.modules['mmseg'] = None\n"
        "import mim_plugins\n"
        "from mmpretrain.registry import MODELS\n"
        "for name in ('A2MIM', 'A2MIMResNet', 'A2MIMViT', 'A2MIMHead',\n"
        "             'RegressionLoss', 'FocalFrequencyLoss'):\n"
        "    assert MODELS.get(name) is not None, name\n")
    proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_shell_tools_parse():
    for name in ('dist_train.sh', 'dist_test.sh', 'slurm_train.sh',
                 'install_env.sh'):
        proc = subprocess.run(['bash', '-n', osp.join(ROOT, 'tools', name)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, (name, proc.stderr)


def test_device_check_dry_run_on_the_cpu(tmp_path):
    """tools/device_check.sh (the GPU checks) with TINY=1 on the CPU: every
    step runs and reports (benchmark, two AMP runs falling back to fp32,
    dist_train.sh with 2 processes); bf16 benchmarking is skipped."""
    import json
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    out = tmp_path / 'check'
    env = dict(os.environ, TINY='1', ITERS='2', STEPS='1', WARMUP='1',
               ONLY='a2mim_vit-b simmim_vit-b', PORT=str(port),
               CUDA_VISIBLE_DEVICES='', PYTHON=sys.executable,
               OMP_NUM_THREADS='1')
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools/device_check.sh'), str(out)],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = (out / 'summary.txt').read_text()
    assert 'gpus 0' in summary
    assert 'benchmark bf16: skipped (no CUDA)' in summary
    bench = json.loads((out / 'bench_fp32.json').read_text())
    assert [e['name'] for e in bench['entries']] == ['a2mim_vit-b',
                                                     'simmim_vit-b']
    for run in ('amp_fp16', 'amp_bf16', 'dist2'):
        assert (out / run / 'iter_2.pth').exists(), run
    lines = [ln for ln in summary.splitlines() if 'Iter(train) [2/2]' in ln]
    assert len(lines) == 3 and all('loss:' in ln for ln in lines)
    assert 'dist_train.sh 2 (CPU, gloo)' in summary
