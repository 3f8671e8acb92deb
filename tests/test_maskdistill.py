"""MaskDistill: CLIP teacher (converter, frozen, strict loading), head, algorithm."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

from helpers import ROOT, load_tool
from mim_plugins.apis import build_model_from_cfg
converter = load_tool('model_converters/clip_to_mim_plugins')

TINY = osp.join(ROOT, 'configs/pretrain/maskdistill/'
                'maskdistill_vit-tiny_1xb16-20i_demo.py')
C, LAYERS, HEADS, P, IMG, D = 32, 2, 2, 8, 32, 16


def openai_clip_state(seed=0):
    """A CLIP state dict in OpenAI's layout with tiny shapes, text tower too."""
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: 0.2 * torch.randn(*s, generator=g)  # noqa: E731
    n = (IMG // P)**2 + 1
    sd = {'visual.conv1.weight': r(C, 3, P, P),
          'visual.class_embedding': r(C),
          'visual.positional_embedding': r(n, C),
          'visual.ln_pre.weight': 1 + r(C), 'visual.ln_pre.bias': r(C),
          'visual.ln_post.weight': 1 + r(C), 'visual.ln_post.bias': r(C),
          'visual.proj': r(C, D),
          'token_embedding.weight': r(10, C), 'text_projection': r(C, D),
          'transformer.resblocks.0.ln_1.weight': r(C)}
    for i in range(LAYERS):
        b = f'visual.transformer.resblocks.{i}.'
        sd.update({
            b + 'ln_1.weight': 1 + r(C), b + 'ln_1.bias': r(C),
            b + 'attn.in_proj_weight': r(3 * C, C),
            b + 'attn.in_proj_bias': r(3 * C),
            b + 'attn.out_proj.weight': r(C, C), b + 'attn.out_proj.bias': r(C),
            b + 'ln_2.weight': 1 + r(C), b + 'ln_2.bias': r(C),
            b + 'mlp.c_fc.weight': r(4 * C, C), b + 'mlp.c_fc.bias': r(4 * C),
            b + 'mlp.c_proj.weight': r(C, 4 * C), b + 'mlp.c_proj.bias': r(C)})
    return sd


def reference_clip_visual(sd, x):
    """CLIP's visual encoder written out: -> (last block, ln_post, proj)."""
    v = lambda k: sd['visual.' + k]  # noqa: E731
    B = x.shape[0]
    t = F.conv2d(x, v('conv1.weight'), stride=P).flatten(2).transpose(1, 2)
    t = torch.cat([v('class_embedding').expand(B, 1, C), t], 1)
    pos = v('positional_embedding')
    if pos.shape[0] != t.shape[1]:  # another grid: bicubic, as ViTs do
        g, h = int((pos.shape[0] - 1)**0.5), int((t.shape[1] - 1)**0.5)
        grid = pos[1:].reshape(1, g, g, C).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(h, h), mode='bicubic',
                             align_corners=False)
        pos = torch.cat([pos[:1], grid.flatten(2)[0].T], 0)
    t = t + pos
    t = F.layer_norm(t, (C, ), v('ln_pre.weight'), v('ln_pre.bias'))
    for i in range(LAYERS):
        w = lambda k: v(f'transformer.resblocks.{i}.{k}')  # noqa: E731
        h = F.layer_norm(t, (C, ), w('ln_1.weight'), w('ln_1.bias'))
        q, k, vv = F.linear(h, w('attn.in_proj_weight'),
                            w('attn.in_proj_bias')).chunk(3, -1)
        split = lambda z: z.view(B, -1, HEADS, C // HEADS).transpose(1, 2)  # noqa
        a = torch.softmax(split(q) @ split(k).transpose(-1, -2) /
                          (C // HEADS)**0.5, -1) @ split(vv)
        a = a.transpose(1, 2).reshape(B, -1, C)
        t = t + F.linear(a, w('attn.out_proj.weight'), w('attn.out_proj.bias'))
        h = F.layer_norm(t, (C, ), w('ln_2.weight'), w('ln_2.bias'))
        h = F.linear(h, w('mlp.c_fc.weight'), w('mlp.c_fc.bias'))
        h = h * torch.sigmoid(1.702 * h)  # QuickGELU
        t = t + F.linear(h, w('mlp.c_proj.weight'), w('mlp.c_proj.bias'))
    last = t[:, 1:]
    post = F.layer_norm(last, (C, ), v('ln_post.weight'), v('ln_post.bias'))
    return dict(last_block=last, final_norm=post, projection=post @ v('proj'))


def _teacher(output='projection', **kw):
    return MODELS.build(dict(
        type='CLIPViTTeacher', output=output, img_size=IMG, patch_size=P,
        out_channels=D, arch=dict(embed_dims=C, num_layers=LAYERS,
                                  num_heads=HEADS, feedforward_channels=4 * C),
        **kw))


@pytest.fixture
def converted(tmp_path):
    src, dst = tmp_path / 'ViT-B-16.pt', tmp_path / 'teacher.pth'
    sd = openai_clip_state()
    torch.save(sd, src)
    converter.main([str(src), str(dst)])
    return sd, str(dst)


@pytest.mark.parametrize('output', ['last_block', 'final_norm', 'projection'])
def test_converted_teacher_matches_reference_clip(converted, output):
    sd, path = converted
    teacher = _teacher(output, checkpoint=path)
    mean = torch.tensor([123.675, 116.28, 103.53])
    std = torch.tensor([58.395, 57.12, 57.375])
    pixels = torch.rand(2, 3, IMG, IMG) * 255
    student_in = (pixels - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)
    out = teacher(student_in, mean, std)
    clip_in = (pixels - teacher.mean) / teacher.std  # CLIP's own statistics
    ref = reference_clip_visual(sd, clip_in)[output]
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)


def test_teacher_with_other_patches_sees_the_students_grid(converted):
    """CLIP ViT-L/14 for a /16 student at 224 px, in small: the teacher's
    4x4 grid at 32 px is resized to the student's 3x3 (input_size 24), the
    image bicubic and the position embedding bicubic, and the tokens equal
    CLIP's on the resized image."""
    sd, path = converted
    teacher = _teacher('projection', checkpoint=path, input_size=3 * P)
    mean, std = torch.zeros(3), torch.ones(3)
    pixels = torch.rand(2, 3, IMG, IMG) * 255
    out = teacher(pixels, mean, std)
    assert out.shape == (2, 9, D)
    resized = F.interpolate(pixels, size=(3 * P, 3 * P), mode='bicubic',
                            align_corners=False)
    ref = reference_clip_visual(sd, (resized - teacher.mean) / teacher.std)
    torch.testing.assert_close(out, ref['projection'], rtol=1e-4, atol=1e-4)
    # without the resize the grids differ, and MaskDistill says how to fix it
    with pytest.raises(ValueError, match='input_size=20 is not a multiple'):
        _teacher(random_init=True, input_size=20)


def test_converter_names_the_teacher_config_of_each_clip(tmp_path, capsys):
    """Both CLIP teachers through the one converter: it reads the
    architecture off the weights and prints the teacher's config keys."""
    src, dst = tmp_path / 'clip.pt', tmp_path / 'teacher.pth'
    torch.save(openai_clip_state(), src)
    converter.main([str(src), str(dst)])
    out = capsys.readouterr().out
    assert f'width {C}, {LAYERS} layers, patch {P}, {IMG} px, projection ' \
        f'{D}' in out
    assert f"patch_size={P}, out_channels={D}" in out


def test_converter_rejects_unknown_keys():
    from mim_plugins.models.target_generators import convert_clip_visual
    with pytest.raises(KeyError, match='visual.attnpool'):
        convert_clip_visual({'visual.attnpool.c_proj.weight': torch.zeros(1)})


def test_teacher_checkpoint_errors_are_clear(tmp_path, converted):
    with pytest.raises(ValueError, match='needs its weights'):
        _teacher()
    with pytest.raises(FileNotFoundError, match='clip_to_mim_plugins'):
        _teacher(checkpoint=str(tmp_path / 'missing.pth'))
    _, path = converted
    with pytest.raises(ValueError, match='does not match'):
        MODELS.build(dict(
            type='CLIPViTTeacher', img_size=IMG, patch_size=P, out_channels=D,
            arch=dict(embed_dims=C, num_layers=LAYERS + 1, num_heads=HEADS,
                      feedforward_channels=4 * C), checkpoint=path))


def test_maskdistill_head_loss_against_formula():
    head = MODELS.build(dict(type='MaskDistillHead', in_channels=8,
                             out_channels=6, beta=2.0))
    torch.manual_seed(0)
    tokens, target = torch.randn(2, 16, 8), 3 * torch.randn(2, 16, 6) + 1
    mask = torch.randint(0, 2, (2, 4, 4))
    loss = head.loss(tokens, target, mask)['loss']
    pred = head.fc(tokens)
    mu = target.mean(-1, keepdim=True)
    var = ((target - mu)**2).mean(-1, keepdim=True)
    t = (target - mu) / torch.sqrt(var + 1e-6)
    d = (pred - t).abs()
    sl1 = torch.where(d < 2.0, 0.5 * d**2 / 2.0, d - 1.0)
    m = mask.flatten(1).bool()
    assert loss.item() == pytest.approx(sl1[m].mean().item(), rel=1e-5)


def test_block_mask_is_forty_percent():
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs/pretrain/maskdistill/'
        'maskdistill_vit-base-p16_8xb256-coslr-300e_in1k.py'))
    gen = [t for t in cfg.train_dataloader.dataset.pipeline
           if t.type == 'BEiTv2MaskGenerator'][0]
    mask = TRANSFORMS.build(gen)({})['mask']
    assert mask.shape == (14, 14) and mask.sum() == 75  # 38%, BEiT's "40%"


def test_maskdistill_step_keeps_teacher_frozen_and_out_of_checkpoints():
    torch.manual_seed(0)
    model = build_model_from_cfg(Config.fromfile(TINY))
    teacher = model.target_generator
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                            lr=0.1)
    model.train()
    assert not teacher.training
    x = torch.randn(2, 3, 64, 64)
    mask = torch.zeros(2, 8, 8, dtype=torch.long)
    mask[:, 2:6, 2:6] = 1
    loss = model.loss(x, [DataSample().set_mask(m) for m in mask])['loss']
    loss.backward()
    opt.step()
    assert all(p.grad is None for p in teacher.parameters())
    for k, v in teacher.state_dict().items():
        assert torch.equal(v, before[k]), k
    state = model.state_dict()
    assert not [k for k in state if k.startswith('target_generator.')]
    assert 'backbone.mask_token' in state
    # a checkpoint without the teacher loads strictly (teacher kept)
    model.load_state_dict(state, strict=True)
    for k, v in teacher.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_maskdistill_loss_uses_only_masked_tokens():
    torch.manual_seed(0)
    model = build_model_from_cfg(Config.fromfile(TINY))
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    mask = torch.zeros(1, 8, 8, dtype=torch.long)
    mask[0, :4] = 1
    samples = [DataSample().set_mask(mask[0])]
    target = model.target_generator(x, model.data_preprocessor.mean,
                                    model.data_preprocessor.std)
    tokens = model.backbone(x, mask)[-1].flatten(2).transpose(1, 2)
    expected = model.head.loss(tokens, target, mask)['loss']
    torch.testing.assert_close(model.loss(x, samples)['loss'], expected)
    # changing the targets of the visible patches changes nothing
    t2 = target.clone()
    t2[:, 32:] += 5
    torch.testing.assert_close(model.head.loss(tokens, t2, mask)['loss'],
                               expected)
