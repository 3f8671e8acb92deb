"""KNNMonitorHook and the k-NN probe: against a k-NN written here, in a real
Runner, and under 2-process DDP (gloo, torchrun)."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

from helpers import ROOT, TINY_RESNET, TINY_VIT
from mim_plugins.engine.knn import knn_top1


def reference_knn(train, train_labels, val, val_labels, k, t, num_classes):
    """Weighted k-NN, one query at a time, in float64 numpy."""
    train = train / np.linalg.norm(train, axis=1, keepdims=True)
    val = val / np.linalg.norm(val, axis=1, keepdims=True)
    correct = 0
    for q, label in zip(val, val_labels):
        sims = train @ q
        nearest = np.argsort(-sims, kind='stable')[:k]
        votes = np.zeros(num_classes)
        for j in nearest:
            votes[train_labels[j]] += np.exp(sims[j] / t)
        correct += int(np.argmax(votes) == label)
    return 100.0 * correct / len(val)


@pytest.mark.parametrize('k,t', [(1, 0.07), (5, 0.07), (20, 0.5), (200, 1)])
def test_knn_top1_matches_reference(k, t):
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(5, 16))
    tl, vl = rng.integers(0, 5, 120), rng.integers(0, 5, 70)
    tf = centres[tl] + rng.normal(scale=1.5, size=(120, 16))
    vf = centres[vl] + rng.normal(scale=1.5, size=(70, 16))
    ours = knn_top1(torch.tensor(tf), torch.tensor(tl), torch.tensor(vf),
                    torch.tensor(vl), k=k, temperature=t, num_classes=5,
                    chunk=32)
    ref = reference_knn(tf, tl, vf, vl, min(k, 120), t, 5)
    assert ours == pytest.approx(ref, abs=1e-9)
    assert 20 < ours < 100  # neither chance nor trivial at this noise


def test_knn_rejects_empty_sets():
    with pytest.raises(ValueError, match='at least one'):
        knn_top1(torch.zeros(0, 4), torch.zeros(0), torch.ones(2, 4),
                 torch.zeros(2))


def test_hook_refuses_missing_folder(tmp_path):
    from mim_plugins.engine.hooks import KNNMonitorHook
    with pytest.raises(FileNotFoundError, match='labelled image folder'):
        KNNMonitorHook(data_root=str(tmp_path))


def _independent_features(cfg_path, ckpt, data_root, split, img_size):
    """Backbone features of a folder, without the hook's loader, sampler or
    gathering: images read and transformed one by one in sorted order."""
    from mmengine.dataset import Compose, default_collate
    from mim_plugins.apis import load_pretrain_model
    model = load_pretrain_model(cfg_path, ckpt)
    pipeline = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='ResizeEdge', scale=int(round(img_size * 8 / 7)),
             edge='short', backend='pillow', interpolation='bicubic'),
        dict(type='CenterCrop', crop_size=img_size),
        dict(type='PackInputs')])
    classes = sorted(os.listdir(osp.join(data_root, split)))
    feats, labels = [], []
    for c, name in enumerate(classes):
        folder = osp.join(data_root, split, name)
        for fname in sorted(os.listdir(folder)):
            data = pipeline(dict(img_path=osp.join(folder, fname)))
            batch = model.data_preprocessor(default_collate([data]), False)
            inputs = batch['inputs']
            inputs = inputs[0] if isinstance(inputs, list) else inputs
            with torch.no_grad():
                out = model.backbone(inputs, None)[-1]
            feats.append(out.mean(dim=(2, 3))[0].numpy())
            labels.append(c)
    return np.stack(feats), np.array(labels)


def _scalars(work_dir):
    path = next(osp.join(r, f) for r, _, fs in os.walk(work_dir)
                for f in fs if f == 'scalars.json')
    with open(path) as f:
        return [json.loads(line) for line in f]


@pytest.mark.parametrize('config', [TINY_RESNET, TINY_VIT],
                         ids=['resnet', 'vit'])
def test_hook_in_runner_matches_independent_knn(config, demo_data, tmp_path):
    from mmengine.config import Config
    from mim_plugins.apis import build_runner
    cfg = Config.fromfile(config)
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.dataset.data_root = demo_data
    cfg.train_dataloader.batch_size = 4
    cfg.train_cfg.max_iters = 4
    cfg.default_hooks.checkpoint.interval = 4
    cfg.custom_hooks = [dict(type='KNNMonitorHook', data_root=demo_data,
                             interval=2, k=5, img_size=64, batch_size=5,
                             num_workers=0)]
    runner = build_runner(cfg)
    runner.train()
    knn = [r for r in _scalars(tmp_path) if 'knn/top1' in r]
    assert [r['step'] for r in knn] == [0, 2, 4]
    assert osp.isfile(tmp_path / 'knn_top1.png')
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)
    tf, tl = _independent_features(cfg_path, str(tmp_path / 'iter_4.pth'),
                                   demo_data, 'train', 64)
    vf, vl = _independent_features(cfg_path, str(tmp_path / 'iter_4.pth'),
                                   demo_data, 'val', 64)
    ref = reference_knn(tf, tl, vf, vl, 5, 0.07, 4)
    assert knn[-1]['knn/top1'] == pytest.approx(ref, abs=1e-6)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_hook_under_ddp_gathers_every_sample(tmp_path):
    """2 ranks, an odd number of images (the sampler pads one rank): the
    probe on both ranks sees every image once and equals the one-process
    value of the same weights."""
    from mim_plugins.reproduce.synthetic import make_classification_folder
    data = make_classification_folder(str(tmp_path / 'data'), num_train=5,
                                      num_val=3, size=64)
    env = dict(os.environ, PORT=str(_free_port()), CUDA_VISIBLE_DEVICES='',
               PYTHON=sys.executable, OMP_NUM_THREADS='1')
    results = {}
    for gpus in (1, 2):
        work = tmp_path / f'ws{gpus}'
        config = tmp_path / f'knn_{gpus}.py'
        # no training (max_iters=0): before and after training probe the
        # same seeded initial weights, on 1 and on 2 processes
        config.write_text(
            f"_base_ = '{TINY_RESNET}'\n"
            f"train_dataloader = dict(batch_size=2, dataset=dict(data_root="
            f"'{data}'))\n"
            "train_cfg = dict(max_iters=0)\n"
            "randomness = dict(seed=3)\n"
            f"custom_hooks = [dict(type='KNNMonitorHook', data_root='{data}',"
            " interval=1, k=3, img_size=64, batch_size=3, num_workers=0)]\n")
        cmd = ['bash', osp.join(ROOT, 'tools/dist_train.sh'), str(config),
               str(gpus), '--work-dir', str(work)]
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        log = open(next(osp.join(r, f) for r, _, fs in os.walk(work)
                        for f in fs if f.endswith('.log'))).read()
        assert 'k-NN top-1 (k=3) at iteration 0' in log
        assert '(20 train, 12 val images)' in log  # no duplicate, none lost
        results[gpus] = [r['knn/top1'] for r in _scalars(work)
                         if 'knn/top1' in r]
    assert results[2] and results[2][0] == pytest.approx(results[1][0])
