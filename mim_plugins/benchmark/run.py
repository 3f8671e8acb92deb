"""The whole benchmark: each entry built from its config and measured,
round-robin over the rounds, then compared and written out."""
import contextlib
import os
import statistics
import sys
import time
import traceback
import warnings
from typing import Any, Dict, Optional, Sequence

import torch
from mmengine.config import Config

from .data import crop_size, make_batches, mask_generator_cfg
from .flops import count_flops, count_step_flops
from .loss import capture_head_call, time_loss
from .machine import machine_info
from .maskgen import cached_mask_timing
from .memory import PeakMemory, trim_heap
from .options import configure
from .recipes import REFERENCES, Entry, load_config, select_entries
from .report import write_json
from .summary import check_targets, compute_ratios, merge_rounds, summarize
from .timing import time_steps

#: fewest timed repeats of the head's loss (it is cheap next to a step)
LOSS_MIN_REPEATS = 10


def _build(cfg: Config, device: str):
    """Model (initialised as the Runner does) and optimizer wrapper, with
    mmengine's per-parameter log lines silenced."""
    from mmengine.optim import build_optim_wrapper
    from ..apis import build_model_from_cfg
    with _quiet():
        model = build_model_from_cfg(cfg)
        model.init_weights()
        model.to(device)
        model.train()
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    return model, optim_wrapper


@contextlib.contextmanager
def _quiet():
    import logging
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            yield
    finally:
        logger.setLevel(level)


def run_entry(entry: Entry, device: str, batch_size: int, warmup: int,
              steps: int, precision: str, tiny: bool = False,
              channels_last: bool = False, sdpa: bool = True,
              with_cp: bool = False, compile: bool = False,
              flops: bool = True, mask_cache: Optional[dict] = None,
              seed: int = 0) -> Dict[str, Any]:
    """Measure one entry; a dict of raw numbers (see the package doc)."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    torch.manual_seed(seed)
    cfg = load_config(entry, tiny)
    options = configure(cfg, precision, channels_last=channels_last,
                        sdpa=sdpa, with_cp=with_cp)
    size = crop_size(cfg)
    gen_cfg = mask_generator_cfg(cfg)
    result: Dict[str, Any] = dict(
        name=entry.name, algorithm=entry.algorithm, backbone=entry.backbone,
        source=entry.source,
        config=entry.tiny if tiny and isinstance(entry.tiny, str)
        else entry.config, tiny=tiny, device=device, batch_size=batch_size,
        crop_size=size, precision=precision, compiled=compile, **options)
    batches = make_batches(cfg, warmup + steps + 1, batch_size, seed)
    memory = PeakMemory(device)
    model, optim_wrapper = _build(cfg, device)
    result['params_m'] = sum(p.numel() for p in model.parameters()
                             if p.requires_grad) / 1e6
    result['model_type'] = type(model).__name__
    result['backbone_type'] = type(model.backbone).__name__

    if flops:
        result['flops'] = count_flops(model, batches[-1])
        result['flops']['torch_counted_train_flops_per_image'] = \
            count_step_flops(model, batches[-1], optim_wrapper)
    head_call = capture_head_call(model, batches[-1], optim_wrapper)
    if compile:
        # the model's forward (data preprocessing, loss forward; backward
        # through the compiled graph), in place; not mmengine's target, the
        # whole train_step: with torch 2.14 dynamo fails inside the
        # optimizer's step on mmengine's param groups
        model.compile()

    with memory.measure():
        times, losses = time_steps(model, batches[:warmup + steps],
                                   optim_wrapper, device)
    result.update(
        warmup_times_s=times[:warmup], step_times_s=times[warmup:],
        round_medians_s=[statistics.median(times[warmup:])],
        losses=losses, peak_mem_mib=memory.delta_mib,
        peak_mem_method=memory.method)
    # the loss is a small part of a step: timed at least LOSS_MIN_REPEATS
    # times so that one stall (GC, another process) cannot move its median
    result['loss_times_s'] = time_loss(
        model, head_call, optim_wrapper, device, warmup=1,
        steps=max(steps, LOSS_MIN_REPEATS))
    if gen_cfg is not None:
        gen_timing = cached_mask_timing(
            mask_cache if mask_cache is not None else {}, gen_cfg, size,
            entry.name)
        result.update(mask_generator=gen_cfg['type'],
                      mask_generator_cfg=gen_cfg,
                      maskgen_s_per_batch=gen_timing['s_per_mask'] *
                      batch_size)
    else:
        result.update(mask_generator=None, maskgen_s_per_batch=None)
    result['gpu'] = torch.cuda.get_device_name() if device == 'cuda' \
        else None
    del model, optim_wrapper, head_call, batches
    trim_heap()
    return summarize(result)


def run_benchmark(names: Optional[Sequence[str]] = None,
                  device: Optional[str] = None,
                  batch_size: Optional[int] = None,
                  steps: Optional[int] = None,
                  warmup: Optional[int] = None,
                  precision: Optional[str] = None,
                  tiny: bool = False, channels_last: bool = False,
                  sdpa: bool = True, with_cp: bool = False,
                  compile: bool = False, flops: bool = True,
                  out: Optional[str] = None, verbose: bool = True,
                  threads: Optional[int] = None, rounds: int = 1,
                  seed: int = 0) -> Dict[str, Any]:
    """Run the benchmark; the results dict (also written to ``out``)."""
    import mim_plugins  # noqa: F401  registers our modules
    if threads:
        torch.set_num_threads(threads)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('--device cuda: no CUDA device is available')
    precision = precision or ('bf16' if device == 'cuda' else 'fp32')
    if precision != 'fp32' and device != 'cuda':
        raise ValueError(f'--precision {precision} needs CUDA: mmengine\'s '
                         f'AmpOptimWrapper runs on GPUs only; use fp32 on '
                         f'the CPU.')
    batch_size = batch_size or (64 if device == 'cuda' else 2)
    steps = steps or (20 if device == 'cuda' else 5)
    warmup = (5 if device == 'cuda' else 1) if warmup is None else warmup
    entries, notes = select_entries(names, tiny)
    settings = dict(device=device, batch_size=batch_size, steps=steps,
                    warmup=warmup, precision=precision, tiny=tiny,
                    channels_last=channels_last, sdpa=sdpa, with_cp=with_cp,
                    compile=compile, flops=flops, seed=seed, rounds=rounds,
                    torch_threads=torch.get_num_threads())
    results = dict(machine=machine_info(device, precision), settings=settings,
                   references={k: list(v) for k, v in REFERENCES.items()},
                   notes=notes, entries=[])
    mask_cache: Dict[str, dict] = {}
    done: Dict[str, Dict[str, Any]] = {}
    # round-robin, every other round in reverse order: each entry gets
    # steps spread over the whole run (not one window of a shared
    # machine's load) and as many runs before as after each other entry
    # (on the 2-core CPU the entry built second of two was measured up to
    # 8% slower, whichever it was)
    for rnd in range(rounds):
        for entry in (entries if rnd % 2 == 0 else entries[::-1]):
            if 'error' in done.get(entry.name, {}):
                continue
            if verbose:
                print(f'[benchmark] round {rnd + 1}/{rounds}: {entry.name}',
                      file=sys.stderr, flush=True)
            start = time.perf_counter()
            try:
                r = run_entry(entry, device, batch_size, warmup, steps,
                              precision, tiny=tiny,
                              channels_last=channels_last, sdpa=sdpa,
                              with_cp=with_cp, compile=compile,
                              flops=flops and rnd == 0,
                              mask_cache=mask_cache, seed=seed + rnd)
            except Exception as exc:  # keep the other entries' numbers
                r = dict(name=entry.name, algorithm=entry.algorithm,
                         backbone=entry.backbone, source=entry.source,
                         error=f'{type(exc).__name__}: {exc}',
                         traceback=traceback.format_exc())
                if verbose:
                    print(f'[benchmark] {entry.name} FAILED: {r["error"]}',
                          file=sys.stderr, flush=True)
            r['wall_s'] = time.perf_counter() - start
            if entry.name not in done or 'error' in r:
                done[entry.name] = r
            else:
                wall = done[entry.name]['wall_s'] + r['wall_s']
                merge_rounds(done[entry.name], r)
                done[entry.name]['wall_s'] = wall
    results['entries'] = [done[e.name] for e in entries]
    compute_ratios(results['entries'])
    results['targets'] = check_targets(results['entries'])
    results['mask_generators'] = [
        {k: v for k, v in g.items() if k != 's_per_mask'}
        for g in mask_cache.values()]
    results['machine']['load_average_end'] = (
        os.getloadavg() if hasattr(os, 'getloadavg') else None)
    if out:
        write_json(results, out)
    return results
