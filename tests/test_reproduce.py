"""The main job end to end, at a few iterations per stage."""
import csv
import glob
import json
import os
import os.path as osp

import pytest
from PIL import Image

from helpers import load_tool
from mim_plugins.reproduce import demo, paper

collect_results = load_tool('collect_results')
reproduce = load_tool('reproduce')


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    work = str(tmp_path_factory.mktemp('reproduce'))
    assert reproduce.main(['--scale', 'test', '--work-dir', work]) == 0
    return work


def _png_ok(path):
    with Image.open(path) as img:
        return img.size[0] > 100 and img.size[1] > 100


def _stage(work, name):
    with open(osp.join(work, name, 'stage.json')) as f:
        return json.load(f)


def test_every_stage_leaves_its_artefacts(demo_run):
    for st in demo.plan('test'):
        stage = _stage(demo_run, st.name)
        if st.kind == 'data':
            continue
        assert stage['metrics'] and all(
            v is not None and v >= 0 for v in stage['metrics'].values())
        if st.kind == 'knn':  # a probe of random weights: no training
            assert _png_ok(stage['pictures']['knn_top1'])
            continue
        assert osp.exists(stage['checkpoint'])
        assert _png_ok(stage['pictures']['loss_curve'])
        if st.kind == 'pretrain':
            assert _png_ok(stage['pictures']['reconstruction'])
            assert _png_ok(stage['pictures']['knn_top1'])
            assert _png_ok(osp.join(demo_run, st.name, 'vis',
                                    'reconstruction_iter_4.png'))
        else:
            assert stage['lr'] in demo.LRS[(st.kind, st.backbone)]
            assert stage['seed'] == st.seed


def test_demo_draws_its_table_and_a_reconstruction_grid_per_method(
        demo_run):
    """With --scale test the figures go to WORK_DIR/figures (the whole
    demo writes them to docs/images for the README)."""
    figures = osp.join(demo_run, 'figures')
    assert sorted(os.listdir(figures)) == [
        'demo_reconstruction_a2mim.png', 'demo_reconstruction_simmim.png',
        'demo_results.png']
    for name in os.listdir(figures):
        assert _png_ok(osp.join(figures, name))
    with Image.open(osp.join(figures, 'demo_reconstruction_a2mim.png')) as im:
        assert im.size[1] > im.size[0] / 2  # two backbones x two images


def test_seeds_after_the_search_use_its_best_lr(demo_run):
    done = {st.name: _stage(demo_run, st.name) for st in demo.plan('test')}
    later = [st for st in demo.plan('test') if st.search]
    assert later  # seed 1 of every cls/seg row
    for st in later:
        scores = [done[n]['metrics'][st.metrics[0]] for n in st.search]
        best = done[st.search[scores.index(max(scores))]]['lr']
        assert done[st.name]['lr'] == best


def test_table_has_every_row(demo_run):
    with open(osp.join(demo_run, 'results.csv')) as f:
        rows = list(csv.DictReader(f))
    for key in ('seeds', 'std', 'vs_scratch', 'ours', 'chance', 'method'):
        assert key in rows[0]
    table = [r for r in rows if r['scale'] == 'demo (CPU)']
    full = [r for r in rows if r['scale'] == 'full']
    cells = {(r['backbone'], r['task'], r['metric'], r['method']): r
             for r in table}
    scale = demo.SCALES['test']
    expected = 0
    for task, (label, metrics, backbones) in demo.TASKS.items():
        for backbone in backbones:
            for metric in metrics:
                row = {init: cells[(demo.BACKBONES[backbone], label, metric,
                                    init)] for init in demo.INITS}
                expected += 3
                for init, r in row.items():
                    assert r['ours'] != '' and r['chance'] != ''
                    seeds = int(r['seeds'])
                    if task == 'knn':  # one pre-training, seeded scratch
                        assert seeds == (scale['seeds'] if init == 'scratch'
                                         else 1)
                    else:
                        assert seeds == (scale['det_seeds'] if task == 'det'
                                         else scale['seeds'])
                    assert (r['std'] != '') == (seeds > 1)
                    if init == 'scratch':
                        assert r['vs_scratch'] == ''
                    else:
                        assert float(r['vs_scratch']) == pytest.approx(
                            float(r['ours']) - float(row['scratch']['ours']),
                            abs=1e-6)
    assert len(table) == expected
    assert len(full) == len(paper.ROWS)
    for row, (_, _, _, metric, value, _, config) in zip(full, paper.ROWS):
        # rows of our own protocols have no paper value
        assert (row['paper'] == '' if value is None else
                float(row['paper']) == value) and row['config'] == config
        assert row['command'].endswith(osp.splitext(
            osp.basename(config))[0]) and 'dist_train.sh' in row['command']
    md = open(osp.join(demo_run, 'results.md')).read()
    assert '| 1 |' in md and 'Commands for the rows' in md
    assert '| std | seeds | vs_scratch |' in md


def test_rerun_skips_finished_stages(demo_run, capsys):
    assert reproduce.main(['--scale', 'test', '--work-dir', demo_run,
                           '--only', 'seg-resnet-*']) == 0
    out = capsys.readouterr().out
    assert 'seg-resnet-a2mim-best-s1: done before, skipped' in out
    assert 'pretrain-a2mim-resnet: done before, skipped' in out
    assert 'cls-vit' not in out  # not needed by the selected stages
    assert '0 stages to run' in out


def test_only_reruns_a_removed_stage(demo_run, capsys):
    import shutil
    name = 'cls-resnet-scratch-lr0-s0'
    shutil.rmtree(osp.join(demo_run, name))
    assert reproduce.main(['--scale', 'test', '--work-dir', demo_run,
                           '--only', name]) == 0
    out = capsys.readouterr().out
    assert f'{name}: done in' in out and '1 stages to run' in out
    assert osp.exists(osp.join(demo_run, name, 'stage.json'))


def test_unknown_stage_pattern_is_refused(demo_run):
    with pytest.raises(ValueError, match='No demo stage matches'):
        reproduce.main(['--scale', 'test', '--work-dir', demo_run,
                        '--only', 'nothing-*'])


def test_collect_results_rebuilds_the_table(demo_run, capsys):
    assert collect_results.main([demo_run]) == 0
    out = capsys.readouterr().out
    assert 'classification' in out and 'k-NN probe' in out


def test_paper_preset_from_published_weights(demo_run, tmp_path):
    """--pretrained NAME=PATH: the checkpoint is imported, that pre-training
    is not run and its transfers start from the imported file."""
    src = _stage(demo_run, 'pretrain-a2mim-vit')['checkpoint']
    assert reproduce.main(['--preset', 'paper', '--work-dir', str(tmp_path),
                           '--pretrained', f'a2mim-vit-b={src}']) == 0
    imported = tmp_path / 'imported' / 'a2mim-vit-b.pth'
    assert imported.is_file()
    jobs = [line for line in (tmp_path / 'commands.sh').read_text(
    ).splitlines() if 'dist_train.sh' in line]
    assert not any(paper.PRETRAIN['a2mim-vit-b'] + ' ' in j for j in jobs)
    uses = [j for j in jobs if j.startswith(f'PRETRAINED={imported} ')]
    rows = [r for r in paper.TABLE if r.pretrain == 'a2mim-vit-b']
    assert len(uses) == len({r.config for r in rows}) > 0
    with pytest.raises(ValueError, match='no such pre-training'):
        reproduce.main(['--preset', 'paper', '--work-dir', str(tmp_path),
                        '--pretrained', f'vit-x={src}'])


def test_paper_preset_writes_the_jobs(tmp_path):
    assert reproduce.main(['--preset', 'paper', '--work-dir', str(tmp_path),
                           '--gpus', '8', '--imagenet', 'data/imagenet',
                           '--coco', 'data/coco', '--ade', 'data/ade']) == 0
    lines = (tmp_path / 'commands.sh').read_text().splitlines()
    jobs = [line for line in lines if 'dist_train.sh' in line]
    assert len(jobs) == len(paper.PRETRAIN) + len({r[-1] for r in paper.ROWS})
    assert all(line.endswith('--resume') for line in jobs)
    pre = jobs[:len(paper.PRETRAIN)]
    assert all('PRETRAINED' not in j and 'data/imagenet' in j for j in pre)
    det = [j for j in jobs if '/detection/' in j]
    assert det and all('PRETRAINED=work_dirs/' in j and 'data/coco' in j
                       for j in det)
    slurm = (tmp_path / 'slurm_commands.sh').read_text()
    assert slurm.count('tools/slurm_train.sh') == len(jobs)


def test_reconstruction_hook_saves_every_interval_once(demo_data, tmp_path):
    from mmengine.config import Config
    from helpers import TINY_VIT
    from mim_plugins.apis import build_runner
    cfg = Config.fromfile(TINY_VIT)
    cfg.train_dataloader.dataset.data_root = demo_data
    cfg.train_dataloader.batch_size = 4
    cfg.train_cfg.max_iters = 5
    cfg.param_scheduler = []
    cfg.custom_hooks = [dict(type='ReconstructionVisHook', interval=2,
                             num_images=2)]
    cfg.work_dir = str(tmp_path)
    build_runner(cfg).train()
    saved = sorted(p.name for p in (tmp_path / 'vis').iterdir())
    assert saved == ['reconstruction_iter_2.png', 'reconstruction_iter_4.png',
                     'reconstruction_iter_5.png']
    assert _png_ok(tmp_path / 'vis' / 'reconstruction_iter_5.png')


def test_class_patterns_texture_the_fill_and_keep_the_labels(tmp_path):
    """The demo's shape/texture classes: each class's fill carries its own
    pattern (stripe orientation / checkerboard) and the labels still cover
    exactly the painted shapes."""
    import numpy as np
    from mim_plugins.reproduce.synthetic import (PATTERNS, _pattern,
                                                make_segmentation_folder,
                                                paint_shape)
    size = 48
    for shape, kind in PATTERNS.items():
        img = Image.new('RGB', (size, size), (0, 0, 0))
        label = Image.new('L', (size, size), 0)
        paint_shape(img, np.random.default_rng(0), shape, 24, 24, 16,
                    pattern=40., label=label, value=7)
        lab = np.asarray(label)
        inside = np.asarray(img).astype(float)[lab == 7]
        assert (lab == 7).sum() > 100 and set(np.unique(lab)) == {0, 7}
        assert inside.std(0).min() > 15  # textured, not a plain colour
        assert (np.asarray(img)[lab == 0] == 0).all()  # nothing outside
        # the pattern's orientation: stripes vary along one axis only
        p = _pattern(np.random.default_rng(1), 32, kind)
        along_x, along_y = np.abs(np.diff(p, axis=1)).mean(), np.abs(
            np.diff(p, axis=0)).mean()
        if kind == 'horizontal':
            assert along_x < 1e-9 < along_y
        elif kind == 'vertical':
            assert along_y < 1e-9 < along_x
        else:
            assert along_x > 0.1 and along_y > 0.1
    plain = Image.new('RGB', (size, size), (0, 0, 0))
    paint_shape(plain, np.random.default_rng(0), 'square', 24, 24, 16)
    arr = np.asarray(plain)[16:32, 16:32].reshape(-1, 3)
    assert (arr == arr[0]).all()  # pattern=0: a plain fill, as before
    # a different pattern amplitude is a different data set (own stamp)
    root = str(tmp_path / 'ade')
    make_segmentation_folder(root, num_train=2, num_val=1, size=32,
                             pattern=0.)
    make_segmentation_folder(root, num_train=2, num_val=1, size=32,
                             pattern=40.)
    assert osp.exists(osp.join(root, '.complete-2-1-32-0-40.0'))


def test_short_stages_in_one_process_keep_their_own_metrics(tmp_path,
                                                            monkeypatch):
    """Two stages of one config in one worker process, started within the
    same second (mmengine names its logger, message hub and visualizer
    after the config and that second): each still records its own metric
    in its own work dir."""
    import time as real_time
    import types

    import mmengine.runner.runner as mm_runner
    from mim_plugins.reproduce import runner as demo_runner
    from mim_plugins.reproduce.stage import run_stage

    # every Runner of this test starts in "the same second"
    frozen = types.SimpleNamespace(
        **{k: getattr(real_time, k) for k in dir(real_time)
           if not k.startswith('__')})
    frozen.strftime = lambda fmt, t=None: '20261128_000000'
    monkeypatch.setattr(mm_runner, 'time', frozen)
    work = str(tmp_path)
    runner = demo_runner.DemoRunner(work, scale='test', jobs=1)
    demo.make_data(runner.data_root, 'test')
    results = []
    for name in ('cls-resnet-scratch-lr0-s0', 'cls-resnet-scratch-lr1-s0'):
        results.append(run_stage(runner._prepare(runner.stages[name])))
    for res in results:
        assert res['metrics']['top-1'] is not None, res['name']
        assert glob.glob(osp.join(work, res['name'], '*', 'vis_data',
                                  'scalars.json')), res['name']
