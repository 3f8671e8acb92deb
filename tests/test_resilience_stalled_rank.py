"""A DDP rank that stops responding ends the job within the process
group's timeout, naming the rank and the last iteration it finished, with
the checkpoints written before it intact."""
import os
import os.path as osp
import socket
import subprocess
import sys

from helpers import ROOT, TINY_VIT
from mim_plugins.engine.checkpoint_files import damage


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_stalled_ddp_rank_is_named_within_the_timeout(demo_data, tmp_path):
    """Rank 1 stops responding before iteration 3; with a 10 s process
    group timeout, the job ends in well under a minute, naming rank 1 and
    the last iteration it finished; iter_2 is intact."""
    env = dict(os.environ, PORT=str(_free_port()), CUDA_VISIBLE_DEVICES='',
               PYTHON=sys.executable, OMP_NUM_THREADS='1',
               PYTHONPATH=osp.join(ROOT, 'tests'))
    config = tmp_path / 'stall.py'
    config.write_text(
        f"_base_ = '{TINY_VIT}'\n"
        "custom_imports = dict(imports=['mim_plugins', 'dist_probe'], "
        "allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='StallRankHook', rank=1, at=3)]\n"
        "env_cfg = dict(dist_cfg=dict(backend='gloo', timeout=10))\n")
    cmd = ['bash', osp.join(ROOT, 'tools/dist_train.sh'), str(config), '2',
           '--work-dir', str(tmp_path), '--cfg-options',
           f'train_dataloader.dataset.data_root={demo_data}',
           'train_dataloader.batch_size=4', 'train_cfg.max_iters=4',
           'default_hooks.checkpoint.interval=2']
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert 'Stopped responding: rank(s) [1]' in out, out[-3000:]
    assert 'rank 1 last finished iteration 2' in out
    assert 'env_cfg.dist_cfg.timeout' in out
    assert damage(osp.join(tmp_path, 'iter_2.pth')) is None
