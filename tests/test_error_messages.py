"""Every error names the problem and the fix (docs/troubleshooting.md).

Each test starts from what used to be a bare or misleading error: a
checkpoint file that is empty, text or random bytes; ``PRETRAINED`` unset;
a mask patch size whose suggested fix led to the next error.
"""
import os.path as osp
import pickle
import re

import numpy as np
import pytest
import torch

from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

from helpers import ROOT, load_tool, tiny_resnet_cfg, tiny_vit_cfg
from mim_plugins.checkpoints import (LayoutError, NotACheckpointError,
                                     checkpoint_format, load_source)

import_tool = load_tool('model_converters/import_checkpoint')
check_tool = load_tool('check_pretrained')


# ------------------------------------------------- import_checkpoint.py ----
def _import_error(path, capsys, *extra):
    """The tool's one-line error for ``path`` (exit status 2)."""
    assert import_tool.main([str(path), str(path) + '.out', *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: ') and '\n' not in err
    return err


def test_empty_file_says_empty_not_eof(tmp_path, capsys):
    # was: a bare EOFError traceback
    path = tmp_path / 'ckpt.pth'
    path.write_bytes(b'')
    err = _import_error(path, capsys)
    assert f'{path} is empty (0 bytes): not a checkpoint' in err
    assert 'interrupted' in err and 'again' in err


@pytest.mark.parametrize('text, hint', [
    ('hello world\n', 'checkpoint file itself'),
    ('<!DOCTYPE html>\n<html><body>Sign in</body></html>\n', 'web page'),
    ('version https://git-lfs.github.com/spec/v1\noid sha256:00\n',
     'git lfs pull'),
], ids=['text', 'html', 'git-lfs'])
def test_text_file_says_text_not_index_error(tmp_path, capsys, text, hint):
    # was: IndexError: pop from empty list (or KeyError) from the unpickler
    path = tmp_path / 'ckpt.pth'
    path.write_text(text)
    err = _import_error(path, capsys)
    assert f'{path} is a text file, not a PyTorch/safetensors checkpoint' \
        in err
    assert hint in err and 'allow-pickle' not in err


def test_random_bytes_are_not_called_python_objects(tmp_path, capsys):
    # was: "holds Python objects other than tensors ... --allow-pickle"
    data = bytes(np.random.default_rng(0).integers(0, 256, 200,
                                                   dtype=np.uint8))
    assert data[:1] not in (b'\x80', b'P')
    path = tmp_path / 'ckpt.pth'
    path.write_bytes(data)
    err = _import_error(path, capsys)
    assert ('is neither a PyTorch checkpoint (zip or legacy pickle) nor '
            'safetensors: its first bytes are ' + data[:16].hex(' ')) in err
    assert 'allow-pickle' not in err
    # allow_pickle does not unpickle it either
    with pytest.raises(NotACheckpointError, match='neither'):
        load_source(str(path), allow_pickle=True)


def test_damaged_checkpoints_say_truncated(tmp_path, capsys):
    state = {'w': torch.arange(1000.)}
    whole = tmp_path / 'whole.pth'
    torch.save(state, whole)
    cut = tmp_path / 'zip.pth'
    cut.write_bytes(whole.read_bytes()[:-200])
    assert 'damaged or truncated zip archive' in _import_error(cut, capsys)
    torch.save(state, whole, _use_new_zipfile_serialization=False)
    cut = tmp_path / 'legacy.pth'
    cut.write_bytes(whole.read_bytes()[:60])
    err = _import_error(cut, capsys)
    assert 'starts as a PyTorch checkpoint (legacy pickle) but cannot be ' \
        'read' in err and 'truncated or damaged' in err
    assert 'allow-pickle' not in err


def test_plain_pickle_is_named(tmp_path, capsys):
    path = tmp_path / 'model.pkl'
    path.write_bytes(pickle.dumps({'w': [1.0, 2.0]}, protocol=2))
    err = _import_error(path, capsys)
    assert 'is a plain Python pickle, not a PyTorch checkpoint' in err


ran = []


def _run(what):
    ran.append(what)


class _Payload:
    """An object whose unpickling would run code (appends to ``ran``)."""

    def __init__(self, bound: bool = False):
        self.call = ran.append if bound else _run

    def __reduce__(self):
        return self.call, ('unpickled',)


@pytest.mark.parametrize('bound', [False, True], ids=['global', 'getattr'])
def test_only_real_pickled_objects_get_the_allow_pickle_advice(tmp_path,
                                                               bound):
    path = str(tmp_path / 'ckpt.pth')
    torch.save({'state_dict': {'w': torch.zeros(2)},
                'cfg': _Payload(bound)}, path)
    assert checkpoint_format(path) == 'zip'
    with pytest.raises(LayoutError) as info:
        load_source(path)
    assert not isinstance(info.value, NotACheckpointError)
    message = str(info.value)
    assert 'holds Python objects other than tensors' in message
    assert ('append' if bound else 'test_error_messages._run') in message
    assert '--allow-pickle' in message
    assert ran == []  # nothing ran


def test_format_comes_from_the_bytes_not_the_extension(tmp_path):
    from safetensors.torch import save_file
    state = {'w': torch.arange(4.)}
    zip_named_safetensors = str(tmp_path / 'a.safetensors')
    torch.save(state, zip_named_safetensors)
    safetensors_named_pth = str(tmp_path / 'b.pth')
    save_file(state, safetensors_named_pth)
    for path in (zip_named_safetensors, safetensors_named_pth):
        assert torch.equal(load_source(path)['w'], state['w'])
    cut = tmp_path / 'c.safetensors'
    cut.write_bytes(open(safetensors_named_pth, 'rb').read()[:20])
    with pytest.raises(NotACheckpointError, match='truncated safetensors'):
        load_source(str(cut))


# -------------------------------------------------- check_pretrained.py ----
def _tool_error(capsys):
    """The tool's error line (mmengine's logger may write to stderr too)."""
    lines = capsys.readouterr().err.strip().splitlines()
    return next(line for line in reversed(lines) if line.startswith('error'))


PRETRAINED_CFG = osp.join(
    ROOT, 'configs/classification/a2mim/'
    'resnet50_a2mim-pre_8xb256-rsb-a3-100e_in1k.py')


def test_unset_pretrained_is_named(tmp_path, monkeypatch, capsys):
    # was: FileNotFoundError: work_dirs/.../epoch_300.pth can not be found.
    monkeypatch.chdir(tmp_path)  # no work_dirs/ here
    monkeypatch.delenv('PRETRAINED', raising=False)
    assert check_tool.main([PRETRAINED_CFG]) == 2
    err = _tool_error(capsys)
    assert 'environment variable PRETRAINED, which is not set' in err
    assert 'work_dirs/a2mim_resnet50_8xb256-coslr-300e_in1k/epoch_300.pth ' \
        'does not exist' in err
    assert f'PRETRAINED=PATH python tools/check_pretrained.py ' \
        f'{PRETRAINED_CFG}' in err


def test_set_but_wrong_pretrained_names_the_path(tmp_path, monkeypatch,
                                                 capsys):
    wrong = str(tmp_path / 'nope.pth')
    monkeypatch.setenv('PRETRAINED', wrong)
    assert check_tool.main([PRETRAINED_CFG]) == 2
    err = _tool_error(capsys)
    assert f'pre-trained checkpoint {wrong} (the value of PRETRAINED) does ' \
        f'not exist' in err
    assert 'not set' not in err
    # a CHECKPOINT argument is named as such
    monkeypatch.delenv('PRETRAINED')
    assert check_tool.main([PRETRAINED_CFG, wrong]) == 2
    err = _tool_error(capsys)
    assert f'checkpoint {wrong} does not exist' in err and 'PRETRAINED' \
        not in err


def test_pretrained_default_in_a_base_config(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv('MY_WEIGHTS', raising=False)
    (tmp_path / 'base.py').write_text(
        "pretrained = '{{$MY_WEIGHTS:weights/pre.pth}}'\n")
    (tmp_path / 'cls.py').write_text(
        "_base_ = ['./base.py']\ndefault_scope = 'mmpretrain'\n"
        "model = dict(type='ImageClassifier', backbone=dict(type='ResNet', "
        "depth=18, init_cfg=dict(type='Pretrained', checkpoint={{_base_."
        "pretrained}}, prefix='backbone.')), head=dict(type='LinearClsHead',"
        " num_classes=2, in_channels=512))\n")
    assert check_tool.main([str(tmp_path / 'cls.py')]) == 2
    assert 'environment variable MY_WEIGHTS, which is not set' in \
        _tool_error(capsys)


# ------------------------------------------------------ mask generators ----
HEAD = dict(
    type='A2MIMHead',
    loss=dict(type='RegressionLoss', mode='l1_loss', loss_weight=1.0,
              reduction='none'),
    unmask_weight=0., fft_weight=0., encoder_in_channels=3)


def _suggestions(message, input_size):
    """Every (input_size, mask_patch_size) that ``message`` suggests."""
    found = re.search(r'Use mask_patch_size=(\d+)(?: \(or ([\d, ]+)\))?',
                      message)
    if found:
        sizes = [found.group(1)] + (found.group(2) or '').split(', ')
        return [(input_size, int(s)) for s in sizes if s]
    found = re.search(r'Use input_size=([\d or]+?) with mask_patch_size='
                      r'(\d+)', message)
    assert found, message
    block = int(found.group(2))
    return [(int(s), block) for s in found.group(1).split(' or ')]


def _model(backbone, input_size):
    """A2MIM with a tiny ViT/16 or ResNet-18 (masked at ``mask_layer``)."""
    if backbone == 'vit':
        cfg, channels, stride = tiny_vit_cfg(img_size=input_size), 64, 16
    else:
        cfg, channels, stride = tiny_resnet_cfg(
            mask_layer=int(backbone[-1])), 128, 32
    return MODELS.build(dict(
        type='A2MIM', backbone=cfg, head=HEAD,
        neck=dict(type='SimMIMLinearDecoder', in_channels=channels,
                  encoder_stride=stride)))


@pytest.mark.parametrize('sizes, backbone', [
    ((224, 30, 16), 'vit'),  # used to circle: 210, then 192, then 224 ...
    ((224, 30, 16), 'resnet3'),
    ((224, 48, 16), 'vit'),
    ((200, 32, 16), 'vit'),  # no block fits 200: the input size changes
    ((200, 32, 16), 'resnet3'),
    ((224, 10, 4), 'resnet0'),
], ids=lambda v: '-'.join(map(str, v)) if isinstance(v, tuple) else v)
def test_following_the_mask_size_suggestion_works(sizes, backbone):
    with pytest.raises(ValueError) as info:
        TRANSFORMS.build(dict(type='BlockwiseMaskGenerator',
                              input_size=sizes[0], mask_patch_size=sizes[1],
                              model_patch_size=sizes[2]))
    message = str(info.value)
    assert 'is not a multiple of' in message
    # was: "use e.g. input_size=210 or a mask_patch_size that divides it",
    # and at 210 no mask_patch_size is a multiple of 16
    assert 'that divides it' not in message
    torch.manual_seed(0)
    np.random.seed(0)
    for input_size, mask_patch_size in _suggestions(message, sizes[0]):
        gen = TRANSFORMS.build(dict(
            type='BlockwiseMaskGenerator', input_size=input_size,
            mask_patch_size=mask_patch_size, model_patch_size=sizes[2]))
        mask = gen({'img_shape': (input_size, input_size)})['mask']
        model = _model(backbone, input_size)
        img = torch.randn(1, 3, input_size, input_size)
        losses = model.loss(img, [DataSample().set_mask(torch.from_numpy(
            mask))])
        assert all(torch.isfinite(v).all() for v in losses.values()), \
            (input_size, mask_patch_size)


def test_mask_size_suggestion_keeps_the_crop_and_the_stride():
    with pytest.raises(ValueError) as info:
        TRANSFORMS.build(dict(type='BlockwiseMaskGenerator', input_size=224,
                              mask_patch_size=30, model_patch_size=16))
    assert str(info.value) == (
        'BlockwiseMaskGenerator: mask_patch_size=30 is not a multiple of '
        'model_patch_size=16 and input_size=224 is not a multiple of '
        'mask_patch_size=30. Use mask_patch_size=32 (or 16, 112), a '
        'multiple of 16 that divides 224, keeping input_size=224 and '
        'model_patch_size=16 (the backbone\'s stride at the masked stage).')
    with pytest.raises(ValueError, match='mask_patch_size=0 must be a '
                       'positive int'):
        TRANSFORMS.build(dict(type='BlockwiseMaskGenerator', input_size=224,
                              mask_patch_size=0, model_patch_size=16))


def test_mask_grid_error_names_the_stage_stride_at_any_input_size():
    """200 px through a ResNet: 13 positions at stage 3 (stride 16); the
    mask at stride 8 does not fit, and the error names stride 16 (not
    200 // 13 = 15) and an input size it divides."""
    from mim_plugins.models.utils import stage_stride
    assert stage_stride(200, 13) == 16 and stage_stride(224, 14) == 16
    assert stage_stride(224, 56) == 4 and stage_stride(7, 7) == 1
    model = MODELS.build(dict(type='A2MIMResNet', depth=18, stem_channels=16,
                              base_channels=16, mask_layer=3))
    with pytest.raises(ValueError, match=r'mask grid \(25, 25\) does not '
                       r'match the feature grid \(13, 13\) .* '
                       r'model_patch_size=16 .* 208x208 px'):
        model(torch.randn(1, 3, 200, 200), mask=torch.zeros(1, 25, 25))
