"""Run one prepared stage of the demo: its ``config.py`` and ``spec.json``
in the stage's work dir, as written by the demo runner.

A stage trains with a real mmengine Runner (resuming from its last
checkpoint if it was killed), then records its checkpoint, metrics and
pictures in ``stage.json``: a stage with that file is done.
"""
import contextlib
import json
import os
import os.path as osp
import time

from mmengine.config import Config

from .results import last_metric, plot_loss_curve


def init_worker(threads: int) -> None:
    """Intra-op threads of a worker process (the demo runs a few stages in
    parallel, each on its share of the cores)."""
    import torch
    torch.set_num_threads(max(int(threads), 1))
    import mim_plugins  # noqa: F401  registers our modules


def run_stage(stage_dir: str) -> dict:
    """Train the stage prepared in ``stage_dir``; returns its result."""
    from ..apis import build_runner, visualize_reconstruction
    with open(osp.join(stage_dir, 'spec.json')) as f:
        spec = json.load(f)
    cfg = Config.fromfile(osp.join(stage_dir, 'config.py'))
    cfg.work_dir = stage_dir
    if cfg.get('visualizer'):
        # mmdet/mmseg name theirs: a global instance that a later runner in
        # this process would reuse. Unnamed, each run gets its own.
        cfg.visualizer.pop('name', None)
    cfg.resume = True  # a killed stage continues from its checkpoint
    cfg.load_from = None
    t = time.time()
    with open(osp.join(stage_dir, 'stdout.log'), 'a') as log, \
            contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        runner = build_runner(cfg)
        runner.train()
        del runner
    ckpt_file = osp.join(stage_dir, 'last_checkpoint')
    checkpoint = None
    if osp.exists(ckpt_file):
        with open(ckpt_file) as f:
            checkpoint = f.read().strip()
    result = dict(name=spec['name'], lr=spec.get('lr'), seed=spec['seed'],
                  checkpoint=checkpoint, metrics={}, pictures={})
    for metric, (key, scale) in spec['metric_keys'].items():
        value = last_metric(stage_dir, key)
        result['metrics'][metric] = None if value is None else value * scale
    if spec['kind'] != 'knn':
        curve = plot_loss_curve(stage_dir,
                                osp.join(stage_dir, 'loss_curve.png'),
                                f'{spec["name"]}: {spec["title"]}')
        if curve:
            result['pictures']['loss_curve'] = curve
    knn_plot = osp.join(stage_dir, 'knn_top1.png')
    if osp.exists(knn_plot):
        result['pictures']['knn_top1'] = knn_plot
    if spec['kind'] == 'pretrain':
        result['pictures']['reconstruction'] = visualize_reconstruction(
            cfg, checkpoint, spec['vis_images'],
            osp.join(stage_dir, 'reconstruction.png'))
    result['seconds'] = time.time() - t
    tmp = osp.join(stage_dir, 'stage.json.part')
    with open(tmp, 'w') as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, osp.join(stage_dir, 'stage.json'))
    return result
