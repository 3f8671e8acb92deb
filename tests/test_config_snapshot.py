"""Every config resolves to the dict recorded in ``tests/data``.

Guards refactors of ``configs/`` (moving blocks into ``configs/_base_/``):
each config's resolved dict (``Config.fromfile(...).to_dict()``, with the
``{{$PRETRAINED:...}}`` defaults, tuples kept apart from lists) must stay the
same, key for key; a failure lists the keys that differ. The dicts include
the upstream bases (``mmpretrain::``, ``mmdet::``, ``mmseg::``), so an
intended change to a recipe, or an upgrade of those packages, is recorded
deliberately, after reading the failure, with::

    python tests/test_config_snapshot.py --update

and ``tests/data/resolved_configs.json.gz`` is committed with the change.
"""
import glob
import gzip
import json
import os
import os.path as osp
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SNAPSHOT = osp.join(ROOT, 'tests', 'data', 'resolved_configs.json.gz')
CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                       recursive=True)
    if '_base_' not in osp.relpath(p, ROOT).split(os.sep))


def canonical(obj):
    """A JSON-able form of ``obj`` that keeps tuples apart from lists."""
    if isinstance(obj, dict):
        return {str(k) if isinstance(k, str) else repr(k): canonical(v)
                for k, v in obj.items()}
    if isinstance(obj, tuple):
        return {'__tuple__': [canonical(v) for v in obj]}
    if isinstance(obj, list):
        return [canonical(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return {'__repr__': repr(obj)}


def resolve(path: str) -> dict:
    """The canonical resolved dict of one config, placeholders at defaults."""
    from mmengine.config import Config
    saved = os.environ.pop('PRETRAINED', None)
    try:
        cfg = Config.fromfile(osp.join(ROOT, path))
    finally:
        if saved is not None:
            os.environ['PRETRAINED'] = saved
    return canonical(cfg.to_dict())


def load_snapshot() -> dict:
    with gzip.open(SNAPSHOT, 'rt') as f:
        return json.load(f)


def write_snapshot() -> None:
    data = {path: resolve(path) for path in CONFIGS}
    text = json.dumps(data, sort_keys=True, indent=1)
    # mtime=0: the file changes only when a config does
    with open(SNAPSHOT, 'wb') as raw, \
            gzip.GzipFile(fileobj=raw, mode='wb', mtime=0) as f:
        f.write(text.encode() + b'\n')
    print(f'wrote {len(data)} configs to {osp.relpath(SNAPSHOT, ROOT)}')


def differences(old, new, where=''):
    """Dotted paths at which two canonical dicts differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new)):
            key = f'{where}.{k}' if where else k
            if k not in old:
                out.append(f'{key}: added')
            elif k not in new:
                out.append(f'{key}: removed')
            else:
                out += differences(old[k], new[k], key)
        return out
    if (isinstance(old, list) and isinstance(new, list)
            and len(old) == len(new)):
        return [d for i, (a, b) in enumerate(zip(old, new))
                for d in differences(a, b, f'{where}[{i}]')]
    return [] if old == new else [f'{where}: {old!r} -> {new!r}']


@pytest.fixture(scope='module')
def snapshot():
    return load_snapshot()


def test_snapshot_covers_every_config(snapshot):
    assert sorted(snapshot) == CONFIGS


@pytest.mark.parametrize('path', CONFIGS)
def test_resolved_config_unchanged(path, snapshot):
    if path not in snapshot:
        pytest.fail(f'{path} is not in the snapshot; see the module docstring')
    diff = differences(snapshot[path], json.loads(json.dumps(resolve(path))))
    assert not diff, f'{path} resolves differently:\n' + '\n'.join(diff)


if __name__ == '__main__':
    if sys.argv[1:] != ['--update']:
        sys.exit(f'usage: python {sys.argv[0]} --update  '
                 '(re-record every config\'s resolved dict)')
    sys.path.insert(0, ROOT)
    write_snapshot()
