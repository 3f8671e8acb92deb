"""Training-step speed of our pre-training recipes against mmpretrain's.

Every entry is built from its real config (``Config.fromfile`` +
``MODELS.build`` in the mmpretrain scope, optimizer wrapper from the
config's ``optim_wrapper`` through mmengine's ``build_optim_wrapper``) and
trained for a few steps on synthetic images of the config's crop size,
masked by the config's own mask generator and packed/collated as the
config's data loader does (``PackInputs`` + ``default_collate``).

Per entry it reports the median ``model.train_step`` time (data
preprocessor, forward, backward, optimizer step), images/s, peak memory,
the share of the step spent in the loss (the head's loss, forward and
backward, timed alone on detached inputs captured from a real forward), the
share the data pipeline's mask generation would take on one core, the
training FLOPs per image (mmengine's ``FlopAnalyzer`` on the loss forward,
x3) and, on a GPU with a known peak, the model FLOPs utilisation; and the
ratio of each entry's step time to the reference recipes on the same
backbone (:data:`REFERENCES`).

    python tools/benchmark.py                      # all entries, full size
    python tools/benchmark.py --tiny --steps 2     # tiny models (seconds)
    python tools/benchmark.py --only a2mim_r50 simmim_r50 --out r50.json
"""
import argparse
import contextlib
import copy
import ctypes
import gc
import inspect
import json
import math
import os
import os.path as osp
import platform
import statistics
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _ours(path: str) -> str:
    return osp.join(ROOT, 'configs', 'pretrain', path)


# --------------------------------------------------------------------------
# tiny versions of mmpretrain's reference recipes (ours use the demo configs)
# --------------------------------------------------------------------------
_TINY_SIZE = 64
_TINY_VIT = dict(embed_dims=64, num_layers=2, num_heads=2,
                 feedforward_channels=128)


def _tiny_pipeline(cfg: Config, size: int = _TINY_SIZE,
                   mask_patch_size: int = 16) -> None:
    for t in cfg.train_dataloader.dataset.pipeline:
        if t['type'] == 'RandomResizedCrop':
            t['scale'] = size
        elif t['type'] in ('SimMIMMaskGenerator', 'BlockwiseMaskGenerator'):
            t.update(input_size=size, mask_patch_size=mask_patch_size)


def _tiny_mae(cfg: Config) -> None:
    """2-layer 64-d MAE ViT with 8-px patches, 1-layer decoder, 64 px."""
    m = cfg.model
    m.backbone.update(arch=dict(_TINY_VIT), img_size=_TINY_SIZE, patch_size=8)
    m.neck.update(num_patches=(_TINY_SIZE // 8)**2, patch_size=8,
                  embed_dim=64, decoder_embed_dim=64, decoder_depth=1,
                  decoder_num_heads=2)
    m.head.patch_size = 8
    _tiny_pipeline(cfg)


def _tiny_swin(cfg: Config) -> None:
    """mmpretrain's SimMIM Swin with our tiny demo's Swin (32-d, window 2)."""
    m = cfg.model
    m.backbone.update(
        arch=dict(embed_dims=32, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2]),
        img_size=_TINY_SIZE, stage_cfgs=dict(block_cfgs=dict(window_size=2)))
    m.neck.in_channels = 32 * 2**3
    _tiny_pipeline(cfg)


def _tiny_spark(cfg: Config) -> None:
    """SparK on a 16-channel sparse ResNet-18 (stages 16..128), 64 px."""
    m = cfg.model
    m.update(input_size=_TINY_SIZE, enc_dec_norm_dim=128)
    m.backbone.update(depth=18, stem_channels=16, base_channels=16)
    m.neck.feature_dim = 64
    _tiny_pipeline(cfg)


def _spark_convnext_base(cfg: Config) -> None:
    """mmpretrain's SparK ConvNeXt-S (v1) recipe on ConvNeXt-B: the base
    arch and the matching encoder-decoder widths (1024 at stride 32). An
    ``adapt`` runs after the tiny shrink too: a tiny arch (a dict) stays."""
    if isinstance(cfg.model.backbone.arch, str):
        cfg.model.backbone.arch = 'base'
        cfg.model.enc_dec_norm_dim = 1024


def _tiny_spark_convnext(cfg: Config) -> None:
    """SparK on our tiny demo's ConvNeXt (one block a stage, 16-128 ch)."""
    m = cfg.model
    m.update(input_size=_TINY_SIZE, enc_dec_norm_dim=128)
    m.backbone.arch = dict(depths=[1, 1, 1, 1], channels=[16, 32, 64, 128])
    m.neck.feature_dim = 64
    _tiny_pipeline(cfg)


def _benchmark_teacher(cfg: Config) -> None:
    """MaskDistill's CLIP teacher needs converted OpenAI weights: a random
    teacher of the same architecture has the same compute."""
    cfg.model.target_generator.update(random_init=True, checkpoint=None)


@dataclass(frozen=True)
class Entry:
    """One pre-training recipe to time.

    Args:
        name: Short name (``--only``, JSON, ratios).
        algorithm: Method, for the table.
        backbone: Backbone family; entries are compared within a family.
        config: Config path or ``mmpretrain::`` name.
        source: 'ours' or 'mmpretrain'.
        tiny: For ``--tiny``, a (demo) config path or a function shrinking
            the full config in place; None: not available tiny.
        adapt: Applied to the config at both sizes (e.g. random teacher).
    """
    name: str
    algorithm: str
    backbone: str
    config: str
    source: str
    tiny: Any = None
    adapt: Optional[Callable[[Config], None]] = None


ENTRIES: Tuple[Entry, ...] = (
    Entry('a2mim_r50', 'A2MIM', 'R50',
          _ours('a2mim/a2mim_resnet50_8xb256-coslr-300e_in1k.py'), 'ours',
          tiny=_ours('a2mim/a2mim_resnet-tiny_1xb16-20i_demo.py')),
    Entry('simmim_r50', 'SimMIM', 'R50',
          _ours('simmim/simmim_resnet50_8xb256-amp-coslr-300e_in1k.py'),
          'ours', tiny=_ours('simmim/simmim_resnet-tiny_1xb16-20i_demo.py')),
    Entry('mmpt_spark_r50', 'SparK (mmpretrain)', 'R50',
          'mmpretrain::spark/spark_sparse-resnet50_8xb512-amp-coslr-800e_'
          'in1k.py', 'mmpretrain', tiny=_tiny_spark),
    Entry('a2mim_vit-b', 'A2MIM', 'ViT-B',
          _ours('a2mim/a2mim_vit-base_8xb128-accu2-step-800e_in1k.py'),
          'ours', tiny=_ours('a2mim/a2mim_vit-tiny_1xb16-20i_demo.py')),
    Entry('simmim_vit-b', 'SimMIM', 'ViT-B',
          _ours('simmim/simmim_vit-base-p16_8xb128-accu2-step-800e_in1k.py'),
          'ours', tiny=_ours('simmim/simmim_vit-tiny_1xb16-20i_demo.py')),
    Entry('maskdistill_vit-b', 'MaskDistill', 'ViT-B',
          _ours('maskdistill/maskdistill_vit-base-p16_8xb256-coslr-300e_'
                'in1k.py'), 'ours',
          tiny=_ours('maskdistill/maskdistill_vit-tiny_1xb16-20i_demo.py'),
          adapt=_benchmark_teacher),
    Entry('mmpt_mae_vit-b', 'MAE (mmpretrain)', 'ViT-B',
          'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py',
          'mmpretrain', tiny=_tiny_mae),
    Entry('simmim_swin-b', 'SimMIM', 'Swin-B',
          _ours('simmim/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-'
                '192px.py'), 'ours',
          tiny=_ours('simmim/simmim_swin-tiny_1xb16-20i_demo.py')),
    Entry('mmpt_simmim_swin-b', 'SimMIM (mmpretrain)', 'Swin-B',
          'mmpretrain::simmim/simmim_swin-base-w6_8xb256-amp-coslr-100e_'
          'in1k-192px.py', 'mmpretrain', tiny=_tiny_swin),
    Entry('a2mim_swin-b', 'A2MIM', 'Swin-B',
          _ours('a2mim/a2mim_swin-base-w6_8xb128-accu2-coslr-100e_in1k-'
                '192px.py'), 'ours',
          tiny=_ours('a2mim/a2mim_swin-tiny_1xb16-20i_demo.py')),
    Entry('a2mim_convnext-b', 'A2MIM', 'ConvNeXt-B',
          _ours('a2mim/a2mim_convnext-base_8xb256-amp-coslr-300e_in1k.py'),
          'ours', tiny=_ours('a2mim/a2mim_convnext-tiny_1xb16-20i_demo.py')),
    Entry('simmim_convnext-b', 'SimMIM', 'ConvNeXt-B',
          _ours('simmim/simmim_convnext-base_8xb256-amp-coslr-300e_in1k.py'),
          'ours',
          tiny=_ours('simmim/simmim_convnext-tiny_1xb16-20i_demo.py')),
    Entry('mmpt_spark_convnext-b', 'SparK (mmpretrain)', 'ConvNeXt-B',
          'mmpretrain::spark/spark_sparse-convnext-small_16xb256-amp-coslr-'
          '800e_in1k.py', 'mmpretrain', tiny=_tiny_spark_convnext,
          adapt=_spark_convnext_base),
)
ENTRY_BY_NAME = {e.name: e for e in ENTRIES}

#: the references every entry of a backbone is compared with (step-time
#: ratio entry / reference), first the one of a speed target
REFERENCES: Dict[str, Tuple[str, ...]] = {
    'R50': ('simmim_r50', 'mmpt_spark_r50'),
    'ViT-B': ('simmim_vit-b', 'mmpt_mae_vit-b'),
    'Swin-B': ('mmpt_simmim_swin-b', ),
    'ConvNeXt-B': ('mmpt_spark_convnext-b', ),
}

#: speed targets: (entry, reference, largest step-time ratio)
TARGETS: Tuple[Tuple[str, str, float], ...] = (
    ('a2mim_r50', 'simmim_r50', 1.05),
    ('a2mim_vit-b', 'simmim_vit-b', 1.05),
)

#: dense peak TFLOP/s (bf16/fp16 tensor cores, fp32 without TF32), matched
#: on the CUDA device name, most specific first
PEAK_TFLOPS: Tuple[Tuple[str, float, float], ...] = (
    ('H100 PCIe', 756.5, 51.2),
    ('H100 NVL', 835.5, 59.8),
    ('H100', 989.4, 66.9),
    ('H200', 989.4, 66.9),
    ('A100', 312.0, 19.5),
)

MASK_GENERATORS = ('BlockwiseMaskGenerator', 'SimMIMMaskGenerator',
                   'BEiTMaskGenerator')


def peak_tflops(device_name: Optional[str], precision: str) -> Optional[float]:
    """Dense peak of a known GPU for ``precision``; None if unknown."""
    if not device_name:
        return None
    for key, half, fp32 in PEAK_TFLOPS:
        if key.lower() in device_name.lower():
            return fp32 if precision == 'fp32' else half
    return None


# --------------------------------------------------------------------------
# config
# --------------------------------------------------------------------------
def load_config(entry: Entry, tiny: bool = False) -> Config:
    """The entry's config (its tiny version with ``tiny``)."""
    if tiny:
        if entry.tiny is None:
            raise ValueError(f'{entry.name} has no tiny version')
        if isinstance(entry.tiny, str):
            cfg = _fromfile(entry.tiny)
        else:
            cfg = _fromfile(entry.config)
            entry.tiny(cfg)
    else:
        cfg = _fromfile(entry.config)
    if entry.adapt is not None:
        entry.adapt(cfg)
    return cfg


def _fromfile(path: str) -> Config:
    if '::' in path:  # a config of an installed package, e.g. mmpretrain::
        from mmengine.hub import get_config
        return get_config(path)
    return Config.fromfile(path)


def _accepts(type_name: str, arg: str) -> bool:
    """Whether the registered class ``type_name`` takes ``arg`` in its
    constructor (following ``**kwargs`` up the class hierarchy)."""
    from mmpretrain.registry import MODELS
    cls = MODELS.get(type_name)
    if cls is None:
        return False
    for klass in inspect.getmro(cls):
        if '__init__' not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters
        if arg in params:
            return True
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return False
    return False


def configure(cfg: Config, precision: str, channels_last: bool = False,
              sdpa: bool = True, with_cp: bool = False) -> Dict[str, Any]:
    """Apply the benchmark options to ``cfg`` in place; what was done.

    The optimizer wrapper becomes an ``OptimWrapper`` (fp32) or an
    ``AmpOptimWrapper`` of ``precision``, one update per step (no gradient
    accumulation); the backbone options are set only where the backbone's
    constructor takes them, the others are listed as skipped.
    """
    ow = cfg.optim_wrapper
    info = dict(config_optim_wrapper=ow.get('type', 'OptimWrapper'),
                config_accumulative_counts=ow.get('accumulative_counts', 1))
    ow['accumulative_counts'] = 1
    if precision == 'fp32':
        ow['type'] = 'OptimWrapper'
        for key in ('loss_scale', 'dtype', 'use_fsdp'):
            ow.pop(key, None)
    else:
        ow['type'] = 'AmpOptimWrapper'
        ow['dtype'] = 'bfloat16' if precision == 'bf16' else 'float16'
        ow['loss_scale'] = 'dynamic'  # as mmengine's --amp
    backbone = cfg.model.backbone
    wanted = {}
    if channels_last:
        wanted['channels_last'] = True
    if not sdpa:
        wanted['use_sdpa'] = False
    if with_cp:
        wanted['with_cp'] = True
    applied, skipped = {}, []
    for key, value in wanted.items():
        if _accepts(backbone['type'], key):
            backbone[key] = value
            applied[key] = value
        else:
            skipped.append(key)
    info.update(backbone_options=applied, skipped_options=skipped)
    return info


def crop_size(cfg: Config) -> int:
    """Training crop: the pipeline's RandomResizedCrop scale (else the mask
    generator's ``input_size``)."""
    pipeline = cfg.train_dataloader.dataset.pipeline
    for t in pipeline:
        if t['type'] == 'RandomResizedCrop':
            scale = t['scale']
            return int(scale if isinstance(scale, int) else scale[0])
    for t in pipeline:
        if t['type'] in ('SimMIMMaskGenerator', 'BlockwiseMaskGenerator'):
            return int(t['input_size'])
    raise ValueError('No RandomResizedCrop or mask generator in the train '
                     'pipeline: cannot tell the crop size.')


def mask_generator_cfg(cfg: Config) -> Optional[dict]:
    """The pipeline's mask generator config; None if the model masks."""
    for t in cfg.train_dataloader.dataset.pipeline:
        if t['type'] in MASK_GENERATORS or t['type'].endswith(
                'MaskGenerator'):
            return t.to_dict() if hasattr(t, 'to_dict') else dict(t)
    return None


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
def make_batches(cfg: Config, n: int, batch_size: int,
                 seed: int = 0) -> List[dict]:
    """``n`` collated batches of random uint8 images at the crop size, each
    sample with a fresh mask from the config's mask generator, packed by
    ``PackInputs`` and collated by the config's ``collate_fn``."""
    from mmengine.registry import FUNCTIONS
    from mmpretrain.registry import TRANSFORMS
    size = crop_size(cfg)
    gen_cfg = mask_generator_cfg(cfg)
    gen = TRANSFORMS.build(gen_cfg) if gen_cfg else None
    pack = TRANSFORMS.build(dict(type='PackInputs'))
    collate_cfg = dict(cfg.train_dataloader.get(
        'collate_fn', dict(type='default_collate')))
    collate_cfg.pop('_scope_', None)
    collate = FUNCTIONS.get(collate_cfg.pop('type'))
    rng = np.random.default_rng(seed)
    np.random.seed(seed)
    batches = []
    for _ in range(n):
        samples = []
        for _ in range(batch_size):
            img = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            results = dict(img=img, img_shape=(size, size),
                           ori_shape=(size, size))
            if gen is not None:
                results = gen(results)
            samples.append(pack(results))
        batches.append(collate(samples, **collate_cfg))
    return batches


def time_mask_generator(gen_cfg: dict, size: int,
                        min_time: float = 0.2,
                        min_calls: int = 200) -> Dict[str, float]:
    """Masks per second of one generator on one core (one Python thread,
    calls of the transform as the data pipeline makes them)."""
    from mmpretrain.registry import TRANSFORMS
    gen = TRANSFORMS.build(copy.deepcopy(gen_cfg))
    results = dict(img_shape=(size, size))
    gen(dict(results))  # first call outside the timing
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(min_calls):
            gen(dict(results))
        calls += min_calls
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            break
    return dict(masks_per_s=calls / elapsed, s_per_mask=elapsed / calls,
                calls=calls)


# --------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------
def _sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def _trim_heap() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    try:  # give freed heap pages back, so RSS baselines are comparable
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _rss_bytes() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


class PeakMemory:
    """Peak memory of a block.

    On CUDA: ``torch.cuda.max_memory_allocated``; on the CPU: the process
    RSS sampled every ``interval`` s by a thread (``/proc/self/statm``).
    ``baseline`` is taken at construction (before the model is built), so
    the peak counts weights, gradients, optimizer state and activations.
    """

    def __init__(self, device: str, interval: float = 0.002) -> None:
        self.device = device
        self.interval = interval
        self.peak = 0
        _trim_heap()
        if device == 'cuda':
            self.method = 'torch.cuda.max_memory_allocated minus allocated ' \
                          'before the model was built'
            self.baseline = torch.cuda.memory_allocated()
        else:
            self.method = 'peak process RSS (sampled every 2 ms) minus RSS ' \
                          'before the model was built'
            self.baseline = _rss_bytes()

    @contextlib.contextmanager
    def measure(self):
        if self.device == 'cuda':
            torch.cuda.reset_peak_memory_stats()
            yield
            self.peak = max(self.peak, torch.cuda.max_memory_allocated())
            return
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                self.peak = max(self.peak, _rss_bytes())
                stop.wait(self.interval)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self.peak = max(self.peak, _rss_bytes())

    @property
    def delta_mib(self) -> float:
        return (self.peak - self.baseline) / 2**20


def _map_tensors(obj, fn):
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map_tensors(o, fn) for o in obj)
    if isinstance(obj, dict):
        return {k: _map_tensors(v, fn) for k, v in obj.items()}
    return obj


def capture_head_call(model, batch: dict, optim_wrapper):
    """Run one training forward and return the outermost call of the head
    (``head.loss`` or ``head.forward``): ``(method, args, kwargs)``."""
    head = model.head
    calls, depth = [], [0]

    def wrap(method):
        def recorded(*args, **kwargs):
            depth[0] += 1
            try:
                out = method(*args, **kwargs)
            finally:
                depth[0] -= 1
            if depth[0] == 0 and not calls:
                # keep the shapes and which inputs need a gradient, not
                # the forward graph
                calls.append((method, *_map_tensors(
                    (args, kwargs), lambda t: t.detach().requires_grad_(
                        t.requires_grad and t.is_floating_point()))))
            return out
        return recorded

    # instance attributes shadow the methods (``head.loss`` may also be a
    # loss module, as SparK's: then only ``forward`` is recorded)
    patched = [name for name in ('loss', 'forward')
               if callable(getattr(head, name, None))
               and not isinstance(getattr(head, name), torch.nn.Module)]
    for name in patched:
        head.__dict__[name] = wrap(getattr(head, name))
    try:
        with optim_wrapper.optim_context(model):
            data = model.data_preprocessor(batch, True)
            model._run_forward(data, mode='loss')
    finally:
        for name in patched:  # back to the class methods
            del head.__dict__[name]
    if not calls:
        raise RuntimeError(f'{type(model).__name__} did not call its head')
    return calls[0]


def _reduce_loss(model, out) -> torch.Tensor:
    if isinstance(out, dict):
        return model.parse_losses(out)[0]
    return out if out.dim() == 0 else out.sum()


def time_loss(model, call, optim_wrapper, device: str, warmup: int,
              steps: int) -> List[float]:
    """Times of the head's loss, forward + backward, on detached copies of
    the captured inputs (those that needed a gradient get one), in the same
    autocast context as the training step."""
    method, args, kwargs = call
    times = []
    for i in range(warmup + steps):
        a, k = _map_tensors(
            (args, kwargs),
            lambda t: t.detach().clone().requires_grad_(t.requires_grad))
        _sync(device)
        start = time.perf_counter()
        with optim_wrapper.optim_context(model):
            loss = _reduce_loss(model, method(*a, **k))
        loss.backward()
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    model.zero_grad(set_to_none=True)
    return times


def _sdpa_flop_jit(inputs, outputs) -> int:
    """Multiply-adds of ``scaled_dot_product_attention``: QK^T and AV."""
    from mmengine.analysis.jit_handles import get_shape
    q, k, v = (get_shape(x) for x in inputs[:3])
    batch = math.prod(q[:-2])
    return batch * q[-2] * k[-2] * (q[-1] + v[-1])


class _LossForward(torch.nn.Module):
    """The algorithm's loss on fixed data samples, as one traceable
    forward(inputs) -> loss."""

    def __init__(self, model, data_samples):
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, inputs):
        return _reduce_loss(self.model,
                            self.model.loss(inputs, self.data_samples))


def count_flops(model, batch: dict, max_images: int = 2) -> Dict[str, Any]:
    """Forward FLOPs per image of the algorithm's loss with a fixed mask.

    mmengine's ``FlopAnalyzer`` (fvcore's counting: one multiply-add is one
    "flop") traces ``model.loss`` on the first ``max_images`` images of the
    batch, with its data samples (masks) fixed, and a handler for
    ``scaled_dot_product_attention``; FLOPs = 2 x multiply-adds; training
    FLOPs ~= 3 x forward FLOPs (forward + backward). A model that cannot be
    traced (SparK's in-place ``scatter_`` of a bool) is counted by torch's
    ``FlopCounterMode`` on the same forward instead (``method`` says which).
    """
    from mmengine.analysis import FlopAnalyzer
    data = model.data_preprocessor(batch, True)
    inputs, samples = data['inputs'], data['data_samples']
    inputs = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
    n = min(max_images, inputs.shape[0])
    wrapper = _LossForward(model, samples[:n])
    out: Dict[str, Any] = dict(traced_images=n)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            analyzer = FlopAnalyzer(wrapper, (inputs[:n], ))
            analyzer.set_op_handle(
                'aten::scaled_dot_product_attention', _sdpa_flop_jit)
            analyzer.unsupported_ops_warnings(False)
            analyzer.uncalled_modules_warnings(False)
            analyzer.tracer_warnings('none')
            macs = analyzer.total() / n
            by_module = analyzer.by_module()
            frozen = sum(by_module.get(f'model.{name}', 0)
                         for name in _frozen_children(model)) / n
            out.update(method='mmengine.analysis.FlopAnalyzer',
                       frozen_fwd_macs_per_image=frozen,
                       unsupported_ops=dict(analyzer.unsupported_ops()))
        except Exception as exc:
            from torch.utils.flop_counter import FlopCounterMode
            counter = FlopCounterMode(display=False)
            with counter:
                wrapper(inputs[:n])
            macs = counter.get_total_flops() / 2 / n
            frozen = 0.
            out.update(method='torch FlopCounterMode (the jit trace failed)',
                       trace_error=f'{type(exc).__name__}: '
                       f'{str(exc).splitlines()[0][:200]}')
    # forward + backward (2x forward) of what is trained; forward only of
    # frozen parts (MaskDistill's teacher)
    out.update(fwd_macs_per_image=macs, fwd_flops_per_image=2 * macs,
               train_flops_per_image=2 * (3 * macs - 2 * frozen))
    return out


def _frozen_children(model) -> List[str]:
    """Top-level parts of the model with weights, none of them trained."""
    return [name for name, child in model.named_children()
            if any(True for _ in child.parameters())
            and not any(p.requires_grad for p in child.parameters())]


def mfu(train_flops_per_image: Optional[float], images_per_s: float,
        device_name: Optional[str], precision: str) -> Optional[float]:
    """Model FLOPs utilisation: achieved training FLOP/s over the device's
    dense peak for ``precision``; None for an unknown device."""
    peak = peak_tflops(device_name, precision)
    if not peak or not train_flops_per_image:
        return None
    return train_flops_per_image * images_per_s / (peak * 1e12)


def count_step_flops(model, batch: dict, optim_wrapper) -> float:
    """FLOPs of one real training step (forward + backward, as torch's
    ``FlopCounterMode`` counts them: matmuls, convolutions, attention) per
    image; a check of the 3x-forward estimate. It counts the backward of a
    grouped (depthwise) convolution ``groups`` times over, so for ConvNeXts
    it overstates the step several-fold: trust the 3x-forward estimate."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        model.train_step(batch, optim_wrapper)
    n = len(batch['data_samples'])
    return counter.get_total_flops() / n


def _build(cfg: Config, device: str):
    """Model (initialised as the Runner does) and optimizer wrapper, with
    mmengine's per-parameter log lines silenced."""
    from mmengine.optim import build_optim_wrapper
    from .apis import build_model_from_cfg
    with _quiet():
        model = build_model_from_cfg(cfg)
        model.init_weights()
        model.to(device)
        model.train()
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    return model, optim_wrapper


@contextlib.contextmanager
def _quiet():
    import logging
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            yield
    finally:
        logger.setLevel(level)


def run_entry(entry: Entry, device: str, batch_size: int, warmup: int,
              steps: int, precision: str, tiny: bool = False,
              channels_last: bool = False, sdpa: bool = True,
              with_cp: bool = False, compile: bool = False,
              flops: bool = True, mask_cache: Optional[dict] = None,
              seed: int = 0) -> Dict[str, Any]:
    """Measure one entry; a dict of raw numbers (see the module doc)."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    torch.manual_seed(seed)
    cfg = load_config(entry, tiny)
    options = configure(cfg, precision, channels_last=channels_last,
                        sdpa=sdpa, with_cp=with_cp)
    size = crop_size(cfg)
    gen_cfg = mask_generator_cfg(cfg)
    result: Dict[str, Any] = dict(
        name=entry.name, algorithm=entry.algorithm, backbone=entry.backbone,
        source=entry.source,
        config=entry.tiny if tiny and isinstance(entry.tiny, str)
        else entry.config, tiny=tiny, device=device, batch_size=batch_size,
        crop_size=size, precision=precision, compiled=compile, **options)
    batches = make_batches(cfg, warmup + steps + 1, batch_size, seed)
    memory = PeakMemory(device)
    model, optim_wrapper = _build(cfg, device)
    result['params_m'] = sum(p.numel() for p in model.parameters()
                             if p.requires_grad) / 1e6
    result['model_type'] = type(model).__name__
    result['backbone_type'] = type(model.backbone).__name__

    if flops:
        result['flops'] = count_flops(model, batches[-1])
        result['flops']['torch_counted_train_flops_per_image'] = \
            count_step_flops(model, batches[-1], optim_wrapper)
    head_call = capture_head_call(model, batches[-1], optim_wrapper)
    if compile:
        # the model's forward (data preprocessing, loss forward; backward
        # through the compiled graph), in place; not mmengine's target, the
        # whole train_step: with torch 2.14 dynamo fails inside the
        # optimizer's step on mmengine's param groups
        model.compile()

    times, losses = [], []
    with memory.measure():
        for batch in batches[:warmup + steps]:
            _sync(device)
            start = time.perf_counter()
            log_vars = model.train_step(batch, optim_wrapper)
            _sync(device)
            times.append(time.perf_counter() - start)
            losses.append(float(
                torch.as_tensor(log_vars['loss']).detach()))
    result.update(
        warmup_times_s=times[:warmup], step_times_s=times[warmup:],
        round_medians_s=[statistics.median(times[warmup:])],
        losses=losses, peak_mem_mib=memory.delta_mib,
        peak_mem_method=memory.method)
    result['loss_times_s'] = time_loss(model, head_call, optim_wrapper,
                                       device, warmup=1, steps=steps)
    if gen_cfg is not None:
        key = json.dumps(gen_cfg, sort_keys=True)
        cache = mask_cache if mask_cache is not None else {}
        if key not in cache:
            cache[key] = dict(type=gen_cfg['type'], cfg=gen_cfg,
                              crop_size=size, used_by=[],
                              **time_mask_generator(gen_cfg, size))
        cache[key]['used_by'].append(entry.name)
        result.update(mask_generator=gen_cfg['type'],
                      mask_generator_cfg=gen_cfg,
                      maskgen_s_per_batch=cache[key]['s_per_mask'] *
                      batch_size)
    else:
        result.update(mask_generator=None, maskgen_s_per_batch=None)
    result['gpu'] = torch.cuda.get_device_name() if device == 'cuda' \
        else None
    del model, optim_wrapper, head_call, batches
    _trim_heap()
    return summarize(result)


def summarize(result: Dict[str, Any]) -> Dict[str, Any]:
    """Derived numbers of an entry from its raw lists (in place)."""
    median = statistics.median(result['step_times_s'])
    result.update(median_step_s=median,
                  min_step_s=min(result['step_times_s']),
                  images_per_s=result['batch_size'] / median)
    loss = statistics.median(result['loss_times_s'])
    result.update(loss_median_s=loss, loss_share=loss / median)
    per_batch = result.get('maskgen_s_per_batch')
    result['maskgen_share'] = per_batch / median if per_batch else None
    if not all(math.isfinite(v) for v in result['losses']):
        result['warning'] = 'non-finite loss during the timed steps'
    if result.get('flops'):
        train_flops = result['flops']['train_flops_per_image']
        result['achieved_tflops'] = \
            train_flops * result['images_per_s'] / 1e12
        result['peak_tflops'] = peak_tflops(result['gpu'],
                                            result['precision'])
        result['mfu'] = mfu(train_flops, result['images_per_s'],
                            result['gpu'], result['precision'])
    return result


def merge_rounds(first: Dict[str, Any], later: Dict[str, Any]) -> None:
    """Add a later round of the same entry to ``first`` (in place)."""
    for key in ('warmup_times_s', 'step_times_s', 'loss_times_s', 'losses'):
        first[key] = first[key] + later[key]
    first['peak_mem_mib'] = max(first['peak_mem_mib'], later['peak_mem_mib'])
    first['rounds'] = first.get('rounds', 1) + 1
    first['round_medians_s'] = first['round_medians_s'] + \
        later['round_medians_s']
    summarize(first)


# --------------------------------------------------------------------------
# whole benchmark
# --------------------------------------------------------------------------
def machine_info(device: str, precision: str) -> Dict[str, Any]:
    import mmengine
    import mmpretrain
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    info = dict(
        cpu_model=cpu, cpu_count=os.cpu_count(),
        cpus_usable=len(os.sched_getaffinity(0))
        if hasattr(os, 'sched_getaffinity') else os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        load_average=os.getloadavg() if hasattr(os, 'getloadavg') else None,
        python=platform.python_version(), torch=torch.__version__,
        mmengine=mmengine.__version__, mmpretrain=mmpretrain.__version__,
        platform=platform.platform(), device=device, precision=precision,
        gpu=None, cuda=torch.version.cuda)
    if device == 'cuda':
        props = torch.cuda.get_device_properties(0)
        info.update(gpu=props.name, gpu_memory_gib=props.total_memory / 2**30,
                    peak_tflops=peak_tflops(props.name, precision))
    return info


def select_entries(names: Optional[Sequence[str]] = None,
                   tiny: bool = False) -> Tuple[List[Entry], List[str]]:
    """Entries to run (``names`` in :data:`ENTRIES` order) and notes on
    those left out."""
    if names:
        unknown = [n for n in names if n not in ENTRY_BY_NAME]
        if unknown:
            raise ValueError(f'Unknown entries {unknown}; choose from '
                             f'{[e.name for e in ENTRIES]}')
    chosen = [e for e in ENTRIES if not names or e.name in names]
    notes = []
    if tiny:
        for e in [e for e in chosen if e.tiny is None]:
            notes.append(f'{e.name}: no tiny version, skipped')
        chosen = [e for e in chosen if e.tiny is not None]
    return chosen, notes


def compute_ratios(entries: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Step-time ratio of each entry to each reference of its backbone
    (a reference is not compared with itself): ``ratios`` of the medians,
    ``ratios_min`` of the fastest steps (less sensitive to other load)."""
    by_name = {r['name']: r for r in entries if 'median_step_s' in r}
    for r in entries:
        r['ratios'], r['ratios_min'] = {}, {}
        if 'median_step_s' not in r:
            continue
        for ref in REFERENCES.get(r['backbone'], ()):
            if ref != r['name'] and ref in by_name:
                r['ratios'][ref] = r['median_step_s'] / \
                    by_name[ref]['median_step_s']
                r['ratios_min'][ref] = r['min_step_s'] / \
                    by_name[ref]['min_step_s']
    return entries


def check_targets(entries: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    by_name = {r['name']: r for r in entries}
    out = []
    for name, ref, limit in TARGETS:
        ratio = by_name.get(name, {}).get('ratios', {}).get(ref)
        out.append(dict(entry=name, reference=ref, max_ratio=limit,
                        ratio=ratio,
                        ratio_min=by_name.get(name, {}).get(
                            'ratios_min', {}).get(ref),
                        met=None if ratio is None else ratio <= limit))
    return out


def run_benchmark(names: Optional[Sequence[str]] = None,
                  device: Optional[str] = None,
                  batch_size: Optional[int] = None,
                  steps: Optional[int] = None,
                  warmup: Optional[int] = None,
                  precision: Optional[str] = None,
                  tiny: bool = False, channels_last: bool = False,
                  sdpa: bool = True, with_cp: bool = False,
                  compile: bool = False, flops: bool = True,
                  out: Optional[str] = None, verbose: bool = True,
                  threads: Optional[int] = None, rounds: int = 1,
                  seed: int = 0) -> Dict[str, Any]:
    """Run the benchmark; the results dict (also written to ``out``)."""
    import mim_plugins  # noqa: F401  registers our modules
    if threads:
        torch.set_num_threads(threads)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('--device cuda: no CUDA device is available')
    precision = precision or ('bf16' if device == 'cuda' else 'fp32')
    if precision != 'fp32' and device != 'cuda':
        raise ValueError(f'--precision {precision} needs CUDA: mmengine\'s '
                         f'AmpOptimWrapper runs on GPUs only; use fp32 on '
                         f'the CPU.')
    batch_size = batch_size or (64 if device == 'cuda' else 2)
    steps = steps or (20 if device == 'cuda' else 5)
    warmup = (5 if device == 'cuda' else 1) if warmup is None else warmup
    entries, notes = select_entries(names, tiny)
    settings = dict(device=device, batch_size=batch_size, steps=steps,
                    warmup=warmup, precision=precision, tiny=tiny,
                    channels_last=channels_last, sdpa=sdpa, with_cp=with_cp,
                    compile=compile, flops=flops, seed=seed, rounds=rounds,
                    torch_threads=torch.get_num_threads())
    results = dict(machine=machine_info(device, precision), settings=settings,
                   references={k: list(v) for k, v in REFERENCES.items()},
                   notes=notes, entries=[])
    mask_cache: Dict[str, dict] = {}
    done: Dict[str, Dict[str, Any]] = {}
    # round-robin, every other round in reverse order: each entry gets
    # steps spread over the whole run (not one window of a shared
    # machine's load) and as many runs before as after each other entry
    # (on the 2-core CPU the entry built second of two was measured up to
    # 8% slower, whichever it was)
    for rnd in range(rounds):
        for entry in (entries if rnd % 2 == 0 else entries[::-1]):
            if 'error' in done.get(entry.name, {}):
                continue
            if verbose:
                print(f'[benchmark] round {rnd + 1}/{rounds}: {entry.name}',
                      file=sys.stderr, flush=True)
            start = time.perf_counter()
            try:
                r = run_entry(entry, device, batch_size, warmup, steps,
                              precision, tiny=tiny,
                              channels_last=channels_last, sdpa=sdpa,
                              with_cp=with_cp, compile=compile,
                              flops=flops and rnd == 0,
                              mask_cache=mask_cache, seed=seed + rnd)
            except Exception as exc:  # keep the other entries' numbers
                r = dict(name=entry.name, algorithm=entry.algorithm,
                         backbone=entry.backbone, source=entry.source,
                         error=f'{type(exc).__name__}: {exc}',
                         traceback=traceback.format_exc())
                if verbose:
                    print(f'[benchmark] {entry.name} FAILED: {r["error"]}',
                          file=sys.stderr, flush=True)
            r['wall_s'] = time.perf_counter() - start
            if entry.name not in done or 'error' in r:
                done[entry.name] = r
            else:
                wall = done[entry.name]['wall_s'] + r['wall_s']
                merge_rounds(done[entry.name], r)
                done[entry.name]['wall_s'] = wall
    results['entries'] = [done[e.name] for e in entries]
    compute_ratios(results['entries'])
    results['targets'] = check_targets(results['entries'])
    results['mask_generators'] = [
        {k: v for k, v in g.items() if k != 's_per_mask'}
        for g in mask_cache.values()]
    results['machine']['load_average_end'] = (
        os.getloadavg() if hasattr(os, 'getloadavg') else None)
    if out:
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        with open(out, 'w') as f:
            json.dump(results, f, indent=1, default=_json_default)
    return results


def _json_default(obj):
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    if isinstance(obj, (tuple, set)):
        return list(obj)
    return str(obj)


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------
def _fmt(value, spec: str, scale: float = 1.0, suffix: str = '') -> str:
    if value is None:
        return '-'
    return format(value * scale, spec) + suffix


def format_table(results: Dict[str, Any]) -> str:
    """Markdown table of the results (and the targets, mask generators)."""
    m, s = results['machine'], results['settings']
    where = m['gpu'] or f"{m['cpu_model']} ({m['cpus_usable']} cores, " \
        f"{m['torch_threads']} torch threads)"
    lines = [
        f"{where}; torch {m['torch']}; {s['precision']}; batch "
        f"{s['batch_size']}; median of {s['steps']} steps after "
        f"{s['warmup']} warm-up" + (f" x {s['rounds']} rounds"
                                    if s['rounds'] > 1 else '')
        + ('; tiny models' if s['tiny'] else '')
        + ('; torch.compile' if s['compile'] else ''),
        '',
        '| entry | backbone | step ms | min ms | img/s | peak mem MiB | '
        'loss % | maskgen % | train GFLOPs/img | MFU | '
        'step time vs reference |',
        '|---|---|---|---|---|---|---|---|---|---|---|']
    for r in results['entries']:
        if 'error' in r:
            lines.append(f"| {r['name']} | {r['backbone']} | failed: "
                         f"{r['error'][:60]} |  |  |  |  |  |  |  |  |")
            continue
        fl = r.get('flops') or {}
        ratios = ', '.join(f'{v:.2f}x {k}' for k, v in r['ratios'].items())
        lines.append(
            f"| {r['name']} | {r['backbone']} | "
            f"{_fmt(r['median_step_s'], '.0f', 1e3)} | "
            f"{_fmt(r['min_step_s'], '.0f', 1e3)} | "
            f"{_fmt(r['images_per_s'], '.2f')} | "
            f"{_fmt(r['peak_mem_mib'], '.0f')} | "
            f"{_fmt(r['loss_share'], '.1f', 100)} | "
            f"{_fmt(r['maskgen_share'], '.2f', 100)} | "
            f"{_fmt(fl.get('train_flops_per_image'), '.1f', 1e-9)} | "
            f"{_fmt(r.get('mfu'), '.1f', 100, '%')} | {ratios or '-'} |")
    if results.get('targets'):
        lines.append('')
        for t in results['targets']:
            state = 'not measured' if t['ratio'] is None else (
                f"{t['ratio']:.3f}x (fastest steps {t['ratio_min']:.3f}x): "
                + ('met' if t['met'] else 'NOT met'))
            lines.append(f"- target {t['entry']} <= {t['max_ratio']}x "
                         f"{t['reference']}: {state}")
    if results.get('mask_generators'):
        lines.append('')
        lines.append('| mask generator | settings | masks/s/core |')
        lines.append('|---|---|---|')
        for g in results['mask_generators']:
            args = ', '.join(f'{k}={v}' for k, v in g['cfg'].items()
                             if k != 'type')
            lines.append(f"| {g['type']} | {args} | "
                         f"{g['masks_per_s']:.0f} |")
    for note in results.get('notes', []):
        lines.append(f'- {note}')
    return '\n'.join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Training-step speed of the MIM pre-training recipes '
        'against mmpretrain\'s (see mim_plugins/benchmark.py)')
    p.add_argument('--device', choices=['cpu', 'cuda'],
                   help='default: cuda if available')
    p.add_argument('--batch-size', type=int,
                   help='per step; default 64 on GPU, 2 on the CPU')
    p.add_argument('--steps', type=int,
                   help='timed steps; default 20 on GPU, 5 on the CPU')
    p.add_argument('--warmup', type=int,
                   help='untimed steps first; default 5 on GPU, 1 on the CPU')
    p.add_argument('--precision', choices=['fp32', 'bf16', 'fp16'],
                   help='fp32: OptimWrapper; bf16/fp16: AmpOptimWrapper of '
                   'that dtype (GPU); default bf16 on GPU, fp32 on the CPU')
    p.add_argument('--channels-last', action='store_true',
                   help='backbone channels_last=True where it takes it')
    p.add_argument('--no-sdpa', action='store_true',
                   help='backbone use_sdpa=False where it takes it')
    p.add_argument('--with-cp', action='store_true',
                   help='backbone with_cp=True (activation checkpointing) '
                   'where it takes it')
    p.add_argument('--compile', action='store_true',
                   help='torch.compile the model (its forward, in place; '
                   'the optimizer step stays eager); use --warmup >= 2')
    p.add_argument('--no-flops', action='store_true',
                   help='skip the FLOP count (and MFU)')
    p.add_argument('--only', nargs='+', metavar='NAME',
                   help=f'entries: {" ".join(e.name for e in ENTRIES)}')
    p.add_argument('--tiny', action='store_true',
                   help='tiny models at 64 px (our demo configs, shrunk '
                   'mmpretrain references)')
    p.add_argument('--threads', type=int,
                   help='torch CPU threads (default: torch\'s choice)')
    p.add_argument('--rounds', type=int, default=1,
                   help='run the entries this many times round-robin (every '
                   'other round reversed) and pool their steps: steadier on '
                   'a shared machine; use an even number')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', help='write all raw numbers as JSON here')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
    results = run_benchmark(
        names=args.only, device=args.device, batch_size=args.batch_size,
        steps=args.steps, warmup=args.warmup, precision=args.precision,
        tiny=args.tiny, channels_last=args.channels_last,
        sdpa=not args.no_sdpa, with_cp=args.with_cp, compile=args.compile,
        flops=not args.no_flops, out=args.out, threads=args.threads,
        rounds=args.rounds, seed=args.seed)
    print(format_table(results))
    if args.out:
        print(f'\nraw numbers: {args.out}')
    failed = [r['name'] for r in results['entries'] if 'error' in r]
    if failed:
        print(f'failed entries: {failed} (tracebacks in the JSON)',
              file=sys.stderr)
        return 1
    return 0
