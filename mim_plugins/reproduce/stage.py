"""Run one prepared stage of the demo: its ``config.py`` and ``spec.json``
in the stage's work dir, as written by the demo runner.

A stage trains with a real mmengine Runner (resuming from its last
intact checkpoint if it was killed), then records its checkpoint, metrics
and pictures in ``stage.json``: a stage is done while that record and every
file it names are there and intact (:func:`finished`).
"""
import contextlib
import json
import os
import os.path as osp
import time
from typing import List, Optional, Tuple

from mmengine.config import Config

from ..engine.checkpoint_files import damage, newest_intact
from .results import last_metric, plot_loss_curve


def init_worker(threads: int) -> None:
    """Intra-op threads of a worker process (the demo runs a few stages in
    parallel, each on its share of the cores)."""
    import torch
    torch.set_num_threads(max(int(threads), 1))
    import mim_plugins  # noqa: F401  registers our modules


def output_problem(path: str) -> Optional[str]:
    """'missing' or 'damaged' when the output ``path`` is not there or does
    not read back (a checkpoint that is no whole zip archive, JSON that does
    not parse, a picture that does not decode); None when it is intact."""
    if not osp.exists(path):
        return 'missing'
    if osp.isdir(path):
        return None
    if path.endswith('.pth'):
        return 'damaged' if damage(path) else None
    try:
        if path.endswith('.json'):
            with open(path) as f:
                json.load(f)
        elif path.endswith('.png'):
            from PIL import Image
            with Image.open(path) as img:
                img.verify()
    except Exception:
        return 'damaged'
    return None


def recorded_outputs(result: dict) -> List[str]:
    """The files and folders a stage's result names: its checkpoint,
    pictures and (the data stage) data sets."""
    paths = [result.get('checkpoint')]
    for key in ('pictures', 'data'):
        paths += list((result.get(key) or {}).values())
    return [p for p in paths if isinstance(p, str) and p]


def finished(stage_dir: str) -> Tuple[Optional[dict], Optional[str]]:
    """``(result, None)`` when the stage in ``stage_dir`` is done;
    ``(None, None)`` when it has no record; ``(None, '<file> is missing')``
    (or damaged) when its record or an output the record names is."""
    marker = osp.join(stage_dir, 'stage.json')
    if not osp.exists(marker):
        return None, None
    try:
        with open(marker) as f:
            result = json.load(f)
    except (OSError, ValueError):
        return None, f'{marker} is damaged'
    if not isinstance(result, dict):
        return None, f'{marker} is damaged'
    for path in recorded_outputs(result):
        problem = output_problem(path)
        if problem:
            return None, f'{path} is {problem}'
    return result, None


def resume_checkpoint(stage_dir: str) -> Optional[str]:
    """The checkpoint a (re)run of the stage continues from: the last one
    saved if it is intact, else the newest intact one; None to start from
    the beginning."""
    return newest_intact(stage_dir)[0]


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
    # a killed stage continues from its checkpoint; one whose checkpoint
    # is gone or damaged, from an older one or from the beginning
    cfg.load_from = resume_checkpoint(stage_dir)
    cfg.resume = cfg.load_from is not None
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
