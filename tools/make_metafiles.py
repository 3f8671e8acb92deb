"""Write model-index.yml and the metafiles from mim_plugins/reproduce/paper.py.

    python tools/make_metafiles.py           # write them
    python tools/make_metafiles.py --check   # exit 1 if a file differs

The files are what openmim (`mim search mim_plugins`) and mmengine
(`mim_plugins::` config paths) read; paper.py is their one source.
"""
import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
from _mim_plugins_cli import quiet_upstream_warnings  # noqa: E402

quiet_upstream_warnings()
from mim_plugins.reproduce.metafile import generate  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--root', default=ROOT,
                        help='the repository (default: this one)')
    parser.add_argument('--check', action='store_true')
    args = parser.parse_args(argv)
    stale = []
    for rel, text in generate(args.root).items():
        path = osp.join(args.root, rel)
        old = open(path).read() if osp.exists(path) else None
        if old == text:
            continue
        stale.append(rel)
        if not args.check:
            with open(path, 'w') as f:
                f.write(text)
    verb = 'differ from paper.py' if args.check else 'written'
    for rel in stale:
        print(f'{rel}: {verb}')
    return 1 if args.check and stale else 0


if __name__ == '__main__':
    sys.exit(main())
