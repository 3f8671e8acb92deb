"""Print which weights a pre-trained checkpoint provides to a config's model.

    python tools/check_pretrained.py CONFIG [CHECKPOINT] [--cfg-options ...]

For every module of the model with ``init_cfg=dict(type='Pretrained', ...)``
(usually the backbone; CHECKPOINT replaces its checkpoint), lists the keys
that load, are missing, unexpected, or differ in shape, after the module's
own load hooks. Exits with 1 when a weight would stay random, 2 when a
checkpoint does not exist (naming the environment variable, e.g.
``PRETRAINED``, whose unset default the path is).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from _mim_plugins_cli import quiet_upstream_warnings  # noqa: E402

quiet_upstream_warnings()

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import MODELS, init_default_scope  # noqa: E402

import mim_plugins  # noqa: E402,F401
from mim_plugins.engine.pretrained_check import (  # noqa: E402
    analyse_pretrained, missing_checkpoint, pretrained_inits)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?',
                        help='use this checkpoint instead of the config\'s')
    parser.add_argument('--allow-missing', nargs='*', default=[],
                        help='regexes of keys that may be new')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = MODELS.build(cfg.model)
    inits = pretrained_inits(model)
    if not inits:
        print('No module of this model has a Pretrained init_cfg.')
        return 1
    for name, module, init in inits:
        ckpt = args.checkpoint or init.get('checkpoint')
        error = missing_checkpoint(
            ckpt, None if args.checkpoint else cfg, name or 'model',
            f'python tools/check_pretrained.py {args.config}',
            'or pass PATH as CHECKPOINT')
        if error:
            print(f'error: {error}', file=sys.stderr)
            return 2
    status = 0
    for name, module, init in inits:
        ckpt = args.checkpoint or init.get('checkpoint')
        report = analyse_pretrained(module, ckpt, init.get('prefix', ''))
        print(report.format(name or 'model'))
        bad = report.problems(args.allow_missing)
        print(f'  -> {"OK" if not bad else f"{len(bad)} weights stay random"}')
        status |= bool(bad)
    return int(status)


if __name__ == '__main__':
    sys.exit(main())
