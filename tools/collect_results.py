"""Write the benchmark table (Markdown + CSV) from finished work dirs.

    python tools/collect_results.py work_dirs/reproduce/demo        # a demo run
    python tools/collect_results.py work_dirs --preset paper        # full runs

Reads mmengine's scalar logs of each stage, so it works the same on the demo
and on full-scale runs; paper numbers come from mim_plugins/reproduce/paper.py.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from _mim_plugins_cli import quiet_upstream_warnings  # noqa: E402

quiet_upstream_warnings()
from mim_plugins.reproduce.runner import (DemoRunner, demo_rows,  # noqa: E402
                                          paper_rows, write_outputs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir')
    parser.add_argument('--preset', choices=['demo', 'paper'], default='demo')
    parser.add_argument('--gpus', type=int, default=8)
    args = parser.parse_args(argv)
    if args.preset == 'demo':
        runner = DemoRunner(args.work_dir)
        runner.load()
        rows = demo_rows(runner, gpus=args.gpus)
        title = 'Benchmark: demo on generated data, and the paper'
    else:
        rows = paper_rows(args.work_dir, gpus=args.gpus)
        title = 'Benchmark (full scale)'
    out = write_outputs(rows, args.work_dir, title)
    print(open(out['markdown']).read())
    return 0


if __name__ == '__main__':
    sys.exit(main())
