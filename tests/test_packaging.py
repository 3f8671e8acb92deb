"""The plugin as an OpenMMLab package: ``mim_plugins::`` config paths, the
model index that openmim reads, the application parts kept apart from the
library, and (the last test) a wheel installed into a fresh environment and
used from an empty directory, as a user who runs ``pip install`` would."""
import ast
import glob
import os
import os.path as osp
import subprocess
import sys
import sysconfig
import textwrap

import pytest
from mmengine.config import Config

from helpers import ROOT

CONFIGS = sorted(
    osp.relpath(p, osp.join(ROOT, 'configs'))
    for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                       recursive=True) if '_base_' not in p)
#: application parts: never imported by the library, nor by import mim_plugins
APPS = ('mim_plugins.reproduce', 'mim_plugins.benchmark')


def test_package_dir_ships_configs_tools_and_model_index():
    mim = osp.join(ROOT, 'mim_plugins', '.mim')
    for name in ('configs', 'tools', 'model-index.yml'):
        assert osp.realpath(osp.join(mim, name)) == osp.join(ROOT, name)


@pytest.mark.parametrize('config', CONFIGS)
def test_every_config_loads_as_mim_plugins_path(config):
    cfg = Config.fromfile(f'mim_plugins::{config}')
    assert cfg.filename == osp.join(ROOT, 'mim_plugins', '.mim', 'configs',
                                    config)
    assert 'model' in cfg


@pytest.mark.parametrize('base, scope, kind', [
    ('pretrain/a2mim/a2mim_resnet-tiny_1xb16-20i_demo.py', 'mmpretrain',
     'A2MIM'),
    ('detection/a2mim/mask-rcnn_resnet50-fpn_a2mim-pre_8xb2-2x_coco.py',
     'mmdet', 'MaskRCNN'),
    ('segmentation/a2mim/upernet_resnet50_a2mim-pre_8xb2-160k_ade20k-'
     '512x512.py', 'mmseg', 'EncoderDecoder'),
])
def test_user_config_inherits_and_builds_in_its_library(
        base, scope, kind, tmp_path):
    """``_base_ = 'mim_plugins::...'`` in a config outside the repository:
    the base is read as a local file (no ``_scope_='mim_plugins'``, which is
    no registry scope), so the model builds in the library the config runs
    in."""
    from mmengine.hub import get_config
    from mmengine.registry import MODELS, init_default_scope
    import mim_plugins.det  # noqa: F401
    import mim_plugins.seg  # noqa: F401
    user = tmp_path / 'my_config.py'
    user.write_text(f"_base_ = 'mim_plugins::{base}'\n"
                    "model = dict(backbone=dict(init_cfg=None))\n")
    cfg = Config.fromfile(str(user))
    assert cfg.default_scope == scope
    assert cfg.model.type == kind
    assert cfg.model.get('_scope_', scope) == scope  # never 'mim_plugins'
    init_default_scope(scope)
    assert type(MODELS.build(cfg.model)).__name__ == kind
    # mmengine.hub.get_config reads the model index, then the file
    assert get_config(f'mim_plugins::{base}').model.type == kind


def test_unknown_mim_plugins_path_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match='no such config in '
                       'mim_plugins.*are under pretrain/'):
        Config.fromfile('mim_plugins::pretrain/a2mim/nothing.py')


def test_model_index_agrees_with_paper_py():
    """model-index.yml and the metafiles are generated from paper.py: the
    committed files must be what it generates (python tools/
    make_metafiles.py rewrites them), and every number of the table is in
    them."""
    import yaml
    from mim_plugins.reproduce import paper
    from mim_plugins.reproduce.metafile import METRICS, generate
    files = generate(ROOT)
    for rel, text in files.items():
        with open(osp.join(ROOT, rel)) as f:
            assert f.read() == text, (
                f'{rel} differs from paper.py: python tools/'
                f'make_metafiles.py')
    models = {}
    for rel in yaml.safe_load(files['model-index.yml'])['Import']:
        for m in yaml.safe_load(files[rel])['Models']:
            models[m['Config']] = m
    for row in paper.TABLE:
        model = models[row.config]
        if row.value is None:
            continue
        task, dataset, metric = METRICS[row.metric]
        found = [r['Metrics'][metric] for r in model['Results']
                 if (r['Task'], r['Dataset']) == (task, dataset)]
        assert found == [row.value], (row.config, row.metric)


def _imports(path):
    tree = ast.parse(open(path).read())
    module = osp.relpath(path, ROOT)[:-3].replace(os.sep, '.')
    package = module.rsplit('.', 1)[0] if not module.endswith(
        '__init__') else module[:-len('.__init__')]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')
                parts = parts[:len(parts) - node.level + 1]
                base = '.'.join(parts + ([base] if base else []))
            yield base
            yield from (f'{base}.{a.name}' for a in node.names)


def test_library_never_imports_the_applications():
    """Imports go from the applications (``mim_plugins.reproduce``,
    ``mim_plugins.benchmark``, ``tools/``) to the library, never back."""
    offenders = []
    for path in glob.glob(osp.join(ROOT, 'mim_plugins', '**', '*.py'),
                          recursive=True):
        module = osp.relpath(path, ROOT)[:-3].replace(os.sep, '.')
        if module.startswith(APPS):
            continue
        offenders += [(module, name) for name in _imports(path)
                      if name.startswith(APPS)]
    assert not offenders


def test_import_mim_plugins_loads_no_application():
    code = ('import sys, mim_plugins; print(sorted(m for m in sys.modules '
            f'if m.startswith({APPS!r})))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == '[]'


USER_CONFIG = """\
_base_ = 'mim_plugins::pretrain/a2mim/a2mim_resnet-tiny_1xb16-20i_demo.py'
train_dataloader = dict(batch_size=4, dataset=dict(data_root='data/demo'))
train_cfg = dict(max_iters=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
"""
CLS_CONFIG = """\
_base_ = 'mim_plugins::classification/a2mim/resnet50_a2mim-pre_8xb256-rsb-a3-100e_in1k.py'  # noqa
model = dict(backbone=dict(depth=18, stem_channels=16, base_channels=16,
                           init_cfg=None),
             head=dict(in_channels=128, num_classes=4))
data_preprocessor = dict(num_classes=4)
test_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(_delete_=True, type='CustomDataset', data_root='data/demo',
                 data_prefix='val', pipeline=_base_.test_pipeline))
test_evaluator = dict(type='Accuracy', topk=(1, ))
custom_hooks = []
"""


@pytest.fixture(scope='module')
def wheel_env(tmp_path_factory):
    """A fresh virtual environment with our wheel installed (not editable)
    over the already-installed stack (a .pth to the project environment's
    site-packages), and an empty working directory with generated images."""
    tmp = tmp_path_factory.mktemp('wheel')
    subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps',
         '--no-build-isolation', ROOT, '-w', str(tmp / 'dist')],
        check=True, cwd=str(tmp), capture_output=True)
    wheel = glob.glob(str(tmp / 'dist' / 'mim_plugins-*.whl'))[0]
    venv = tmp / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip',
                    str(venv)], check=True)
    python = str(venv / 'bin' / 'python')
    site = subprocess.run(
        [python, '-c', 'import sysconfig; '
         'print(sysconfig.get_paths()["purelib"])'],
        check=True, capture_output=True, text=True).stdout.strip()
    with open(osp.join(site, 'project_stack.pth'), 'w') as f:
        f.write(sysconfig.get_paths()['purelib'] + '\n')
    # --ignore-installed: the project environment's editable install stays
    subprocess.run([python, '-m', 'pip', 'install', '-q', '--no-deps',
                    '--ignore-installed', wheel], check=True,
                   capture_output=True)
    work = tmp / 'work'
    work.mkdir()
    from mim_plugins.reproduce.synthetic import make_classification_folder
    make_classification_folder(str(work / 'data' / 'demo'), num_train=8,
                               num_val=2, size=64)
    (work / 'my_config.py').write_text(USER_CONFIG)
    (work / 'my_cls_config.py').write_text(CLS_CONFIG)
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'PYTHONWARNINGS')}
    env['CUDA_VISIBLE_DEVICES'] = ''
    return dict(python=python, site=site, work=str(work), env=env)


def _run(env, *cmd, timeout=900):
    proc = subprocess.run(list(cmd), cwd=env['work'], env=env['env'],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_wheel_installs_the_package_not_the_checkout(wheel_env):
    out = _run(wheel_env, wheel_env['python'], '-c', textwrap.dedent("""\
        import mim_plugins, _mim_plugins_hook
        from mmengine.config import Config
        cfg = Config.fromfile(
            'mim_plugins::pretrain/a2mim/a2mim_resnet50_8xb256-coslr-100e_in1k.py')
        print(mim_plugins.__file__, cfg.model.type)
        """))
    assert osp.join(wheel_env['site'], 'mim_plugins', '__init__.py') in out
    assert 'A2MIM' in out
    for name in ('configs', 'tools'):  # copies, not links to the checkout
        path = osp.join(wheel_env['site'], 'mim_plugins', '.mim', name)
        assert osp.isdir(path) and not osp.islink(path)


def test_mmpretrain_train_tool_trains_a_user_config(wheel_env):
    """mmpretrain's own tools/train.py, no line added: the wheel's start-up
    hook makes ``mim_plugins::`` resolve before custom_imports run."""
    import mmpretrain
    script = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools',
                      'train.py')
    _run(wheel_env, wheel_env['python'], script, 'my_config.py',
         '--work-dir', 'work_mmpretrain')
    assert osp.exists(osp.join(wheel_env['work'], 'work_mmpretrain',
                               'iter_2.pth'))


@pytest.mark.parametrize('launcher', ['none', 'pytorch'])
def test_mim_train(wheel_env, launcher):
    gpus = '0' if launcher == 'none' else '2'  # two CPU processes, gloo
    out = _run(wheel_env, wheel_env['python'], '-m', 'mim', 'train',
               'mim_plugins', 'my_config.py', '--gpus', gpus, '--launcher',
               launcher, '--work-dir', f'work_mim_{launcher}')
    assert 'Training finished successfully' in out
    assert osp.exists(osp.join(wheel_env['work'], f'work_mim_{launcher}',
                               'iter_2.pth'))


def test_mim_test_and_search(wheel_env):
    _run(wheel_env, wheel_env['python'], '-c', textwrap.dedent("""\
        import torch, mim_plugins
        from mim_plugins.apis import build_model_from_cfg
        model = build_model_from_cfg('my_cls_config.py')
        torch.save(dict(state_dict=model.state_dict()), 'cls.pth')
        """))
    out = _run(wheel_env, wheel_env['python'], '-m', 'mim', 'test',
               'mim_plugins', 'my_cls_config.py', '--checkpoint', 'cls.pth',
               '--gpus', '0', '--launcher', 'none', '--work-dir',
               'work_test')
    assert 'accuracy/top1' in out
    out = _run(wheel_env, wheel_env['python'], '-m', 'mim', 'search',
               'mim_plugins', '--field', 'imagenet-1k/top_1_accuracy')
    assert 'vit-base-p16_a2mim-pre_8xb128-amp-coslr-100e_in1k' in out
    assert '84.2' in out


def test_demo_runs_from_the_wheel_in_an_empty_directory(wheel_env):
    script = osp.join(wheel_env['site'], 'mim_plugins', '.mim', 'tools',
                      'reproduce.py')
    out = _run(wheel_env, wheel_env['python'], script, '--scale', 'test',
               '--work-dir', 'demo', timeout=1200)
    assert 'pkg_resources is deprecated' not in out
    work = wheel_env['work']
    assert osp.exists(osp.join(work, 'demo', 'results.md'))
    assert osp.exists(osp.join(work, 'demo', 'figures', 'demo_results.png'))
    # the paper preset points at the installed tools and configs
    out = _run(wheel_env, wheel_env['python'], script, '--preset', 'paper',
               '--work-dir', 'paper')
    tool = osp.join(wheel_env['site'], 'mim_plugins', '.mim', 'tools',
                    'dist_train.sh')
    assert tool in out and 'configs/pretrain/a2mim/' in out


def test_benchmark_runs_from_the_wheel(wheel_env):
    script = osp.join(wheel_env['site'], 'mim_plugins', '.mim', 'tools',
                      'benchmark.py')
    out = _run(wheel_env, wheel_env['python'], script, '--device', 'cpu',
               '--tiny', '--only', 'a2mim_r50', '--steps', '1', '--warmup',
               '0', '--no-flops', '--out', 'bench.json')
    assert osp.exists(osp.join(wheel_env['work'], 'bench.json'))
    assert 'a2mim_r50' in out
