"""Evaluate a checkpoint with a config's test loop, as mmpretrain's tools/test.py.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE]
        [--cfg-options k=v ...] [--launcher pytorch|slurm]
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from _mim_plugins_cli import quiet_upstream_warnings  # noqa: E402

quiet_upstream_warnings()

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mim_plugins  # noqa: E402,F401
from mim_plugins.apis import close_distributed  # noqa: E402
from mim_plugins.engine import adapt_cfg_to_device  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument('--out', help='dump the metrics to this json/pkl file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value (xxx=yyy format)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'Checkpoint {args.checkpoint} does not exist.')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    adapt_cfg_to_device(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    from mmengine.dist import is_main_process
    if args.out and is_main_process():
        from mmengine.fileio import dump
        dump(metrics, args.out)
    close_distributed()
    return metrics


if __name__ == '__main__':
    main()
