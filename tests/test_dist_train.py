"""tools/dist_train.sh for real: 2 CPU processes (gloo) through torchrun."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

from helpers import ROOT, TINY_VIT


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _read(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_dist_train_two_cpu_processes(demo_data, tmp_path):
    env = dict(os.environ, PORT=str(_free_port()), CUDA_VISIBLE_DEVICES='',
               PYTHON=sys.executable, OMP_NUM_THREADS='1',
               PYTHONPATH=osp.join(ROOT, 'tests'))
    config = tmp_path / 'probe_config.py'
    config.write_text(
        f"_base_ = '{TINY_VIT}'\n"
        "custom_imports = dict(imports=['mim_plugins', 'dist_probe'], "
        "allow_failed_imports=False)\n"
        "custom_hooks = ["
        "dict(type='DistProbeHook')]\n")
    cmd = ['bash', osp.join(ROOT, 'tools/dist_train.sh'), str(config), '2',
           '--work-dir', str(tmp_path), '--cfg-options',
           f'train_dataloader.dataset.data_root={demo_data}',
           'train_dataloader.batch_size=4', 'train_cfg.max_iters=3',
           'default_hooks.checkpoint.interval=3',
           'model.backbone.drop_path_rate=0.0']
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert osp.exists(osp.join(tmp_path, 'iter_3.pth'))
    r0 = _read(osp.join(tmp_path, 'probe_rank0.jsonl'))
    r1 = _read(osp.join(tmp_path, 'probe_rank1.jsonl'))
    for a, b in zip(r0[:3], r1[:3]):
        assert not set(a['samples']) & set(b['samples'])  # disjoint data
        assert a['local'] != pytest.approx(b['local'], rel=1e-6)
        # the logged loss is the mean over both ranks on both ranks
        mean = (a['local'] + b['local']) / 2
        assert a['logged'] == pytest.approx(mean, rel=1e-4)
        assert b['logged'] == pytest.approx(mean, rel=1e-4)
    # DDP averaged the gradients: both replicas hold identical weights
    assert r0[-1]['params_checksum'] == r1[-1]['params_checksum']
    log = open(next(osp.join(r, f) for r, _, fs in os.walk(tmp_path)
                    for f in fs if f.endswith('.log'))).read()
    assert 'Distributed training: True' in log and 'GPU number: 2' in log
