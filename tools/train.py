"""Train a model from a config, as mmpretrain's tools/train.py does.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]]
        [--lr-factor F] [--amp] [--auto-scale-lr] [--cfg-options k=v ...]
        [--launcher pytorch|slurm]

``--resume`` without a path continues from the newest intact checkpoint of
the work dir (MIMRunner); ``--lr-factor`` lowers the resumed learning rate.

On a machine without CUDA, SyncBN, AMP and the NCCL backend are replaced by
their CPU equivalents with a warning (see mim_plugins.engine.device).

A config with a ``strategy`` (sharded training, e.g. FSDP) needs a
FlexibleRunner (``runner_type = 'MIMFlexibleRunner'``) and a launcher;
mmengine's ``FSDPStrategy`` runs as ``MIMFSDPStrategy``, which also shards on
the CPU (see mim_plugins.engine.strategies, docs/usage.md).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from _mim_plugins_cli import quiet_upstream_warnings  # noqa: E402

quiet_upstream_warnings()

from mmengine.config import Config, DictAction  # noqa: E402

import mim_plugins  # noqa: E402,F401  registers modules, safe checkpoint load
from mim_plugins.apis import build_runner, close_distributed  # noqa: E402,F401
from mim_plugins.engine import adapt_cfg_to_device  # noqa: E402
from mim_plugins.engine.strategies import prepare_strategy_cfg  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir if no checkpoint is given')
    parser.add_argument(
        '--lr-factor', type=float,
        help='with --resume: multiply the resumed learning rates (optimizer '
        'and schedule) by this factor, e.g. 0.5 after a divergence')
    parser.add_argument('--amp', action='store_true',
                        help='enable automatic mixed precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr with the total batch size')
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


def merge_args(cfg: Config, args) -> Config:
    """Apply the command-line options to ``cfg``."""
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.lr_factor is not None:
        if args.resume is None:
            raise SystemExit('--lr-factor scales the learning rates of a '
                             'resumed run: add --resume.')
        cfg.resume_lr_factor = args.lr_factor
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    try:
        prepare_strategy_cfg(cfg, args.launcher)
    except ValueError as e:
        raise SystemExit(f'{args.config}: {e}') from e
    adapt_cfg_to_device(cfg, args.launcher)
    runner = build_runner(cfg)
    runner.train()
    close_distributed()
    return runner


if __name__ == '__main__':
    main()
