"""Relative links in the README, docs/ and the config READMEs resolve: the
file exists and, for ``page.md#anchor``, the page has that heading."""
import glob
import os.path as osp
import re

import pytest

from helpers import ROOT

PAGES = sorted(
    [osp.join(ROOT, 'README.md')] +
    glob.glob(osp.join(ROOT, 'docs', '*.md')) +
    glob.glob(osp.join(ROOT, 'configs', '**', 'README.md'), recursive=True))
LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')
FENCE = re.compile(r'^```.*?^```', re.M | re.S)


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r'[`*_]', '', heading.strip().lower())
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def anchors(path: str) -> set:
    with open(path, encoding='utf-8') as f:
        text = FENCE.sub('', f.read())
    return {slug(m.group(1)) for m in re.finditer(r'^#+\s+(.+)$', text, re.M)}


def links(path: str):
    with open(path, encoding='utf-8') as f:
        text = FENCE.sub('', f.read())
    for target in LINK.findall(text):
        if re.match(r'[a-z]+:', target):  # http(s), mailto
            continue
        yield target


def test_slug_follows_github():
    assert slug('Speed options') == 'speed-options'
    assert slug('Start from published weights') == \
        'start-from-published-weights'
    assert slug('The demo: what pre-training buys, on generated data') == \
        'the-demo-what-pre-training-buys-on-generated-data'
    assert slug('`tools/benchmark.py` (GPU)') == 'toolsbenchmarkpy-gpu'


def test_pages_are_found():
    names = {osp.relpath(p, ROOT) for p in PAGES}
    assert {'README.md', 'docs/usage.md', 'docs/checkpoints.md',
            'configs/pretrain/a2mim/README.md'} <= names


@pytest.mark.parametrize('page', PAGES, ids=lambda p: osp.relpath(p, ROOT))
def test_relative_links_resolve(page):
    broken = []
    for target in links(page):
        file, _, anchor = target.partition('#')
        dest = osp.normpath(osp.join(osp.dirname(page), file)) if file \
            else page
        if not osp.exists(dest):
            broken.append(f'{target}: no {osp.relpath(dest, ROOT)}')
        elif anchor and dest.endswith('.md') and \
                anchor not in anchors(dest):
            broken.append(f'{target}: no heading #{anchor} in '
                          f'{osp.relpath(dest, ROOT)}')
    assert not broken, '\n'.join(broken)


CODE = re.compile(r'`((?:configs|tools|tests|docs|mim_plugins)/[^`\s]*)`')


def expand_braces(pattern: str):
    """``a/{b,c}/d`` -> ``a/b/d``, ``a/c/d`` (nested and repeated)."""
    match = re.search(r'\{([^{}]*)\}', pattern)
    if not match:
        return [pattern]
    out = []
    for choice in match.group(1).split(','):
        out += expand_braces(pattern[:match.start()] + choice +
                             pattern[match.end():])
    return out


def test_expand_braces():
    assert expand_braces('a/{b,c}/x{1,2}') == [
        'a/b/x1', 'a/b/x2', 'a/c/x1', 'a/c/x2']


@pytest.mark.parametrize('page', PAGES, ids=lambda p: osp.relpath(p, ROOT))
def test_repository_paths_exist(page):
    """Every path in backticks (``configs/...``, ``tools/...``, ...) names
    at least one file; a glob or brace pattern matches in every choice.

    Paths of the official repositories (openmixup's ``configs/selfsup/...``,
    microsoft/SimMIM's ``configs/swin_base__100ep/...``) are told apart by
    their first folder below the top one, which ours does not have;
    placeholders (``<source>``) are skipped."""
    with open(page, encoding='utf-8') as f:
        text = f.read()
    missing = []
    for path in sorted(set(CODE.findall(text))):
        if '<' in path:
            continue
        for choice in expand_braces(path.rstrip('.,;:')):
            parts = choice.split('/')
            if len(parts) > 2 and not glob.glob(
                    osp.join(ROOT, *parts[:2])):
                continue  # another repository's path
            if not glob.glob(osp.join(ROOT, choice)):
                missing.append(choice if choice == path else
                               f'{choice} (from {path})')
    assert not missing, '\n'.join(missing)
