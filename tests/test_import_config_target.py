"""Importing into the backbone of a named config (``--config``).

The target architecture comes from the config, not from the shapes: the
heads are the config's, the identity parameters it has and the source lacks
are added, and weights that do not fit it are refused, naming the keys.
"""
import pytest
import torch

from checkpoint_utils import assert_rel_close, build_loaded, perturb
from helpers import TINY_RESNET, load_tool
from mim_plugins.checkpoints import import_checkpoint
from mim_plugins.engine.pretrained_check import analyse_pretrained

import_tool = load_tool('model_converters/import_checkpoint')
timm = pytest.importorskip('timm')

IMG = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
ARCH = dict(embed_dims=64, num_layers=2, num_heads=2, feedforward_channels=128)


def _timm_vit(tmp_path):
    from timm.models.vision_transformer import VisionTransformer
    src = perturb(VisionTransformer(img_size=32, patch_size=8, embed_dim=64,
                                    depth=2, num_heads=2, mlp_ratio=2.,
                                    num_classes=0))
    path = str(tmp_path / 'vit.pth')
    torch.save(src.state_dict(), path)
    return src, path


def _config(tmp_path, hooks=(), **backbone):
    """A downstream config (an A2MIM-style ViT: layer scale, per-layer
    relative position bias) with a Pretrained init, as ours."""
    cfg = dict(type='BEiTViT', arch=ARCH, img_size=32, patch_size=8,
               use_abs_pos_emb=True, use_rel_pos_bias=True,
               layer_scale_init_value=0.1, final_norm=True, out_type='raw',
               init_cfg=dict(type='Pretrained', checkpoint='unused.pth',
                             prefix='backbone.'))
    cfg.update(backbone)
    path = tmp_path / 'downstream.py'
    path.write_text(f'model = dict(type=\'ImageClassifier\', backbone='
                    f'{cfg!r}, neck=None, head=None)\n'
                    f'custom_hooks = {list(hooks)!r}\n')
    return str(path), cfg


def test_config_is_the_target_and_identity_parameters_come_from_it(
        tmp_path):
    src, path = _timm_vit(tmp_path)
    config, cfg = _config(tmp_path)
    result = import_checkpoint(path, str(tmp_path / 'out.pth'),
                               config=config)
    conv = result.conversion
    expected = dict(cfg)
    expected.pop('init_cfg')
    assert conv.backbone == expected
    # the heads are the config's: nothing inferred from the shapes
    assert not any('inferred from' in n for n in conv.notes)
    assert 'backbone.layers.1.gamma_2' in conv.added
    assert 'backbone.layers.0.attn.relative_position_bias_table' in conv.added
    assert f'BEiTViT of {config}: all' in result.verified
    # the same function as the source, and a strict load downstream
    with torch.no_grad():
        ours = build_loaded(conv.backbone, conv.state_dict)(IMG)[0]
    assert_rel_close(ours, src.forward_features(IMG))
    from mmpretrain.registry import MODELS
    report = analyse_pretrained(MODELS.build(expected), result.path,
                                'backbone.')
    assert report.problems() == [] and not report.unexpected


@pytest.mark.parametrize('change,key', [
    (dict(arch=dict(ARCH, num_layers=3)), 'layers.2.'),
    (dict(patch_size=16), 'patch_embed.projection.weight'),
], ids=['depth', 'patch'])
def test_weights_that_do_not_fit_the_config_are_refused(tmp_path, change,
                                                        key):
    _, path = _timm_vit(tmp_path)
    config, _ = _config(tmp_path, **change)
    with pytest.raises(RuntimeError, match='does not load the converted '
                       'weights strictly') as err:
        import_checkpoint(path, str(tmp_path / 'out.pth'), config=config)
    message = str(err.value)
    assert key in message and config in message
    assert 'name a config whose model.backbone' in message
    assert not (tmp_path / 'out.pth').exists()


def test_output_norms_follow_the_config_and_its_fresh_keys(tmp_path):
    """Our downstream ViT configs pool (``avg_featmap``: a fresh ``ln2``,
    declared by their PretrainedCheckHook, and no final ``ln1``): the
    source's final norm is not carried, ``ln2`` may be missing; without
    the hook's declaration it may not."""
    _, path = _timm_vit(tmp_path)
    pooled = dict(out_type='avg_featmap', final_norm=False)
    hook = dict(type='PretrainedCheckHook', allow_missing=[r'^ln2\.'])
    config, _ = _config(tmp_path, hooks=[hook], **pooled)
    conv = import_checkpoint(path, str(tmp_path / 'out.pth'),
                             config=config).conversion
    assert 'backbone.ln1.weight' in conv.dropped
    assert 'backbone.ln2.weight' not in conv.state_dict
    assert any('ln2.weight' in n and 'fresh' in n for n in conv.notes)
    config, _ = _config(tmp_path, **pooled)
    with pytest.raises(RuntimeError, match='missing.*ln2'):
        import_checkpoint(path, str(tmp_path / 'out.pth'), config=config)


def test_cli_config_option(tmp_path, capsys):
    _, path = _timm_vit(tmp_path)
    config, _ = _config(tmp_path)
    dst = str(tmp_path / 'out.pth')
    assert import_tool.main([path, dst, '--config', config]) == 0
    out = capsys.readouterr().out
    assert "backbone      : dict(type='BEiTViT'" in out
    assert f'backbone from {config}' in out
    bad, _ = _config(tmp_path, arch=dict(ARCH, num_layers=3))
    assert import_tool.main([path, dst, '--config', bad]) == 2
    assert 'layers.2.' in capsys.readouterr().err


def test_pretraining_config_takes_its_own_checkpoint(tmp_path):
    """A pre-training config of ours (the tiny A2MIM ResNet, mask token and
    decoder) and a checkpoint of its model: every tensor fits."""
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    model = perturb(MODELS.build(Config.fromfile(TINY_RESNET).model))
    path = str(tmp_path / 'a2mim.pth')
    torch.save(dict(state_dict=model.state_dict()), path)
    result = import_checkpoint(path, str(tmp_path / 'out.pth'),
                               config=TINY_RESNET)
    conv = result.conversion
    assert conv.backbone['type'] == 'A2MIMResNet'
    assert 'backbone.mask_token' in conv.state_dict
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(conv.state_dict['backbone.' + key], value), key
