"""The paper preset: the full-scale jobs of the benchmark table, as shell
and slurm commands (and, with ``launch``, run one after another)."""
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

from . import paper
from ..utils import mim_path, shown_path
from .runner import full_command, paper_rows, write_outputs


def data_options(config: str, imagenet: Optional[str] = None,
                 coco: Optional[str] = None,
                 ade: Optional[str] = None) -> str:
    """--cfg-options pointing a full config at the user's data roots."""
    if '/classification/' in config or '/pretrain/' in config:
        keys = ['train_dataloader.dataset.data_root']
        if '/classification/' in config:
            keys += ['val_dataloader.dataset.data_root',
                     'test_dataloader.dataset.data_root']
        return ' '.join(f'{k}={imagenet}' for k in keys) if imagenet else ''
    if '/detection/' in config and coco:
        train = 'train_dataloader.dataset.dataset.data_root' \
            if 'lsj' in config else 'train_dataloader.dataset.data_root'
        ann = osp.join(coco, 'annotations', 'instances_val2017.json')
        return (f'{train}={coco} val_dataloader.dataset.data_root='
                f'{coco} test_dataloader.dataset.data_root={coco} '
                f'val_evaluator.ann_file={ann} test_evaluator.ann_file={ann}')
    if '/segmentation/' in config and ade:
        return ' '.join(f'{k}_dataloader.dataset.data_root={ade}'
                        for k in ('train', 'val', 'test'))
    return ''


def import_pretrained(pretrained: Dict[str, str],
                      work_dir: str) -> Dict[str, str]:
    """Published checkpoints standing in for pre-trainings of the table:
    ``{pre-training name: file}`` -> ``{name: imported mmengine
    checkpoint}`` (converted with :mod:`mim_plugins.checkpoints`, loaded
    strictly into the backbone it names)."""
    from ..checkpoints import import_checkpoint
    unknown = sorted(set(pretrained) - set(paper.PRETRAIN))
    if unknown:
        raise ValueError(f'--pretrained {unknown}: no such pre-training; the '
                         'pre-trainings are: ' + ', '.join(paper.PRETRAIN))
    out = {}
    for name, src in pretrained.items():
        if not osp.isfile(src):
            raise FileNotFoundError(f'--pretrained {name}={src}: no such file')
        dst = osp.join(work_dir, 'imported', f'{name}.pth')
        os.makedirs(osp.dirname(dst), exist_ok=True)
        result = import_checkpoint(src, dst)
        print(f'{name}: {src} ({result.format}) -> {result.path}')
        out[name] = result.path
    return out


def paper_jobs(args, pretrained: Optional[Dict[str, str]] = None
               ) -> List[Tuple[str, str, str]]:
    """(name, config, command) of every full-scale job, in order: each
    distinct job once, in its own work dir (``paper.jobs`` checks both).
    Pre-trainings given in ``pretrained`` ({name: checkpoint}) are not run;
    their transfers start from that checkpoint."""
    pretrained = pretrained or {}
    out = []
    for name, config, source in paper.jobs():
        if source is None and any(paper.PRETRAIN[k] == config
                                  for k in pretrained):
            continue
        cmd = full_command(config, source, args.gpus)
        if source in pretrained:
            cmd = f'PRETRAINED={pretrained[source]} ' + cmd.split(' ', 1)[1]
        opts = data_options(config, getattr(args, 'imagenet', None),
                            getattr(args, 'coco', None),
                            getattr(args, 'ade', None))
        out.append((name, config, cmd + (f' --cfg-options {opts}'
                                         if opts else '')))
    return out


def run_paper(args) -> int:
    """Write commands.sh and slurm_commands.sh; with ``args.launch`` run the
    jobs and write the table."""
    os.makedirs(args.work_dir, exist_ok=True)
    pretrained = import_pretrained(dict(args.pretrained or []),
                                   args.work_dir)
    jobs = paper_jobs(args, pretrained)
    sh = osp.join(args.work_dir, 'commands.sh')
    with open(sh, 'w') as f:
        f.write('#!/usr/bin/env bash\nset -e\n# ' + ' '.join(sys.argv) + '\n')
        f.writelines(cmd + ' --resume\n' for _, _, cmd in jobs)
    slurm = osp.join(args.work_dir, 'slurm_commands.sh')
    with open(slurm, 'w') as f:
        f.write('#!/usr/bin/env bash\n# PARTITION=... bash slurm_commands.sh\n')
        tool = shown_path(mim_path('tools', 'slurm_train.sh'))
        for name, config, cmd in jobs:
            env = cmd.split(shown_path(mim_path('tools', 'dist_train.sh')))[0]
            f.write(f'{env}GPUS={args.gpus} {tool} $PARTITION {name} '
                    f'{shown_path(mim_path(config))} work_dirs/{name} '
                    f'--resume\n')
    print(f'{len(jobs)} jobs written to {sh} and {slurm}')
    if not args.launch:
        for _, _, cmd in jobs:
            print(cmd)
        return 0
    t0 = time.time()
    for i, (name, config, cmd) in enumerate(jobs, 1):
        print(f'[{i}/{len(jobs)}] {name} (elapsed '
              f'{(time.time() - t0) / 3600:.1f} h)', flush=True)
        subprocess.run(cmd + ' --resume', shell=True, check=True)
    rows = paper_rows('work_dirs', gpus=args.gpus)
    out = write_outputs(rows, args.work_dir, 'Benchmark (full scale)')
    print(open(out['markdown']).read())
    return 0
