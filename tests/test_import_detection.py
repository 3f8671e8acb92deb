"""Which layout a checkpoint is: our own and mmpretrain's kept as they are,
unknown and ambiguous layouts and unsupported keys are errors that say so,
pickled objects need allow_pickle, and the CLI prints the layout, config and
coverage."""
import pytest
import torch

from checkpoint_utils import perturb, simmim_vit_state, tiny_timm_vit
from mim_plugins.checkpoints import (FORMATS, LayoutError, convert_checkpoint,
                                     load_source)
from mim_plugins.checkpoints import convert as convert_module
from helpers import load_tool
from mim_plugins.engine.pretrained_check import analyse_pretrained

import_tool = load_tool('model_converters/import_checkpoint')

timm = pytest.importorskip('timm')
torchvision = pytest.importorskip('torchvision')


@pytest.mark.parametrize('name', ['simmim_swin', 'a2mim_vit', 'a2mim_resnet',
                                  'maskdistill_vit', 'a2mim_convnext',
                                  'simmim_convnext'])
def test_mmpretrain_layout_is_kept_as_is(name):
    """mmpretrain zoo / our own pre-training checkpoints are already ours:
    every backbone and decoder tensor is carried unchanged."""
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    from helpers import TINY_CONFIGS
    cfg = Config.fromfile(TINY_CONFIGS[name])
    if name == 'maskdistill_vit':
        cfg.model.target_generator.init_cfg = None
    model = perturb(MODELS.build(cfg.model))
    state = model.state_dict()
    conv = convert_checkpoint(dict(meta={}, state_dict=state))
    assert conv.source == 'mmpretrain'
    for key, value in conv.state_dict.items():
        if key in state:
            assert torch.equal(value, state[key]), key
    carried = {k for k in state if k.startswith(('backbone.', 'neck.'))}
    assert carried <= set(conv.state_dict)
    assert set(state) - carried == set(conv.dropped)


# ------------------------------------------------------ detection, errors ----
def test_unknown_layout_names_the_known_ones():
    with pytest.raises(LayoutError) as err:
        convert_checkpoint({'encoder.foo.weight': torch.zeros(1)})
    for name in FORMATS:
        assert name in str(err.value)


def test_ambiguous_layout_is_an_error(monkeypatch):
    """Two layouts that both read the keys but convert them differently."""
    timm_mod = FORMATS['timm']

    class Other:
        NAME, SUMMARY = 'other', 'a layout that reads the same keys'
        detect = staticmethod(timm_mod.detect)

        @staticmethod
        def convert(state, **kw):
            conv = timm_mod.convert(state, **kw)
            conv.state_dict['backbone.cls_token'] = \
                conv.state_dict['backbone.cls_token'] + 1
            conv.source = 'other'
            return conv

    monkeypatch.setattr(convert_module, 'SOURCES',
                        (timm_mod, Other, FORMATS['torchvision']))
    with pytest.raises(LayoutError, match='Ambiguous.*timm, other'):
        convert_checkpoint(tiny_timm_vit().state_dict(), num_heads=2)
    # --format settles it
    assert convert_checkpoint(tiny_timm_vit().state_dict(), format='timm',
                              num_heads=2).source == 'timm'


def test_unsupported_keys_are_an_error_not_a_silent_drop():
    state = tiny_timm_vit(reg_tokens=2).state_dict()
    with pytest.raises(LayoutError, match='register tokens'):
        convert_checkpoint(state, format='timm')
    state = tiny_timm_vit().state_dict()
    state['blocks.0.attn.mystery'] = torch.zeros(3)
    with pytest.raises(LayoutError, match='mystery'):
        convert_checkpoint(state, format='timm')


def test_pickled_objects_need_allow_pickle(tmp_path, monkeypatch):
    """microsoft/SimMIM saves its yacs training config in the checkpoint:
    the safe loader refuses it; allow_pickle reads it, even where yacs is
    not installed."""
    import sys
    import types
    yacs = types.ModuleType('yacs_like')

    class CfgNode(dict):
        pass
    CfgNode.__module__, CfgNode.__qualname__ = 'yacs_like', 'CfgNode'
    yacs.CfgNode = CfgNode
    monkeypatch.setitem(sys.modules, 'yacs_like', yacs)
    path = str(tmp_path / 'ckpt.pth')
    torch.save(dict(model=simmim_vit_state(), config=CfgNode(a=1)), path)
    monkeypatch.delitem(sys.modules, 'yacs_like')
    with pytest.raises(LayoutError, match='allow-pickle'):
        load_source(path)
    ckpt = load_source(path, allow_pickle=True)
    assert convert_checkpoint(ckpt).source == 'simmim'


# -------------------------------------------------------------------- CLI ----
def test_cli_prints_layout_config_and_coverage(tmp_path, capsys):
    src = perturb(timm.models.resnet.ResNet(
        timm.models.resnet.BasicBlock, [2, 2, 2, 2], channels=(16, 32, 64,
                                                               128)))
    path, dst = str(tmp_path / 'r18.pth'), str(tmp_path / 'out' / 'r18.pth')
    torch.save(src.state_dict(), path)
    assert import_tool.main([path, dst]) == 0
    out = capsys.readouterr().out
    assert 'source layout : timm (resnet)' in out
    assert "type='ResNet', depth=18, base_channels=16" in out
    assert 'coverage      : 126 of 128 source tensors' in out
    assert 'fc.weight' in out and 'all 126 tensors load' in out
    saved = torch.load(dst, weights_only=True)
    assert set(saved) == {'meta', 'state_dict'}
    assert all(k.startswith('backbone.') for k in saved['state_dict'])
    # the downstream Pretrained init with prefix='backbone.' takes it all
    from mmpretrain.models import ResNet
    report = analyse_pretrained(
        ResNet(depth=18, base_channels=16, out_indices=(3, )), dst,
        'backbone.')
    assert report.problems() == [] and not report.unexpected


def test_cli_unknown_layout_exits_2(tmp_path, capsys):
    path = str(tmp_path / 'x.pth')
    torch.save({'something.weight': torch.zeros(2)}, path)
    assert import_tool.main([path, str(tmp_path / 'y.pth')]) == 2
    err = capsys.readouterr().err
    assert 'Unknown checkpoint layout' in err and 'openmixup' in err
