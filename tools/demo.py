"""The embedded default: a short A2MIM pre-training of a CNN and a ViT.

    python tools/demo.py [--iters 1000] [--work-dir work_dirs/demo]

Generates a small synthetic image folder (data/demo), pre-trains the tiny
A2MIM ResNet and ViT configs on it with a real mmengine Runner on the CPU,
and writes for each a checkpoint and a PNG grid of masked input /
reconstruction / target (+ frequency error). Re-running resumes finished or
interrupted runs from their checkpoints.
"""
import argparse
import os.path as osp
import sys
import time

from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
from mim_plugins.datasets import make_classification_folder  # noqa: E402

RUNS = {
    'a2mim_resnet': 'configs/pretrain/a2mim/a2mim_resnet-tiny_1xb16-20i_demo.py',
    'a2mim_vit': 'configs/pretrain/a2mim/a2mim_vit-tiny_1xb16-20i_demo.py',
}


def set_iters(cfg: Config, iters: int) -> Config:
    """Stretch an iteration-based tiny config to ``iters`` iterations."""
    old = cfg.train_cfg.max_iters
    scale = iters / old
    cfg.train_cfg.max_iters = iters
    for sched in cfg.param_scheduler:
        for key in ('begin', 'end'):
            if key in sched:
                sched[key] = int(round(sched[key] * scale))
        if 'milestones' in sched:
            sched['milestones'] = [int(round(m * scale))
                                   for m in sched['milestones']]
    cfg.default_hooks.checkpoint.interval = max(iters // 2, 1)
    cfg.default_hooks.logger.interval = max(iters // 10, 1)
    return cfg


def run_one(name: str, config: str, args) -> dict:
    import tools.train as train
    work_dir = osp.join(args.work_dir, name)
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.train_dataloader.dataset.data_root = args.data_root
    set_iters(cfg, args.iters)
    cfg.work_dir = work_dir
    cfg.resume = True  # continue or skip a run already (partly) done
    cfg.launcher = 'none'
    train.adapt_cfg_to_device(cfg)
    ckpt = osp.join(work_dir, f'iter_{args.iters}.pth')
    t0 = time.time()
    if not osp.exists(ckpt):
        train.build_runner(cfg).train()
    from tools.visualize_reconstruction import main as vis_main
    png = osp.join(work_dir, 'reconstruction.png')
    cfg_path = osp.join(work_dir, 'demo_config.py')
    cfg.dump(cfg_path)
    vis_main([cfg_path, ckpt, osp.join(args.data_root, 'val'), '--out', png,
              '--num', '4'])
    return dict(name=name, checkpoint=ckpt, png=png,
                seconds=time.time() - t0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--iters', type=int, default=1000)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/demo')
    parser.add_argument('--only', choices=list(RUNS), nargs='*')
    args = parser.parse_args(argv)
    make_classification_folder(args.data_root, num_train=64, num_val=8,
                               size=64, seed=0)
    results = [run_one(n, c, args) for n, c in RUNS.items()
               if not args.only or n in args.only]
    print('\nA2MIM demo finished:')
    for r in results:
        print(f"  {r['name']:13s} {r['seconds']:6.1f} s  checkpoint "
              f"{r['checkpoint']}\n{'':23s}picture    {r['png']}")
    return results


if __name__ == '__main__':
    main()
