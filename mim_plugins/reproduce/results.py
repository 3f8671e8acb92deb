"""Read metrics and losses from mmengine's logs; write tables and curves."""
import csv
import glob
import json
import os.path as osp
from typing import Dict, List, Optional


def read_scalars(work_dir: str) -> List[dict]:
    """All records of every ``vis_data/scalars.json`` under ``work_dir``, in
    time order (a resumed run appends a new log folder)."""
    records = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def last_metric(work_dir: str, key: str) -> Optional[float]:
    """The last logged value of a validation metric, or None."""
    values = [r[key] for r in read_scalars(work_dir) if key in r]
    return float(values[-1]) if values else None


def plot_loss_curve(work_dir: str, path: str, title: str = '') -> Optional[str]:
    """PNG of the training loss (and its terms) against the iteration."""
    records = [r for r in read_scalars(work_dir) if 'loss' in r]
    if not records:
        return None
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    keys = [k for k in records[-1] if k.startswith('loss') or k in (
        'spatial', 'frequency')]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for key in keys:
        pts = [(r['step'], r[key]) for r in records if key in r]
        ax.plot(*zip(*pts), label=key, lw=1.2 if key == 'loss' else 0.8)
    ax.set_xlabel('iteration')
    ax.set_ylabel('loss')
    ax.set_title(title or osp.basename(work_dir), fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


#: ``ours`` is the mean over ``seeds`` runs, ``std`` their sample standard
#: deviation, ``vs_scratch`` the difference of means to the random-init row
#: of the same backbone, task and metric; ``lr`` the fine-tuning lr that the
#: search picked
COLUMNS = ['method', 'backbone', 'task', 'metric', 'ours', 'std', 'seeds',
           'vs_scratch', 'lr', 'chance', 'paper', 'scale', 'config',
           'command']


def _fmt(v, signed=False):
    if v is None or v == '':
        return '--'
    if isinstance(v, float):
        return f'{v:+.1f}' if signed else f'{v:.1f}'
    return str(v)


def write_table(rows: List[Dict], md_path: str, csv_path: str,
                title: str = 'Benchmark') -> str:
    """Write the rows as Markdown (commands listed under the table) and CSV."""
    with open(csv_path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction='ignore')
        writer.writeheader()
        for r in rows:
            writer.writerow({k: r.get(k, '') for k in COLUMNS})
    head = COLUMNS[:-1]
    lines = [f'# {title}', '', '| # | ' + ' | '.join(head) + ' |',
             '|' + '---|' * (len(head) + 1)]
    commands = []
    for i, r in enumerate(rows, 1):
        cells = [_fmt(r.get(k), signed=k == 'vs_scratch') for k in head]
        cells[-1] = f'`{r.get("config", "")}`'
        if r.get('command'):
            commands.append(f'{i}. `{r["command"]}`')
            if r.get('ours') is None:
                cells[head.index('ours')] = f'see command {i}'
        lines.append(f'| {i} | ' + ' | '.join(cells) + ' |')
    if commands:
        lines += ['', 'Commands for the rows this machine cannot run at full '
                  'scale (8 GPUs each; set the data roots):', ''] + commands
    text = '\n'.join(lines) + '\n'
    with open(md_path, 'w') as f:
        f.write(text)
    return text
