"""The results as a markdown table and as a JSON file."""
import json
import os
import os.path as osp
from typing import Any, Dict

import numpy as np


def write_json(results: Dict[str, Any], out: str) -> None:
    """Write every raw number to ``out`` (its folder made if needed)."""
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(results, f, indent=1, default=_json_default)


def _json_default(obj):
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    if isinstance(obj, (tuple, set)):
        return list(obj)
    return str(obj)


def _fmt(value, spec: str, scale: float = 1.0, suffix: str = '') -> str:
    if value is None:
        return '-'
    return format(value * scale, spec) + suffix


def format_table(results: Dict[str, Any]) -> str:
    """Markdown table of the results (and the targets, mask generators)."""
    m, s = results['machine'], results['settings']
    where = m['gpu'] or f"{m['cpu_model']} ({m['cpus_usable']} cores, " \
        f"{m['torch_threads']} torch threads)"
    lines = [
        f"{where}; torch {m['torch']}; {s['precision']}; batch "
        f"{s['batch_size']}; median of {s['steps']} steps after "
        f"{s['warmup']} warm-up" + (f" x {s['rounds']} rounds"
                                    if s['rounds'] > 1 else '')
        + ('; tiny models' if s['tiny'] else '')
        + ('; torch.compile' if s['compile'] else ''),
        '',
        '| entry | backbone | step ms | min ms | img/s | peak mem MiB | '
        'loss % | maskgen % | train GFLOPs/img | MFU | '
        'step time vs reference |',
        '|---|---|---|---|---|---|---|---|---|---|---|']
    for r in results['entries']:
        if 'error' in r:
            lines.append(f"| {r['name']} | {r['backbone']} | failed: "
                         f"{r['error'][:60]} |  |  |  |  |  |  |  |  |")
            continue
        fl = r.get('flops') or {}
        ratios = ', '.join(f'{v:.2f}x {k}' for k, v in r['ratios'].items())
        lines.append(
            f"| {r['name']} | {r['backbone']} | "
            f"{_fmt(r['median_step_s'], '.0f', 1e3)} | "
            f"{_fmt(r['min_step_s'], '.0f', 1e3)} | "
            f"{_fmt(r['images_per_s'], '.2f')} | "
            f"{_fmt(r['peak_mem_mib'], '.0f')} | "
            f"{_fmt(r['loss_share'], '.1f', 100)} | "
            f"{_fmt(r['maskgen_share'], '.2f', 100)} | "
            f"{_fmt(fl.get('train_flops_per_image'), '.1f', 1e-9)} | "
            f"{_fmt(r.get('mfu'), '.1f', 100, '%')} | {ratios or '-'} |")
    if results.get('targets'):
        lines.append('')
        for t in results['targets']:
            state = 'not measured' if t['ratio'] is None else (
                f"{t['ratio']:.3f}x (fastest steps {t['ratio_min']:.3f}x): "
                + ('met' if t['met'] else 'NOT met'))
            lines.append(f"- target {t['entry']} <= {t['max_ratio']}x "
                         f"{t['reference']}: {state}")
    if results.get('mask_generators'):
        lines.append('')
        lines.append('| mask generator | settings | masks/s/core |')
        lines.append('|---|---|---|')
        for g in results['mask_generators']:
            args = ', '.join(f'{k}={v}' for k, v in g['cfg'].items()
                             if k != 'type')
            lines.append(f"| {g['type']} | {args} | "
                         f"{g['masks_per_s']:.0f} |")
    for note in results.get('notes', []):
        lines.append(f'- {note}')
    return '\n'.join(lines)
