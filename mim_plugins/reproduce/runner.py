"""Stages of the end-to-end reproduction: pre-train -> transfer -> table."""
import json
import os
import os.path as osp
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.config import Config

from ..datasets.synthetic import (CLASSES, make_classification_folder,
                                  make_coco_instances,
                                  make_segmentation_folder)
from . import paper
from .results import last_metric, plot_loss_curve, write_table
from .tiny import (stretch_iters, tiny_classification, tiny_detection,
                   tiny_segmentation)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
P, C, D, S = paper.P, paper.C, paper.D, paper.S


@dataclass
class Stage:
    """One step of the demo: what it trains and what it reports."""
    name: str
    kind: str  # 'data', 'pretrain', 'cls', 'det' or 'seg'
    config: Optional[str] = None
    source: Optional[str] = None  # the pre-training stage it starts from
    backbone: str = ''
    task: str = ''
    metrics: Tuple[str, ...] = ()
    estimate: float = 30.0  # seconds at the demo scale, for the ETA
    paper_config: Optional[str] = None  # the full-scale row it stands for


DEMO_STAGES = [
    Stage('data', 'data', estimate=10),
    Stage('pretrain-resnet', 'pretrain',
          P + 'a2mim/a2mim_resnet-tiny_1xb16-20i_demo.py',
          backbone='ResNet-18 (16 ch)', task='A2MIM pre-training',
          estimate=60),
    Stage('pretrain-vit', 'pretrain',
          P + 'a2mim/a2mim_vit-tiny_1xb16-20i_demo.py',
          backbone='ViT (4 x 64-d)', task='A2MIM pre-training', estimate=45),
    Stage('cls-resnet', 'cls',
          C + 'a2mim/resnet50_a2mim-pre_8xb256-rsb-a3-100e_in1k.py',
          'pretrain-resnet', 'ResNet-18 (16 ch)', 'classification',
          ('top-1', ), 60),
    Stage('cls-vit', 'cls',
          C + 'a2mim/vit-small-p16_a2mim-pre_8xb128-amp-coslr-200e_in1k.py',
          'pretrain-vit', 'ViT (4 x 64-d)', 'classification', ('top-1', ),
          60),
    Stage('det-resnet', 'det',
          D + 'a2mim/mask-rcnn_resnet50-fpn_a2mim-pre_8xb2-2x_coco.py',
          'pretrain-resnet', 'ResNet-18 (16 ch)', 'Mask R-CNN FPN',
          ('box AP', 'mask AP'), 180),
    # the ViT Mask R-CNN (SimpleFPN) takes ~4 s an iteration on 2 CPU cores:
    # the tests run it at tiny scale, the paper preset at full scale
    Stage('seg-resnet', 'seg',
          S + 'a2mim/upernet_resnet50_a2mim-pre_8xb2-160k_ade20k-512x512.py',
          'pretrain-resnet', 'ResNet-18 (16 ch)', 'UperNet', ('mIoU', ), 90),
    Stage('seg-vit', 'seg',
          S + 'a2mim/upernet_vit-base-p16_a2mim-pre_8xb2-amp-160k_ade20k-'
          '512x512.py', 'pretrain-vit', 'ViT (4 x 64-d)', 'UperNet',
          ('mIoU', ), 90),
]

#: iterations and data sizes of the demo ('demo') and of the test ('test')
SCALES = {
    'demo': dict(pretrain=1000, cls=800, det=600, seg=1500, cls_images=400,
                 coco_images=64, ade_images=64),
    'test': dict(pretrain=4, cls=4, det=4, seg=4, cls_images=4,
                 coco_images=4, ade_images=4),
}
#: amplitude of the classes' fill textures: with plain fills (shape classes
#: only) the tiny ViT, whose patch embedding is linear, stays at chance level
#: after the demo's few hundred iterations, while the ResNet learns them
PATTERN = 40.
VIT_LAYERS = 4  # UperNet takes four levels from the ViT
#: fine-tuning lr at the demo's batch of 32 (LAMB for the ResNet recipe,
#: AdamW with layer decay for the ViT recipe, whose lr it keeps: at 4e-3 the
#: pre-trained tiny ViT stays at chance for 800 iterations, at 1e-2 it
#: learns the classes)
CLS_LR = dict(resnet=2e-2, vit=1e-2)
#: segmentation lr for a few hundred iterations of a tiny model (the recipes'
#: SGD 0.01 / AdamW 1e-4 are for 160k iterations of a full-size one)
SEG_LR = dict(resnet=0.05, vit=1e-3)


def stage_names() -> List[str]:
    return [s.name for s in DEMO_STAGES]


class DemoRunner:
    """Run the demo stages in order, skipping those already done."""

    def __init__(self, work_dir: str, scale: str = 'demo',
                 data_root: Optional[str] = None, log=print) -> None:
        self.work_dir = work_dir
        self.scale = SCALES[scale]
        self.data_root = data_root or osp.join(work_dir, 'data')
        self.log = log
        self.done: Dict[str, dict] = {}

    # -- data ---------------------------------------------------------------
    @property
    def data(self) -> Dict[str, str]:
        return dict(cls=osp.join(self.data_root, 'shapes'),
                    det=osp.join(self.data_root, 'coco'),
                    seg=osp.join(self.data_root, 'ade'))

    def _make_data(self) -> dict:
        s = self.scale
        n = s['cls_images']
        make_classification_folder(self.data['cls'], num_train=n,
                                   num_val=max(n // 4, 2), size=64,
                                   texture=0.25, pattern=PATTERN)
        n = s['coco_images']
        make_coco_instances(self.data['det'], num_train=n,
                            num_val=max(n // 4, 2), size=128,
                            pattern=PATTERN)
        n = s['ade_images']
        make_segmentation_folder(self.data['seg'], num_train=n,
                                 num_val=max(n // 4, 2), size=64,
                                 pattern=PATTERN)
        return dict(data=self.data)

    # -- training stages ------------------------------------------------------
    def _config(self, stage: Stage) -> Config:
        from ..engine import adapt_cfg_to_device
        cfg = Config.fromfile(osp.join(ROOT, stage.config))
        adapt_cfg_to_device(cfg)
        iters = self.scale[stage.kind]
        if stage.kind == 'pretrain':
            cfg.train_dataloader.dataset.data_root = self.data['cls']
            if 'ViT' in cfg.model.backbone.type:
                cfg.model.backbone.arch.num_layers = VIT_LAYERS
            stretch_iters(cfg, iters)
            cfg.default_hooks.checkpoint.interval = iters
            cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
                dict(type='ReconstructionVisHook',
                     interval=max(iters // 4, 1))]
            return cfg
        ckpt = self.done[stage.source]['checkpoint']
        make = dict(cls=tiny_classification, det=tiny_detection,
                    seg=tiny_segmentation)[stage.kind]
        kwargs = dict(vit_layers=VIT_LAYERS) if stage.kind != 'seg' else {}
        vit = 'ViT' in cfg.model.backbone.type
        if stage.kind == 'cls':
            kwargs.update(light=True, batch_size=32, workers=2,
                          lr=CLS_LR['vit' if vit else 'resnet'])
        if stage.kind == 'seg':
            kwargs.update(lr=SEG_LR['vit' if vit else 'resnet'])
        return make(cfg, ckpt, self.data[stage.kind], iters=iters, **kwargs)

    def _train(self, stage: Stage, work_dir: str) -> dict:
        from tools import train as train_tool
        cfg = self._config(stage)
        cfg.work_dir = work_dir
        if cfg.get('visualizer'):
            # mmdet/mmseg name theirs 'visualizer': a global instance that a
            # later runner in this process would reuse, logging to the
            # first stage's folder. Unnamed, each run gets its own.
            cfg.visualizer.pop('name', None)
        cfg.resume = True  # a killed stage continues from its checkpoint
        cfg.load_from = None
        runner = train_tool.build_runner(cfg)
        runner.train()
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            ckpt = f.read().strip()
        out = dict(checkpoint=ckpt, metrics={}, pictures={})
        for metric in stage.metrics:
            key, scale = paper.METRIC_KEYS[metric]
            value = last_metric(work_dir, key)
            out['metrics'][metric] = None if value is None else value * scale
        curve = plot_loss_curve(work_dir, osp.join(work_dir, 'loss_curve.png'),
                                f'{stage.name}: {stage.task}')
        if curve:
            out['pictures']['loss_curve'] = curve
        if stage.kind == 'pretrain':
            from tools.visualize_reconstruction import main as vis
            cfg_path = osp.join(work_dir, 'pretrain_config.py')
            cfg.dump(cfg_path)
            out['pictures']['reconstruction'] = vis([
                cfg_path, ckpt, osp.join(self.data['cls'], 'val'), '--out',
                osp.join(work_dir, 'reconstruction.png')])
        return out

    def run(self, only: Optional[List[str]] = None,
            start: Optional[str] = None) -> Dict[str, dict]:
        stages = DEMO_STAGES
        names = stage_names()
        selected = set(names)
        if start:
            selected = set(names[names.index(start):])
        if only:
            selected = set(only)
        # dependencies of a selected stage must be done (or are run first)
        for st in stages:
            if st.name in selected and st.source:
                selected |= {'data', st.source}
            if st.name in selected and st.kind != 'data':
                selected.add('data')
        todo = [s for s in stages if s.name in selected]
        t0, spent, planned = time.time(), 0.0, 0.0
        for i, stage in enumerate(todo, 1):
            work_dir = osp.join(self.work_dir, stage.name)
            marker = osp.join(work_dir, 'stage.json')
            if osp.exists(marker):
                with open(marker) as f:
                    self.done[stage.name] = json.load(f)
                self.log(f'[{i}/{len(todo)}] {stage.name}: done before, '
                         f'skipped ({marker})')
                continue
            self.log(f'[{i}/{len(todo)}] {stage.name}: {stage.task or "data"}'
                     f' ...')
            os.makedirs(work_dir, exist_ok=True)
            t = time.time()
            result = self._make_data() if stage.kind == 'data' else \
                self._train(stage, work_dir)
            result.update(name=stage.name, seconds=time.time() - t)
            with open(marker, 'w') as f:
                json.dump(result, f, indent=1)
            self.done[stage.name] = result
            spent += result['seconds']
            planned += stage.estimate
            rest = sum(s.estimate for s in todo[i:]) * spent / planned
            metrics = ', '.join(f'{k} {v:.1f}' for k, v in result.get(
                'metrics', {}).items() if v is not None)
            self.log(f'[{i}/{len(todo)}] {stage.name}: done in '
                     f'{result["seconds"]:.1f} s{"; " + metrics if metrics else ""}'
                     f' (elapsed {_hms(time.time() - t0)}, ETA {_hms(rest)})')
        return self.done


def _hms(seconds: float) -> str:
    seconds = int(round(seconds))
    return f'{seconds // 60}:{seconds % 60:02d}'


def seg_chance_miou(ade_root: str) -> float:
    """Expected mIoU (%) of uniformly random labels on the validation set."""
    from PIL import Image
    import glob
    counts = np.zeros(len(CLASSES))
    for path in glob.glob(osp.join(ade_root, 'annotations', 'validation',
                                   '*.png')):
        label = np.asarray(Image.open(path)).astype(int) - 1  # reduce zero
        counts += np.bincount(label[label >= 0], minlength=len(CLASSES))
    n, k = counts.sum(), len(CLASSES)
    present = counts > 0
    iou = (counts / k) / (counts + n / k - counts / k)
    return float(100 * iou[present].mean())


def demo_rows(done: Dict[str, dict], data: Dict[str, str],
              gpus: int = 8) -> List[dict]:
    """Table rows of a demo run, then the paper's rows with their commands."""
    chance = {'top-1': 100.0 / len(CLASSES), 'box AP': 0.0, 'mask AP': 0.0,
              'mIoU': seg_chance_miou(data['seg'])
              if osp.isdir(data['seg']) else None}
    rows = []
    for stage in DEMO_STAGES:
        if stage.kind in ('data', 'pretrain') or stage.name not in done:
            continue
        for metric in stage.metrics:
            rows.append(dict(
                method='A2MIM', backbone=stage.backbone, task=stage.task,
                metric=metric, ours=done[stage.name]['metrics'].get(metric),
                chance=chance[metric], paper=None, scale='demo (CPU)',
                config=stage.config))
    for row in paper_rows(gpus=gpus):
        rows.append(row)
    return rows


def paper_rows(work_dir: Optional[str] = None, gpus: int = 8) -> List[dict]:
    """The paper's rows: our value if a full run is in ``work_dir``, and the
    command that produces it."""
    rows = []
    for method, backbone, task, metric, value, source, config in paper.ROWS:
        stage = full_stage_name(config)
        ours = None
        if work_dir is not None:
            key, scale = paper.METRIC_KEYS[metric]
            v = last_metric(osp.join(work_dir, stage), key)
            ours = None if v is None else v * scale
        rows.append(dict(
            method=method, backbone=backbone, task=task, metric=metric,
            ours=ours, chance=None, paper=value, scale='full',
            config=config, command=full_command(config, source, gpus)))
    return rows


def full_stage_name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


def final_checkpoint(config: str) -> str:
    """Where the pre-training ``config`` writes its last checkpoint."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    return osp.join('work_dirs', full_stage_name(config),
                    f'epoch_{cfg.train_cfg.max_epochs}.pth')


def full_command(config: str, source: Optional[str], gpus: int = 8,
                 work_root: str = 'work_dirs') -> str:
    """The dist_train.sh command of a full-scale stage."""
    env = ''
    if source is not None:
        env = f'PRETRAINED={final_checkpoint(paper.PRETRAIN[source])} '
    return (f'{env}tools/dist_train.sh {config} {gpus} --work-dir '
            f'{work_root}/{full_stage_name(config)}')


def write_outputs(rows: List[dict], out_dir: str, title: str) -> Dict[str, str]:
    md = osp.join(out_dir, 'results.md')
    csv = osp.join(out_dir, 'results.csv')
    write_table(rows, md, csv, title=title)
    return dict(markdown=md, csv=csv)
