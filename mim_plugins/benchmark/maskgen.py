"""Throughput of the data pipeline's mask generators, one core."""
import copy
import json
import time
from typing import Dict


def time_mask_generator(gen_cfg: dict, size: int,
                        min_time: float = 0.2,
                        min_calls: int = 200) -> Dict[str, float]:
    """Masks per second of one generator on one core (one Python thread,
    calls of the transform as the data pipeline makes them)."""
    from mmpretrain.registry import TRANSFORMS
    gen = TRANSFORMS.build(copy.deepcopy(gen_cfg))
    results = dict(img_shape=(size, size))
    gen(dict(results))  # first call outside the timing
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(min_calls):
            gen(dict(results))
        calls += min_calls
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            break
    return dict(masks_per_s=calls / elapsed, s_per_mask=elapsed / calls,
                calls=calls)


def cached_mask_timing(cache: Dict[str, dict], gen_cfg: dict, size: int,
                       user: str) -> dict:
    """The timing of ``gen_cfg`` at ``size`` from ``cache``, measured on
    first use (entries sharing a generator share one timing), with ``user``
    added to its ``used_by``."""
    key = json.dumps(gen_cfg, sort_keys=True)
    if key not in cache:
        cache[key] = dict(type=gen_cfg['type'], cfg=gen_cfg,
                          crop_size=size, used_by=[],
                          **time_mask_generator(gen_cfg, size))
    cache[key]['used_by'].append(user)
    return cache[key]
