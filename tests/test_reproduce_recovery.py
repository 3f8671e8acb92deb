"""The demo after a damaged work dir: a stage is done only while its outputs
are there and intact; what is missing is made again, nothing else."""
import csv
import json
import os
import os.path as osp
import shutil
import zipfile

import pytest
import torch

from helpers import load_tool
from mim_plugins.reproduce import demo
from mim_plugins.reproduce.runner import DemoRunner, demo_values

reproduce = load_tool('reproduce')

PRE = 'pretrain-a2mim-resnet'
LR0, LR1 = 'cls-resnet-a2mim-lr0-s0', 'cls-resnet-a2mim-lr1-s0'
#: the table's cell of PRE: its k-NN probe
KNN_CELL = (demo.BACKBONES['resnet'], 'k-NN probe', 'top-1', 'A2MIM')


def _run(work, *only, log=None):
    """Run the stages ``only`` (and what they need); returns the log."""
    lines = []

    def keep(line):
        lines.append(line)
        if log:
            log(line)

    DemoRunner(work, scale='test', jobs=1, log=keep).run(only=list(only))
    return lines


@pytest.fixture(scope='module')
def work(tmp_path_factory):
    """A test-scale demo of one fine-tuning and what it needs (the data and
    a pre-training)."""
    work = str(tmp_path_factory.mktemp('recovery'))
    _run(work, LR0)
    return work


def _record(work, name):
    with open(osp.join(work, name, 'stage.json')) as f:
        return json.load(f)


def _zip_ok(path):
    with zipfile.ZipFile(path) as zf:
        return zf.testzip() is None


def _mtimes(work, *names):
    """Modification times of the records and checkpoints of ``names``."""
    out = {}
    for name in names:
        marker = osp.join(work, name, 'stage.json')
        out[marker] = os.stat(marker).st_mtime_ns
        ckpt = _record(work, name).get('checkpoint')
        if ckpt:
            out[ckpt] = os.stat(ckpt).st_mtime_ns
    return out


def _knn_cell(work):
    with open(osp.join(work, 'results.csv')) as f:
        return next(r for r in csv.DictReader(f) if (
            r['backbone'], r['task'], r['metric'], r['method']) == KNN_CELL)


def _knn_values(work):
    """The values of the table's k-NN cell of the pre-training."""
    lines = []
    runner = DemoRunner(work, scale='test', log=lines.append)
    runner.load()
    return demo_values(runner, 'knn', 'resnet', 'A2MIM', 'top-1')[0], lines


def test_damaged_outputs_are_told_apart(tmp_path):
    from mim_plugins.reproduce.stage import (finished, output_problem,
                                             resume_checkpoint)
    ckpt = str(tmp_path / 'iter_2.pth')
    torch.save({'w': torch.zeros(1000)}, ckpt)
    older = str(tmp_path / 'iter_1.pth')
    shutil.copy(ckpt, older)
    bad = tmp_path / 'bad.json'
    bad.write_text('{"name": ')
    assert output_problem(ckpt) is None
    assert output_problem(str(tmp_path / 'none.pth')) == 'missing'
    assert output_problem(str(bad)) == 'damaged'
    (tmp_path / 'last_checkpoint').write_text(ckpt)
    assert resume_checkpoint(str(tmp_path)) == ckpt
    with open(ckpt, 'r+b') as f:
        f.truncate(os.path.getsize(ckpt) // 2)
    assert output_problem(ckpt) == 'damaged'
    assert resume_checkpoint(str(tmp_path)) == older  # the newest intact
    os.remove(older)
    assert resume_checkpoint(str(tmp_path)) is None  # from the beginning
    assert finished(str(tmp_path)) == (None, None)  # no record: never run
    marker = tmp_path / 'stage.json'
    marker.write_text(json.dumps(dict(checkpoint=ckpt, pictures={})))
    assert finished(str(tmp_path)) == (None, f'{ckpt} is damaged')
    marker.write_text('{"checkpoint": ')
    assert finished(str(tmp_path)) == (None, f'{marker} is damaged')


def test_deleted_checkpoint_is_made_again_for_a_stage_that_needs_it(
        work, capsys):
    """The pre-training's checkpoint deleted: the table leaves its row out,
    and a fine-tuning that needs it gets it made again first; the intact
    fine-tuning is not rerun."""
    ckpt = _record(work, PRE)['checkpoint']
    kept = _mtimes(work, 'data', LR0)
    assert _knn_values(work)[0] != []
    os.remove(ckpt)
    values, lines = _knn_values(work)
    assert values == []
    assert f'WARNING {PRE}: {ckpt} is missing; left out' in lines
    assert reproduce.main(['--scale', 'test', '--work-dir', work, '--jobs',
                           '1', '--only', 'cls-resnet-a2mim-lr*-s0']) == 0
    out = capsys.readouterr().out
    assert f'WARNING {PRE}: {ckpt} is missing; it runs again' in out
    assert '2 stages to run' in out
    assert f'{PRE}: done in' in out and f'{LR1}: done in' in out
    assert f'{LR0}: done before, skipped' in out
    assert _zip_ok(ckpt) and _record(work, PRE)['checkpoint'] == ckpt
    assert _record(work, LR1)['metrics']['top-1'] is not None
    assert _mtimes(work, 'data', LR0) == kept
    assert _knn_cell(work)['ours'] != ''


def test_truncated_checkpoint_is_rewritten(work):
    """A fine-tuning's checkpoint cut short: only that stage runs again."""
    ckpt = _record(work, LR0)['checkpoint']
    kept = _mtimes(work, 'data', PRE)
    with open(ckpt, 'r+b') as f:
        f.truncate(os.path.getsize(ckpt) // 2)
    lines = _run(work, LR0)
    assert f'WARNING {LR0}: {ckpt} is damaged; it runs again' in lines
    assert any(line.startswith('1 stages to run') for line in lines)
    assert any(line.startswith(f'{LR0}: done in') for line in lines)
    assert f'{PRE}: done before, skipped' in lines
    assert _zip_ok(ckpt) and _record(work, LR0)['checkpoint'] == ckpt
    assert _mtimes(work, 'data', PRE) == kept


def test_input_lost_during_the_run_is_made_again_first(work):
    """A data set deleted after the run found the data stage done: the
    fine-tuning that reads it waits for it to be made again; the intact
    pre-training is not rerun."""
    shutil.rmtree(osp.join(work, LR1), ignore_errors=True)
    images = _record(work, 'data')['data']['cls']
    kept = _mtimes(work, PRE)

    def log(line):
        if line == 'data: done before, skipped':
            shutil.rmtree(images)

    lines = _run(work, LR1, log=log)
    assert f'WARNING data: {images} is missing; it runs again first' in lines
    assert f'{PRE}: done before, skipped' in lines
    assert any(line.startswith(f'{LR1}: done in') for line in lines)
    assert osp.isdir(osp.join(images, 'train'))
    assert _record(work, LR1)['metrics']['top-1'] is not None
    assert _mtimes(work, PRE) == kept
