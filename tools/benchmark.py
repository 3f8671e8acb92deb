"""Training-step speed of our pre-training recipes against mmpretrain's.

    python tools/benchmark.py [--device cpu|cuda] [--batch-size N] [--steps N]
        [--warmup N] [--precision fp32|bf16|fp16] [--channels-last]
        [--no-sdpa] [--with-cp] [--compile] [--no-flops] [--tiny]
        [--only NAME ...] [--out results.json]

Prints a markdown table (step time, images/s, peak memory, loss and mask
generation shares, FLOPs, MFU, ratio to the reference recipes of the same
backbone) and writes every raw number to --out. See mim_plugins/benchmark.py.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mim_plugins.benchmark import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
