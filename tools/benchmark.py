"""Training-step speed of our pre-training recipes against mmpretrain's.

    python tools/benchmark.py [--device cpu|cuda] [--batch-size N] [--steps N]
        [--warmup N] [--precision fp32|bf16|fp16] [--channels-last]
        [--no-sdpa] [--with-cp] [--compile] [--no-flops] [--tiny]
        [--only NAME ...] [--out results.json]
    python tools/benchmark.py --cost CONFIG [CONFIG ...] [--gpus 8]
        [--mfu 0.4] [--gpu-name H100]

Prints a markdown table (step time, images/s, peak memory, loss and mask
generation shares, FLOPs, MFU, ratio to the reference recipes of the same
backbone) and writes every raw number to --out. With --cost, it estimates
instead what each full-scale CONFIG costs: training FLOPs per image counted
on its model, times the images of the run, over GPUS GPUs at an assumed
MFU (mim_plugins.benchmark.cost). The measurements live in the package
mim_plugins.benchmark; this script only parses the flags.
"""
import argparse
import os.path as osp
import sys
import warnings

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from _mim_plugins_cli import quiet_upstream_warnings  # noqa: E402

quiet_upstream_warnings()
from mim_plugins.benchmark import (ENTRIES, format_table,  # noqa: E402
                                   run_benchmark)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Training-step speed of the MIM pre-training recipes '
        'against mmpretrain\'s (see mim_plugins/benchmark/)')
    p.add_argument('--device', choices=['cpu', 'cuda'],
                   help='default: cuda if available')
    p.add_argument('--batch-size', type=int,
                   help='per step; default 64 on GPU, 2 on the CPU')
    p.add_argument('--steps', type=int,
                   help='timed steps; default 20 on GPU, 5 on the CPU')
    p.add_argument('--warmup', type=int,
                   help='untimed steps first; default 5 on GPU, 1 on the CPU')
    p.add_argument('--precision', choices=['fp32', 'bf16', 'fp16'],
                   help='fp32: OptimWrapper; bf16/fp16: AmpOptimWrapper of '
                   'that dtype (GPU); default bf16 on GPU, fp32 on the CPU')
    p.add_argument('--channels-last', action='store_true',
                   help='backbone channels_last=True where it takes it')
    p.add_argument('--no-sdpa', action='store_true',
                   help='backbone use_sdpa=False where it takes it')
    p.add_argument('--with-cp', action='store_true',
                   help='backbone with_cp=True (activation checkpointing) '
                   'where it takes it')
    p.add_argument('--compile', action='store_true',
                   help='torch.compile the model (its forward, in place; '
                   'the optimizer step stays eager); use --warmup >= 2')
    p.add_argument('--no-flops', action='store_true',
                   help='skip the FLOP count (and MFU)')
    p.add_argument('--only', nargs='+', metavar='NAME',
                   help=f'entries: {" ".join(e.name for e in ENTRIES)}')
    p.add_argument('--tiny', action='store_true',
                   help='tiny models at 64 px (our demo configs, shrunk '
                   'mmpretrain references)')
    p.add_argument('--threads', type=int,
                   help='torch CPU threads (default: torch\'s choice)')
    p.add_argument('--rounds', type=int, default=1,
                   help='run the entries this many times round-robin (every '
                   'other round reversed) and pool their steps: steadier on '
                   'a shared machine; use an even number')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', help='write all raw numbers as JSON here')
    p.add_argument('--cost', nargs='+', metavar='CONFIG',
                   help='estimate GPU hours of these full-scale configs')
    p.add_argument('--gpus', type=int, default=8,
                   help='with --cost: GPUs of the run (and of an '
                   'iteration-based recipe\'s batch); default 8')
    p.add_argument('--mfu', type=float, default=0.4,
                   help='with --cost: assumed model FLOPs utilisation')
    p.add_argument('--gpu-name', default='H100',
                   help='with --cost: the GPU whose bf16 peak is used')
    return p.parse_args(argv)


def cost_table(configs, gpus: int, mfu: float, gpu_name: str) -> str:
    """A markdown table of :func:`run_cost` for ``configs``."""
    from mim_plugins.benchmark.cost import run_cost
    lines = [f'| config | crop | train GFLOPs/img | images | hours on '
             f'{gpus} {gpu_name} | GPU hours |', '|---|---|---|---|---|---|']
    for config in configs:
        r = run_cost(config, gpus=gpus, mfu=mfu, device_name=gpu_name)
        name = osp.splitext(osp.basename(config))[0]
        lines.append(f"| `{name}` | {r['crop']} | "
                     f"{r['train_gflops_per_image']:.0f} | "
                     f"{r['images'] / 1e6:.0f}M | {r['wall_hours']:.0f} | "
                     f"{r['gpu_hours']:.0f} |")
    return '\n'.join(lines) + (f'\n\nAt an assumed MFU of {mfu:.0%} of the '
                               f'{gpu_name} bf16 dense peak.')


def main(argv=None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
    if args.cost:
        print(cost_table(args.cost, args.gpus, args.mfu, args.gpu_name))
        return 0
    results = run_benchmark(
        names=args.only, device=args.device, batch_size=args.batch_size,
        steps=args.steps, warmup=args.warmup, precision=args.precision,
        tiny=args.tiny, channels_last=args.channels_last,
        sdpa=not args.no_sdpa, with_cp=args.with_cp, compile=args.compile,
        flops=not args.no_flops, out=args.out, threads=args.threads,
        rounds=args.rounds, seed=args.seed)
    print(format_table(results))
    if args.out:
        print(f'\nraw numbers: {args.out}')
    failed = [r['name'] for r in results['entries'] if 'error' in r]
    if failed:
        print(f'failed entries: {failed} (tracebacks in the JSON)',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
