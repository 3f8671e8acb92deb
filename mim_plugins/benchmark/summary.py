"""Numbers derived from the raw times: per entry (medians, shares, MFU;
rounds pooled) and across entries (ratios to the references, targets)."""
import math
import statistics
from typing import Any, Dict, List

from .flops import mfu, peak_tflops
from .recipes import REFERENCES, TARGETS


def summarize(result: Dict[str, Any]) -> Dict[str, Any]:
    """Derived numbers of an entry from its raw lists (in place)."""
    median = statistics.median(result['step_times_s'])
    result.update(median_step_s=median,
                  min_step_s=min(result['step_times_s']),
                  images_per_s=result['batch_size'] / median)
    loss = statistics.median(result['loss_times_s'])
    result.update(loss_median_s=loss, loss_share=loss / median)
    per_batch = result.get('maskgen_s_per_batch')
    result['maskgen_share'] = per_batch / median if per_batch else None
    if not all(math.isfinite(v) for v in result['losses']):
        result['warning'] = 'non-finite loss during the timed steps'
    if result.get('flops'):
        train_flops = result['flops']['train_flops_per_image']
        result['achieved_tflops'] = \
            train_flops * result['images_per_s'] / 1e12
        result['peak_tflops'] = peak_tflops(result['gpu'],
                                            result['precision'])
        result['mfu'] = mfu(train_flops, result['images_per_s'],
                            result['gpu'], result['precision'])
    return result


def merge_rounds(first: Dict[str, Any], later: Dict[str, Any]) -> None:
    """Add a later round of the same entry to ``first`` (in place)."""
    for key in ('warmup_times_s', 'step_times_s', 'loss_times_s', 'losses'):
        first[key] = first[key] + later[key]
    first['peak_mem_mib'] = max(first['peak_mem_mib'], later['peak_mem_mib'])
    first['rounds'] = first.get('rounds', 1) + 1
    first['round_medians_s'] = first['round_medians_s'] + \
        later['round_medians_s']
    summarize(first)


def compute_ratios(entries: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Step-time ratio of each entry to each reference of its backbone
    (a reference is not compared with itself): ``ratios`` of the medians,
    ``ratios_min`` of the fastest steps (less sensitive to other load)."""
    by_name = {r['name']: r for r in entries if 'median_step_s' in r}
    for r in entries:
        r['ratios'], r['ratios_min'] = {}, {}
        if 'median_step_s' not in r:
            continue
        for ref in REFERENCES.get(r['backbone'], ()):
            if ref != r['name'] and ref in by_name:
                r['ratios'][ref] = r['median_step_s'] / \
                    by_name[ref]['median_step_s']
                r['ratios_min'][ref] = r['min_step_s'] / \
                    by_name[ref]['min_step_s']
    return entries


def check_targets(entries: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Each speed target of :data:`TARGETS`: its ratio and whether it is
    met (None when not measured)."""
    by_name = {r['name']: r for r in entries}
    out = []
    for name, ref, limit in TARGETS:
        ratio = by_name.get(name, {}).get('ratios', {}).get(ref)
        out.append(dict(entry=name, reference=ref, max_ratio=limit,
                        ratio=ratio,
                        ratio_min=by_name.get(name, {}).get(
                            'ratios_min', {}).get(ref),
                        met=None if ratio is None else ratio <= limit))
    return out
