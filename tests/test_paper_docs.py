"""The docs list every row of the paper table: docs/fidelity.md names each
row's config, its official source and each pre-training, and each method's
README lists each row's config with its value."""
import os.path as osp

from helpers import ROOT
from mim_plugins.reproduce import paper


def test_fidelity_page_covers_every_row():
    text = open(osp.join(ROOT, 'docs', 'fidelity.md')).read()
    for row in paper.TABLE:
        assert paper.work_dir_name(row.config) in text, row.config
        if row.source is not None:
            assert row.source.path in text, row.source
    for pre in paper.PRETRAINS.values():
        assert paper.work_dir_name(pre.config) in text, pre.config


def test_method_readmes_list_every_row_with_its_value():
    for row in paper.TABLE:
        folder = osp.dirname(osp.dirname(row.config))
        with open(osp.join(ROOT, folder, 'README.md')) as f:
            lines = [line for line in f
                     if f'{paper.work_dir_name(row.config)}.py)' in line]
        assert lines, f'{folder}/README.md does not list {row.config}'
        value = '--' if row.value is None else f'{row.value:.1f}'
        assert value in lines[0].split('|')[-2], (row.config, lines[0])
