"""tools/benchmark.py: tiny real recipes on the CPU, JSON contents, CLI."""
import json
import math
import os.path as osp
import subprocess
import sys

import pytest

from helpers import ROOT
from mim_plugins import benchmark

#: ours (ResNet and ViT, A2MIM and SimMIM) and one mmpretrain reference
TINY_ENTRIES = ['a2mim_r50', 'simmim_r50', 'a2mim_vit-b', 'simmim_vit-b',
                'mmpt_mae_vit-b']
BATCH = 2


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('bench') / 'tiny.json')
    results = benchmark.run_benchmark(
        names=TINY_ENTRIES, device='cpu', batch_size=BATCH, warmup=1,
        steps=2, tiny=True, out=out, verbose=False)
    with open(out) as f:
        return results, json.load(f)


def test_every_entry_has_finite_positive_step_times(tiny_run):
    _, data = tiny_run
    assert [e['name'] for e in data['entries']] == TINY_ENTRIES
    for e in data['entries']:
        assert 'error' not in e, e.get('traceback')
        assert len(e['step_times_s']) == 2 and len(e['warmup_times_s']) == 1
        assert all(t > 0 and math.isfinite(t) for t in e['step_times_s'])
        assert e['median_step_s'] == pytest.approx(
            sum(e['step_times_s']) / 2)  # the median of two
        assert e['images_per_s'] == pytest.approx(BATCH / e['median_step_s'])
        assert all(math.isfinite(v) for v in e['losses'])
        assert e['peak_mem_mib'] > 0
        assert e['crop_size'] == 64 and e['precision'] == 'fp32'


def test_loss_share_and_mask_generation(tiny_run):
    _, data = tiny_run
    for e in data['entries']:
        assert 0 < e['loss_share'] < 1, e['name']
        if e['name'] == 'mmpt_mae_vit-b':  # MAE masks inside the model
            assert e['mask_generator'] is None and e['maskgen_share'] is None
        else:
            assert e['mask_generator'] == 'BlockwiseMaskGenerator'
            assert e['maskgen_share'] > 0
    gens = data['mask_generators']
    assert {g['type'] for g in gens} == {'BlockwiseMaskGenerator'}
    assert all(g['masks_per_s'] > 0 for g in gens)
    used = sorted(n for g in gens for n in g['used_by'])
    assert used == sorted(n for n in TINY_ENTRIES if 'mae' not in n)


def test_ratios_are_against_the_named_references(tiny_run):
    _, data = tiny_run
    by_name = {e['name']: e for e in data['entries']}
    assert data['references'] == {
        k: list(v) for k, v in benchmark.REFERENCES.items()}
    for e in data['entries']:
        refs = [r for r in benchmark.REFERENCES[e['backbone']]
                if r != e['name'] and r in by_name]
        assert sorted(e['ratios']) == sorted(refs), e['name']
        for ref, ratio in e['ratios'].items():
            assert ratio == pytest.approx(
                e['median_step_s'] / by_name[ref]['median_step_s'])
    # the targets: A2MIM against SimMIM on each backbone
    targets = {(t['entry'], t['reference']): t for t in data['targets']}
    t = targets[('a2mim_r50', 'simmim_r50')]
    assert t['ratio'] == pytest.approx(by_name['a2mim_r50']['ratios'][
        'simmim_r50'])
    assert t['met'] == (t['ratio'] <= 1.05)
    # R50's SparK reference was not run: no ratio, not an error
    assert 'mmpt_spark_r50' not in by_name['a2mim_r50']['ratios']


def test_flops_and_machine_info(tiny_run):
    results, data = tiny_run
    for e in data['entries']:
        fl = e['flops']
        assert fl['method'] == 'mmengine.analysis.FlopAnalyzer'
        assert fl['train_flops_per_image'] == pytest.approx(
            6 * fl['fwd_macs_per_image'])
        # 3x forward is close to what torch counts in a real step
        ratio = fl['train_flops_per_image'] / \
            fl['torch_counted_train_flops_per_image']
        assert 0.8 < ratio < 1.3, (e['name'], ratio)
        assert e['mfu'] is None  # no known peak on a CPU
    m = data['machine']
    assert m['cpu_count'] >= 1 and m['torch'] and m['precision'] == 'fp32'
    assert m['gpu'] is None
    table = benchmark.format_table(results)
    for name in TINY_ENTRIES:
        assert f'| {name} |' in table
    assert 'BlockwiseMaskGenerator' in table


def test_peak_tflops_and_mfu():
    assert benchmark.peak_tflops('NVIDIA H100 80GB HBM3', 'bf16') == 989.4
    assert benchmark.peak_tflops('NVIDIA H100 80GB HBM3', 'fp32') == 66.9
    assert benchmark.peak_tflops('NVIDIA H200', 'fp16') == 989.4
    assert benchmark.peak_tflops('NVIDIA A100-SXM4-80GB', 'fp32') == 19.5
    assert benchmark.peak_tflops('NVIDIA GeForce GTX 1080', 'bf16') is None
    assert benchmark.peak_tflops(None, 'fp32') is None
    # 1e12 FLOPs per image at 312 images/s on an A100 in bf16: 100%
    assert benchmark.mfu(1e12, 312., 'NVIDIA A100', 'bf16') == \
        pytest.approx(1.0)
    assert benchmark.mfu(1e12, 1., 'unknown', 'bf16') is None


def test_rounds_pool_steps_and_ratios_use_the_pooled_medians():
    def raw(name, backbone, steps):
        return benchmark.summarize(dict(
            name=name, backbone=backbone, batch_size=2, precision='fp32',
            gpu=None, warmup_times_s=[1.], step_times_s=steps,
            round_medians_s=[sorted(steps)[len(steps) // 2]],
            loss_times_s=[0.01], losses=[1.], peak_mem_mib=10.,
            maskgen_s_per_batch=0.001))
    a = raw('a2mim_r50', 'R50', [1., 2., 3.])
    benchmark.merge_rounds(a, raw('a2mim_r50', 'R50', [4., 5.]))
    assert a['step_times_s'] == [1., 2., 3., 4., 5.] and a['rounds'] == 2
    assert a['median_step_s'] == 3. and a['min_step_s'] == 1.
    assert a['round_medians_s'] == [2., 5.]
    assert a['images_per_s'] == pytest.approx(2 / 3.)
    assert a['maskgen_share'] == pytest.approx(0.001 / 3.)
    s = raw('simmim_r50', 'R50', [2.])
    v = raw('simmim_vit-b', 'ViT-B', [1.])
    benchmark.compute_ratios([a, s, v])
    assert a['ratios'] == {'simmim_r50': pytest.approx(1.5)}
    assert a['ratios_min'] == {'simmim_r50': pytest.approx(0.5)}
    assert s['ratios'] == {} and v['ratios'] == {}
    t = benchmark.check_targets([a, s, v])
    assert t[0]['met'] is False and t[1]['ratio'] is None


def test_options_reach_only_backbones_that_take_them():
    from mmengine.config import Config
    cfg = Config(dict(
        model=dict(backbone=dict(type='SimMIMSwinTransformer')),
        optim_wrapper=dict(type='AmpOptimWrapper', loss_scale='dynamic',
                           accumulative_counts=2,
                           optimizer=dict(type='AdamW', lr=1e-3))))
    info = benchmark.configure(cfg, 'fp32', channels_last=True,
                               with_cp=True)
    # mmpretrain's Swin takes with_cp, not channels_last
    assert cfg.model.backbone.with_cp is True
    assert 'channels_last' not in cfg.model.backbone
    assert info['skipped_options'] == ['channels_last']
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert cfg.optim_wrapper.accumulative_counts == 1
    assert 'loss_scale' not in cfg.optim_wrapper
    assert info['config_optim_wrapper'] == 'AmpOptimWrapper'
    benchmark.configure(cfg, 'bf16')
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'


def test_unknown_entry_and_cpu_amp_are_clear_errors():
    with pytest.raises(ValueError, match='Unknown entries'):
        benchmark.select_entries(['nope'])
    with pytest.raises(ValueError, match='needs CUDA'):
        benchmark.run_benchmark(names=['a2mim_r50'], device='cpu',
                                precision='bf16', tiny=True, verbose=False)


def test_cli_writes_json(tmp_path):
    out = str(tmp_path / 'cli.json')
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'benchmark.py'), '--tiny',
         '--steps', '2', '--warmup', '1', '--device', 'cpu', '--no-flops',
         '--only', 'a2mim_r50', 'simmim_r50', '--out', out],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out) as f:
        data = json.load(f)
    assert [e['name'] for e in data['entries']] == ['a2mim_r50', 'simmim_r50']
    assert data['settings']['steps'] == 2 and data['settings']['tiny']
    assert '| a2mim_r50 | R50 |' in proc.stdout
    assert 'x simmim_r50' in proc.stdout


#: A2MIM and SimMIM ConvNeXt-B against mmpretrain's SparK ConvNeXt (on
#: ConvNeXt-B), A2MIM Swin-B against mmpretrain's SimMIM Swin-B, one run
ARCH_ENTRIES = ['a2mim_convnext-b', 'simmim_convnext-b',
                'mmpt_spark_convnext-b', 'a2mim_swin-b', 'mmpt_simmim_swin-b']


def test_convnext_and_swin_entries_against_mmpretrain(tmp_path):
    out = str(tmp_path / 'archs.json')
    results = benchmark.run_benchmark(
        names=ARCH_ENTRIES, device='cpu', batch_size=BATCH, warmup=1,
        steps=1, tiny=True, out=out, verbose=False)
    with open(out) as f:
        data = json.load(f)
    by_name = {e['name']: e for e in data['entries']}
    assert sorted(by_name) == sorted(ARCH_ENTRIES)
    for e in data['entries']:
        assert 'error' not in e, e.get('traceback')
        assert all(t > 0 and math.isfinite(t) for t in e['step_times_s'])
        assert all(math.isfinite(v) for v in e['losses'])
        assert e['crop_size'] == 64
        fl = e['flops']
        assert fl['train_flops_per_image'] > 0
        if 'ConvNeXt' not in e['backbone']:
            # torch's FlopCounterMode counts a depthwise convolution's
            # backward `groups` times over, so the check is for Swin only
            ratio = fl['train_flops_per_image'] / \
                fl['torch_counted_train_flops_per_image']
            assert 0.8 < ratio < 1.3, (e['name'], ratio)
    # the class that runs (A2MIMConvNeXt / A2MIMSwin name these classes)
    assert {n: by_name[n]['backbone_type'] for n in ARCH_ENTRIES} == {
        'a2mim_convnext-b': 'MIMConvNeXt',
        'simmim_convnext-b': 'SimMIMConvNeXt',
        'mmpt_spark_convnext-b': 'SparseConvNeXt',
        'a2mim_swin-b': 'MIMSwinTransformer',
        'mmpt_simmim_swin-b': 'SimMIMSwinTransformer'}
    for name, ref in (('a2mim_convnext-b', 'mmpt_spark_convnext-b'),
                      ('simmim_convnext-b', 'mmpt_spark_convnext-b'),
                      ('a2mim_swin-b', 'mmpt_simmim_swin-b')):
        assert by_name[name]['ratios'] == {ref: pytest.approx(
            by_name[name]['median_step_s'] / by_name[ref]['median_step_s'])}
    table = benchmark.format_table(results)
    assert 'x mmpt_spark_convnext-b' in table
    assert 'x mmpt_simmim_swin-b' in table


def test_spark_reference_config_is_our_convnext_base_or_tiny():
    """The SparK reference entry's config (nothing is run here) has our
    ConvNeXt-B at full size, and the tiny arch with --tiny."""
    entry = benchmark.ENTRY_BY_NAME['mmpt_spark_convnext-b']
    full = benchmark.load_config(entry)
    assert full.model.backbone.arch == 'base'
    assert full.model.enc_dec_norm_dim == 1024
    ours = benchmark.load_config(benchmark.ENTRY_BY_NAME['a2mim_convnext-b'])
    assert ours.model.backbone.arch == 'base'
    tiny = benchmark.load_config(entry, tiny=True)
    ours_tiny = benchmark.load_config(
        benchmark.ENTRY_BY_NAME['a2mim_convnext-b'], tiny=True)
    assert tiny.model.backbone.arch == ours_tiny.model.backbone.arch
    assert tiny.model.enc_dec_norm_dim == ours_tiny.model.neck.in_channels


def test_cost_of_a_full_scale_run_from_its_flops():
    """MaskDistill ViT-B, 300 epochs: the counted training FLOPs per image
    are the student's forward and backward (3 x 17.6 GMACs, timm's count
    for ViT-B/16 at 224) plus the frozen CLIP ViT-B/16 teacher's forward
    (17.6 GMACs); the hours follow from 300 x 1.28M images at the assumed
    MFU of the H100's bf16 peak."""
    from mim_plugins.benchmark.cost import IMAGENET_TRAIN, run_cost
    config = osp.join(ROOT, 'configs/pretrain/maskdistill/'
                      'maskdistill_vit-base-p16_8xb256-coslr-300e_in1k.py')
    r = run_cost(config, gpus=8, mfu=0.4, device_name='H100')
    assert r['crop'] == 224 and r['images'] == 300 * IMAGENET_TRAIN
    assert r['train_gflops_per_image'] == pytest.approx(2 * 4 * 17.6,
                                                        rel=0.03)
    seconds = r['train_gflops_per_image'] * 1e9 * r['images'] / (
        8 * 989.4e12 * 0.4)
    assert r['gpu_hours'] == pytest.approx(8 * seconds / 3600)
    assert r['wall_hours'] == pytest.approx(seconds / 3600)
    half = run_cost(config, gpus=8, mfu=0.8, device_name='H100')
    assert half['gpu_hours'] == pytest.approx(r['gpu_hours'] / 2)
