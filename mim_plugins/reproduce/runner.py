"""The demo's runner (stages in parallel worker processes, each resumable)
and the benchmark table: the demo's rows, then the paper's rows with the
commands that reproduce them at full scale."""
import json
import multiprocessing
import os
import os.path as osp
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from fnmatch import fnmatch
from typing import Dict, List, Optional

import numpy as np
from mmengine.config import Config

from ..utils import mim_path, shown_path
from . import demo, paper
from .results import last_metric, write_table
from .synthetic import CLASSES


class DemoRunner:
    """Run the demo's stages (:func:`mim_plugins.reproduce.demo.plan`),
    ``jobs`` at a time in worker processes, skipping those already done.

    Args:
        work_dir (str): One folder per stage under it.
        scale (str): 'demo' (the README's table) or 'test' (a few
            iterations of every stage). Defaults to 'demo'.
        jobs (int, optional): Stages run at once, each with
            ``cores // jobs`` threads. Defaults to 2 (1 on one core).
        data_root (str, optional): Where the generated data go. Defaults to
            ``work_dir/data``.
        log (callable): Progress lines. Defaults to print.
    """

    def __init__(self, work_dir: str, scale: str = 'demo',
                 jobs: Optional[int] = None, data_root: Optional[str] = None,
                 log=print) -> None:
        self.work_dir = work_dir
        self.scale = scale
        cores = os.cpu_count() or 1
        self.jobs = max(1, jobs or min(2, cores))
        self.threads = max(1, cores // self.jobs)
        self.data_root = data_root or osp.join(work_dir, 'data')
        self.log = log
        self.stages = {st.name: st for st in demo.plan(scale)}
        self.done: Dict[str, dict] = {}

    @property
    def data(self) -> Dict[str, str]:
        return demo.data_dirs(self.data_root)

    def select(self, only: Optional[List[str]] = None) -> List[demo.Stage]:
        """The stages matching the ``only`` patterns (shell-style; all by
        default) and every stage they depend on, in plan order."""
        names = list(self.stages)
        if not only:
            return list(self.stages.values())
        wanted = {n for n in names if any(fnmatch(n, p) for p in only)}
        if not wanted:
            raise ValueError(f'No demo stage matches {only}; the stages are: '
                             + ', '.join(names))
        todo = list(wanted)
        while todo:
            for dep in self.stages[todo.pop()].deps:
                if dep not in wanted:
                    wanted.add(dep)
                    todo.append(dep)
        return [self.stages[n] for n in names if n in wanted]

    def _prepare(self, stage: demo.Stage) -> str:
        """Write the stage's config and spec; returns its work dir."""
        stage_dir = osp.join(self.work_dir, stage.name)
        os.makedirs(stage_dir, exist_ok=True)
        marker = osp.join(stage_dir, 'stage.json')
        if osp.exists(marker):  # a stale record: not done until rerun
            os.remove(marker)
        cfg, lr = demo.stage_config(stage, self.scale, self.data_root,
                                    self.done)
        cfg.dump(osp.join(stage_dir, 'config.py'))
        keys = {m: paper.METRIC_KEYS[m] for m in stage.metrics}
        if stage.kind in ('pretrain', 'knn'):
            keys = {'top-1': ('knn/top1', 1.0)}
        title = demo.TASKS[stage.kind][0] if stage.kind in demo.TASKS \
            else f'{stage.init} pre-training'
        spec = dict(name=stage.name, kind=stage.kind, lr=lr, seed=stage.seed,
                    metric_keys=keys, title=title,
                    vis_images=osp.join(self.data['cls'], 'val'))
        with open(osp.join(stage_dir, 'spec.json'), 'w') as f:
            json.dump(spec, f, indent=1)
        return stage_dir

    def _load_done(self, stage: demo.Stage, then: str = 'it runs again'
                   ) -> bool:
        """Whether ``stage`` is done (then its result is in ``self.done``):
        its record and every output the record names are there and intact.
        A stage whose outputs are missing or damaged is not (a warning)."""
        from .stage import finished
        result, problem = finished(osp.join(self.work_dir, stage.name))
        if problem:
            self.log(f'WARNING {stage.name}: {problem}; {then}')
        if result is None:
            self.done.pop(stage.name, None)
            return False
        self.done[stage.name] = result
        return True

    def _finish(self, stage: demo.Stage, result: dict) -> None:
        stage_dir = osp.join(self.work_dir, stage.name)
        os.makedirs(stage_dir, exist_ok=True)
        tmp = osp.join(stage_dir, 'stage.json.part')
        with open(tmp, 'w') as f:
            json.dump(result, f, indent=1)
        os.replace(tmp, osp.join(stage_dir, 'stage.json'))
        self.done[stage.name] = result

    def load(self) -> Dict[str, dict]:
        """The results of every finished stage in the work dir."""
        for st in self.stages.values():
            self._load_done(st, then='left out')
        return self.done

    def run(self, only: Optional[List[str]] = None) -> Dict[str, dict]:
        """Run the selected stages (and what they need) that are not done."""
        pending = []
        for st in self.select(only):
            if self._load_done(st):
                self.log(f'{st.name}: done before, skipped')
            else:
                pending.append(st)
        self.log(f'{len(pending)} stages to run, {self.jobs} at a time '
                 f'({self.threads} threads each)')
        if pending:
            self._run(pending)
        return self.done

    def _run(self, pending: List[demo.Stage]) -> None:
        from .stage import init_worker, run_stage
        total = sum(st.cost for st in pending)
        t0, spent = time.time(), 0.0
        old_omp = os.environ.get('OMP_NUM_THREADS')
        os.environ['OMP_NUM_THREADS'] = str(self.threads)
        pool = ProcessPoolExecutor(
            self.jobs, mp_context=multiprocessing.get_context('spawn'),
            initializer=init_worker, initargs=(self.threads, ))
        running = {}
        try:
            while pending or running:
                ready = [st for st in pending
                         if all(d in self.done for d in st.deps)]
                if not ready and not running:
                    raise RuntimeError(
                        'demo stages wait on stages that are not selected: '
                        + ', '.join(st.name for st in pending))
                # the longest first: pre-trainings unblock most of the rest
                ready.sort(key=lambda st: -st.cost)
                requeued = False
                for st in ready[:self.jobs - len(running)]:
                    # an input gone since it was made: made again first
                    lost = [self.stages[d] for d in st.deps
                            if d not in self.done or not self._load_done(
                                self.stages[d], 'it runs again first')]
                    for dep in lost:
                        if dep not in pending:
                            pending.append(dep)
                            total += dep.cost
                    if lost:
                        requeued = True
                        continue
                    pending.remove(st)
                    if st.kind == 'data':  # quick: here, not in a worker
                        t = time.time()
                        result = demo.make_data(self.data_root, self.scale)
                        result.update(name='data', seconds=time.time() - t)
                        self._finish(st, result)
                        spent += st.cost
                        continue
                    self.log(f'{st.name}: started')
                    running[pool.submit(run_stage, self._prepare(st))] = st
                if not running or requeued:
                    continue
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    st = running.pop(fut)
                    try:
                        result = fut.result()
                    except Exception as e:
                        log = osp.join(self.work_dir, st.name, 'stdout.log')
                        raise RuntimeError(
                            f'demo stage {st.name} failed: {e!r}. Its log: '
                            f'{log}. Run the same command again to resume '
                            'it; finished stages are kept.') from e
                    self._finish(st, result)
                    spent += st.cost
                    elapsed = time.time() - t0
                    eta = elapsed * (total - spent) / max(spent, 1e-6)
                    metrics = ', '.join(
                        f'{k} {v:.1f}' for k, v in result.get(
                            'metrics', {}).items() if v is not None)
                    self.log(f'{st.name}: done in {result["seconds"]:.0f} s'
                             f'{"; " + metrics if metrics else ""} (elapsed '
                             f'{_hms(elapsed)}, ETA {_hms(eta)})')
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if old_omp is None:
                os.environ.pop('OMP_NUM_THREADS', None)
            else:
                os.environ['OMP_NUM_THREADS'] = old_omp


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


def _stats(values: List[Optional[float]]):
    values = [v for v in values if v is not None]
    if not values:
        return None, None, 0
    mean = float(np.mean(values))
    std = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return mean, std, len(values)


def demo_values(runner: DemoRunner, task: str, backbone: str, init: str,
                metric: str):
    """The values over seeds of one (task, backbone, init) cell of the
    table, and the learning rate they were trained with (the best of the
    seed-0 search, on the task's first metric)."""
    done, stages = runner.done, runner.stages
    if task == 'knn':
        names = [n for n, st in stages.items() if st.kind == 'knn' and
                 st.backbone == backbone] if init == 'scratch' else [
                     demo.pretrain_name(init, backbone)]
        return [done[n]['metrics'].get(metric) for n in names
                if n in done], None
    group = [st for st in stages.values() if st.kind == task and
             st.backbone == backbone and st.init == init]
    search = [st.name for st in group if st.lr is not None]
    if not search or not all(n in done for n in search):
        return [], None
    lr = demo.pick_lr(search, done, demo.TASKS[task][1][0])
    runs = [done[st.name] for st in group if st.name in done
            and done[st.name].get('lr') == lr]
    return [r['metrics'].get(metric) for r in runs], lr


def demo_rows(runner: DemoRunner, gpus: int = 8) -> List[dict]:
    """The demo's rows (per init: mean and spread over seeds, the difference
    to scratch), then the paper's rows with their commands."""
    data = runner.data
    chance = {'top-1': 100.0 / len(CLASSES), 'box AP': 0.0, 'mask AP': 0.0,
              'mIoU': seg_chance_miou(data['seg'])
              if osp.isdir(data['seg']) else None}
    rows = []
    for task, (label, metrics, backbones) in demo.TASKS.items():
        for backbone in backbones:
            for metric in metrics:
                scratch = None
                for init in demo.INITS:
                    # k-NN: the pre-training (A2MIM's model for scratch)
                    config = demo.PRETRAIN_CONFIGS[(
                        'A2MIM' if init == 'scratch' else init, backbone)] \
                        if task == 'knn' else demo.DOWNSTREAM_CONFIGS[(
                            task, backbone)]
                    values, lr = demo_values(runner, task, backbone, init,
                                             metric)
                    mean, std, n = _stats(values)
                    if init == 'scratch':
                        scratch = mean
                    rows.append(dict(
                        method=init, backbone=demo.BACKBONES[backbone],
                        task=label, metric=metric, ours=mean, std=std,
                        seeds=n or None,
                        vs_scratch=None if init == 'scratch' or None in (
                            mean, scratch) else mean - scratch,
                        lr=None if lr is None else f'{lr:g}',
                        chance=chance[metric], paper=None,
                        scale='demo (CPU)', config=config))
    return rows + paper_rows(gpus=gpus)


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
    cfg = Config.fromfile(mim_path(config))
    return osp.join('work_dirs', full_stage_name(config),
                    f'epoch_{cfg.train_cfg.max_epochs}.pth')


def pretrained_env(source: Optional[str]) -> str:
    """``PRETRAINED=<checkpoint> `` of a transfer from the pre-training
    ``source`` ('' for a pre-training)."""
    if source is None:
        return ''
    return f'PRETRAINED={final_checkpoint(paper.PRETRAIN[source])} '


def full_command(config: str, source: Optional[str], gpus: int = 8,
                 work_root: str = 'work_dirs') -> str:
    """The dist_train.sh command of a full-scale stage, with the tool and
    config of the installed package (relative to the working directory in a
    source checkout: ``tools/dist_train.sh configs/...``)."""
    tool = shown_path(mim_path('tools', 'dist_train.sh'))
    return (f'{pretrained_env(source)}{tool} {shown_path(mim_path(config))} '
            f'{gpus} --work-dir {work_root}/{full_stage_name(config)}')


def write_outputs(rows: List[dict], out_dir: str, title: str) -> Dict[str, str]:
    md = osp.join(out_dir, 'results.md')
    csv = osp.join(out_dir, 'results.csv')
    write_table(rows, md, csv, title=title)
    return dict(markdown=md, csv=csv)
