"""No silent partial loads: dry-run analysis, the hook and the CLI."""
import pytest
import torch

from mmpretrain.registry import MODELS

from helpers import load_tool, tiny_vit_cfg
from mim_plugins.engine.pretrained_check import (analyse_pretrained,
                                                 check_loaded_values,
                                                 check_pretrained)
check_tool = load_tool('check_pretrained')

ARCH = tiny_vit_cfg()['arch']


def _pretrain_ckpt(tmp_path, name='pre.pth'):
    src = MODELS.build(tiny_vit_cfg(type='SimMIMViT'))
    path = tmp_path / name
    torch.save({'state_dict': {'backbone.' + k: v
                               for k, v in src.state_dict().items()}}, path)
    return src, str(path)


def _classifier(ckpt, prefix='backbone.', img_size=32):
    return MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='BEiTViT', arch=ARCH, img_size=img_size,
                      patch_size=16, out_type='avg_featmap',
                      use_rel_pos_bias=True, layer_scale_init_value=0.1,
                      init_cfg=dict(type='Pretrained', checkpoint=ckpt,
                                    prefix=prefix)),
        head=dict(type='LinearClsHead', num_classes=4, in_channels=64)))


def test_analysis_follows_the_backbones_own_load_hooks(tmp_path):
    _, ckpt = _pretrain_ckpt(tmp_path)
    model = _classifier(ckpt)  # 32 px: tables are resized, bias expanded
    report = analyse_pretrained(model.backbone, ckpt, 'backbone.')
    assert 'layers.0.attn.relative_position_bias_table' in report.loaded
    assert report.unexpected == ['ln1.bias', 'ln1.weight', 'mask_token']
    assert report.problems() == ['ln2.bias', 'ln2.weight']
    assert report.problems([r'^ln2\.']) == []


def test_wrong_prefix_is_refused_with_the_checkpoints_prefixes(tmp_path):
    _, ckpt = _pretrain_ckpt(tmp_path)
    model = _classifier(ckpt, prefix='encoder.')
    with pytest.raises(RuntimeError, match="refusing a partial load") as e:
        check_pretrained(model)
    assert "'backbone.' (" in str(e.value)  # tells which prefix there is


def test_wrong_arch_is_refused(tmp_path):
    _, ckpt = _pretrain_ckpt(tmp_path)
    model = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='BEiTViT', arch=dict(ARCH, embed_dims=32),
                      img_size=64, patch_size=16, out_type='avg_featmap',
                      init_cfg=dict(type='Pretrained', checkpoint=ckpt,
                                    prefix='backbone.')),
        head=dict(type='LinearClsHead', num_classes=4, in_channels=32)))
    with pytest.raises(RuntimeError, match='in checkpoint vs'):
        check_pretrained(model, allow_missing=[r'^ln2\.'])


def test_missing_file_and_empty_checkpoint_are_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        check_pretrained(_classifier(str(tmp_path / 'nope.pth')))
    with pytest.raises(RuntimeError, match='has no checkpoint'):
        check_pretrained(_classifier(''))


def test_complete_load_passes_and_values_are_verified(tmp_path):
    src, ckpt = _pretrain_ckpt(tmp_path)
    model = _classifier(ckpt, img_size=64)
    reports = check_pretrained(model, allow_missing=[r'^ln2\.'])
    model.init_weights()
    check_loaded_values(model, reports)
    torch.testing.assert_close(model.backbone.layers[1].ffn.layers[1].weight,
                               src.layers[1].ffn.layers[1].weight)
    with torch.no_grad():
        model.backbone.cls_token.add_(1)  # as a later re-init would
    with pytest.raises(RuntimeError, match='cls_token'):
        check_loaded_values(model, reports)


def test_check_tool(tmp_path, capsys):
    _, ckpt = _pretrain_ckpt(tmp_path)
    config = tmp_path / 'cls.py'
    config.write_text(
        "default_scope = 'mmpretrain'\n"
        f"model = dict(type='ImageClassifier', backbone=dict(type='BEiTViT', "
        f"arch={dict(ARCH)!r}, img_size=64, patch_size=16, "
        "out_type='avg_featmap', init_cfg=dict(type='Pretrained', "
        f"checkpoint='{ckpt}', prefix='backbone.')), head=dict("
        "type='LinearClsHead', num_classes=4, in_channels=64))\n")
    assert check_tool.main([str(config), '--allow-missing', r'^ln2\.']) == 0
    assert 'loaded     ' in capsys.readouterr().out
    assert check_tool.main([str(config), '--cfg-options',
                            'model.backbone.init_cfg.prefix=head.']) == 1
    assert 'stay random' in capsys.readouterr().out
