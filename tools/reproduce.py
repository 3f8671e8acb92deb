"""From pre-training to the benchmark table, in one command.

    python tools/reproduce.py                       # the demo (CPU, ~8 min)
    python tools/reproduce.py --only cls-vit        # one stage (+ its inputs)
    python tools/reproduce.py --from det-resnet     # that stage and the rest
    python tools/reproduce.py --preset paper --gpus 8 [--launch] \\
        --imagenet data/imagenet --coco data/coco/ --ade data/ade/ADEChallengeData2016

demo: generates a synthetic world (shape-and-texture classes,
COCO-format instances, ADE20K-format semantic labels), pre-trains tiny
A2MIM ResNet and ViT,
fine-tunes classifiers, trains Mask R-CNN and UperNet from the same
checkpoints, evaluates each and writes results.md / results.csv beside the
paper's rows and their commands. Finished stages are skipped, a killed one
resumes from its checkpoint.

paper: writes commands.sh (and slurm_commands.sh) with the full-scale
pre-trainings and transfers of the benchmark table on GPUS GPUs per job;
--launch runs them one after another through tools/dist_train.sh, each
resuming if it was interrupted.
"""
import argparse
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
from mim_plugins.reproduce import paper  # noqa: E402
from mim_plugins.reproduce.runner import (DemoRunner, demo_rows,  # noqa: E402
                                          full_command, paper_rows,
                                          stage_names,
                                          write_outputs)


def data_options(config: str, args) -> str:
    """--cfg-options pointing a full config at the user's data roots."""
    if '/classification/' in config or '/pretrain/' in config:
        root = args.imagenet
        keys = ['train_dataloader.dataset.data_root']
        if '/classification/' in config:
            keys += ['val_dataloader.dataset.data_root',
                     'test_dataloader.dataset.data_root']
        return ' '.join(f'{k}={root}' for k in keys) if root else ''
    if '/detection/' in config and args.coco:
        train = 'train_dataloader.dataset.dataset.data_root' \
            if 'lsj' in config else 'train_dataloader.dataset.data_root'
        ann = osp.join(args.coco, 'annotations', 'instances_val2017.json')
        return (f'{train}={args.coco} val_dataloader.dataset.data_root='
                f'{args.coco} test_dataloader.dataset.data_root={args.coco} '
                f'val_evaluator.ann_file={ann} test_evaluator.ann_file={ann}')
    if '/segmentation/' in config and args.ade:
        return ' '.join(f'{k}_dataloader.dataset.data_root={args.ade}'
                        for k in ('train', 'val', 'test'))
    return ''


def paper_jobs(args):
    """(name, config, command) of every full-scale job, in order."""
    # each distinct job once, in its own work dir (paper.jobs checks both)
    jobs = [(name, config, full_command(config, source, args.gpus))
            for name, config, source in paper.jobs()]
    out = []
    for name, config, cmd in jobs:
        opts = data_options(config, args)
        out.append((name, config, cmd + (f' --cfg-options {opts}'
                                         if opts else '')))
    return out


def run_paper(args) -> int:
    os.makedirs(args.work_dir, exist_ok=True)
    jobs = paper_jobs(args)
    sh = osp.join(args.work_dir, 'commands.sh')
    with open(sh, 'w') as f:
        f.write('#!/usr/bin/env bash\nset -e\n# ' + ' '.join(sys.argv) + '\n')
        f.writelines(cmd + ' --resume\n' for _, _, cmd in jobs)
    slurm = osp.join(args.work_dir, 'slurm_commands.sh')
    with open(slurm, 'w') as f:
        f.write('#!/usr/bin/env bash\n# PARTITION=... bash slurm_commands.sh\n')
        for name, config, cmd in jobs:
            env = cmd.split('tools/')[0]
            f.write(f'{env}GPUS={args.gpus} tools/slurm_train.sh '
                    f'$PARTITION {name} {config} work_dirs/{name} --resume\n')
    print(f'{len(jobs)} jobs written to {sh} and {slurm}')
    if not args.launch:
        for _, _, cmd in jobs:
            print(cmd)
        return 0
    t0 = time.time()
    for i, (name, config, cmd) in enumerate(jobs, 1):
        print(f'[{i}/{len(jobs)}] {name} (elapsed '
              f'{(time.time() - t0) / 3600:.1f} h)', flush=True)
        subprocess.run(cmd + ' --resume', shell=True, cwd=ROOT, check=True)
    rows = paper_rows('work_dirs', gpus=args.gpus)
    out = write_outputs(rows, args.work_dir, 'Benchmark (full scale)')
    print(open(out['markdown']).read())
    return 0


def run_demo(args) -> int:
    t0 = time.time()
    runner = DemoRunner(args.work_dir, scale=args.scale)
    done = runner.run(only=args.only, start=args.start)
    rows = demo_rows(done, runner.data, gpus=args.gpus)
    out = write_outputs(rows, args.work_dir,
                        'Benchmark: demo on generated data, and the paper')
    print(open(out['markdown']).read())
    print(f'Finished in {(time.time() - t0) / 60:.1f} min. Written:')
    print(f'  table       {out["markdown"]}, {out["csv"]}')
    for name, result in done.items():
        for key in ('checkpoint', ):
            if result.get(key):
                print(f'  {name:16s}{key} {result[key]}')
        for key, path in result.get('pictures', {}).items():
            print(f'  {name:16s}{key} {path}')
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 2)[2])
    parser.add_argument('--preset', choices=['demo', 'paper'], default='demo')
    parser.add_argument('--work-dir', default=None)
    parser.add_argument('--scale', choices=['demo', 'test'], default='demo',
                        help='demo: the README figures; test: a few '
                        'iterations per stage')
    parser.add_argument('--only', nargs='+', choices=stage_names())
    parser.add_argument('--from', dest='start', choices=stage_names())
    parser.add_argument('--gpus', type=int, default=8)
    parser.add_argument('--launch', action='store_true',
                        help='paper: run the jobs, not only write them')
    parser.add_argument('--imagenet')
    parser.add_argument('--coco')
    parser.add_argument('--ade')
    args = parser.parse_args(argv)
    if args.work_dir is None:
        args.work_dir = osp.join('work_dirs', 'reproduce', args.preset)
    return run_paper(args) if args.preset == 'paper' else run_demo(args)


if __name__ == '__main__':
    sys.exit(main())
