"""Training-step speed of our pre-training recipes against mmpretrain's.

Every entry is built from its real config (``Config.fromfile`` +
``MODELS.build`` in the mmpretrain scope, optimizer wrapper from the
config's ``optim_wrapper`` through mmengine's ``build_optim_wrapper``) and
trained for a few steps on synthetic images of the config's crop size,
masked by the config's own mask generator and packed/collated as the
config's data loader does (``PackInputs`` + ``default_collate``).

Per entry it reports the median ``model.train_step`` time (data
preprocessor, forward, backward, optimizer step), images/s, peak memory,
the share of the step spent in the loss (the head's loss, forward and
backward, timed alone on detached inputs captured from a real forward), the
share the data pipeline's mask generation would take on one core, the
training FLOPs per image (mmengine's ``FlopAnalyzer`` on the loss forward,
x3) and, on a GPU with a known peak, the model FLOPs utilisation; and the
ratio of each entry's step time to the reference recipes on the same
backbone (:data:`REFERENCES`).

    python tools/benchmark.py                      # all entries, full size
    python tools/benchmark.py --tiny --steps 2     # tiny models (seconds)
    python tools/benchmark.py --only a2mim_r50 simmim_r50 --out r50.json

One file a role: ``recipes`` (the entries and their configs), ``options``
(precision and backbone flags), ``data`` (synthetic batches), ``timing``
(steps), ``loss`` (the loss's share), ``memory`` (peak memory), ``flops``
(FLOPs, MFU), ``maskgen`` (mask generator throughput), ``summary`` (derived
numbers, rounds, ratios, targets), ``machine``, ``report`` (table, JSON)
and ``run`` (the whole benchmark).
"""
from .data import MASK_GENERATORS, crop_size, make_batches, mask_generator_cfg
from .flops import (PEAK_TFLOPS, count_flops, count_step_flops, mfu,
                    peak_tflops)
from .loss import capture_head_call, time_loss
from .machine import machine_info
from .maskgen import cached_mask_timing, time_mask_generator
from .memory import PeakMemory
from .options import configure
from .recipes import (ENTRIES, ENTRY_BY_NAME, REFERENCES, TARGETS,
                      Entry, load_config, select_entries)
from .report import format_table, write_json
from .run import run_benchmark, run_entry
from .summary import check_targets, compute_ratios, merge_rounds, summarize
from .timing import time_steps

__all__ = [
    'ENTRIES', 'ENTRY_BY_NAME', 'Entry', 'MASK_GENERATORS', 'PEAK_TFLOPS',
    'PeakMemory', 'REFERENCES', 'TARGETS', 'cached_mask_timing',
    'capture_head_call', 'check_targets', 'compute_ratios', 'configure',
    'count_flops', 'count_step_flops', 'crop_size', 'format_table',
    'load_config', 'machine_info', 'make_batches', 'mask_generator_cfg',
    'merge_rounds', 'mfu', 'peak_tflops', 'run_benchmark', 'run_entry',
    'select_entries', 'summarize', 'time_loss', 'time_mask_generator',
    'time_steps', 'write_json'
]
