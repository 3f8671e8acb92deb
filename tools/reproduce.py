"""From pre-training to the benchmark table, in one command.

    python tools/reproduce.py                       # the demo (CPU, ~12 min)
    python tools/reproduce.py --only 'cls-vit-*'    # some stages (+ inputs)
    python tools/reproduce.py --preset paper --gpus 8 [--launch] \\
        --imagenet data/imagenet --coco data/coco/ --ade data/ade/ADEChallengeData2016 \\
        [--pretrained a2mim-vit-b=a2mim_vit_base_800ep.pth ...]

demo: a controlled experiment on a generated world (shape-and-texture
classes; COCO- and ADE20K-format scenes): tiny ResNet and ViT pre-trained
with SimMIM and A2MIM on unlabelled images, then k-NN probe, fine-tuned
classifiers, UperNet and Mask R-CNN from those checkpoints and from random
weights, with the same recipe, budget and lr search, over seeds. Writes
results.md / results.csv, then the paper's rows and their commands.
Finished stages are skipped, a killed one resumes from its checkpoint.

paper: writes commands.sh (and slurm_commands.sh) with the full-scale
pre-trainings and transfers of the benchmark table on GPUS GPUs per job;
--launch runs them one after another through tools/dist_train.sh, each
resuming if it was interrupted. --pretrained NAME=PATH imports a published
checkpoint for the pre-training NAME (tools/model_converters/
import_checkpoint.py) and starts its transfers from it instead.
"""
import argparse
import os
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
from mim_plugins.reproduce.figures import (  # noqa: E402
    plot_demo_table, save_method_reconstructions)
from mim_plugins.reproduce.full import run_paper  # noqa: E402
from mim_plugins.reproduce.runner import (DemoRunner, demo_rows,  # noqa: E402
                                          write_outputs)


def run_demo(args) -> int:
    t0 = time.time()
    runner = DemoRunner(args.work_dir, scale=args.scale, jobs=args.jobs)
    done = runner.run(only=args.only)
    rows = demo_rows(runner, gpus=args.gpus)
    out = write_outputs(rows, args.work_dir,
                        'Benchmark: demo on generated data, and the paper')
    figures = args.figures_dir or (
        osp.join(ROOT, 'docs', 'images') if args.scale == 'demo'
        and not args.only else osp.join(args.work_dir, 'figures'))
    os.makedirs(figures, exist_ok=True)
    plots = dict(table=plot_demo_table(
        rows, osp.join(figures, 'demo_results.png')))
    plots.update(save_method_reconstructions(
        args.work_dir, done, osp.join(runner.data['cls'], 'val'), figures))
    print(open(out['markdown']).read())
    print(f'Finished in {(time.time() - t0) / 60:.1f} min. Written:')
    print(f'  table       {out["markdown"]}, {out["csv"]}')
    for key, path in plots.items():
        print(f'  figure      {key}: {path}')
    for name, result in done.items():
        if name.startswith('pretrain'):
            for key, path in result.get('pictures', {}).items():
                print(f'  {name:24s}{key} {path}')
    return 0


def _name_path(text: str):
    if '=' not in text:
        raise argparse.ArgumentTypeError(f'{text!r}: use NAME=PATH')
    return tuple(text.split('=', 1))


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
    parser.add_argument('--only', nargs='+', metavar='PATTERN',
                        help='demo: stages matching these shell patterns '
                        "(e.g. 'seg-vit-*'), with the stages they need")
    parser.add_argument('--jobs', type=int, default=None,
                        help='demo: stages at once (default: 2)')
    parser.add_argument('--figures-dir', default=None,
                        help='demo: where the table figure and the '
                        'reconstruction grids go (default: docs/images for '
                        'the whole demo, else WORK_DIR/figures)')
    parser.add_argument('--gpus', type=int, default=8)
    parser.add_argument('--launch', action='store_true',
                        help='paper: run the jobs, not only write them')
    parser.add_argument('--imagenet')
    parser.add_argument('--coco')
    parser.add_argument('--ade')
    parser.add_argument('--pretrained', nargs='+', type=_name_path,
                        metavar='NAME=PATH',
                        help='paper: published weights for these '
                        'pre-trainings (names: see paper.py PRETRAINS)')
    args = parser.parse_args(argv)
    if args.work_dir is None:
        args.work_dir = osp.join('work_dirs', 'reproduce', args.preset)
    return run_paper(args) if args.preset == 'paper' else run_demo(args)


if __name__ == '__main__':
    sys.exit(main())
