"""The tiny shapes: what "make it tiny" means, in one place.

The tiny pre-training configs (``configs/pretrain/*/*_demo.py``), the
downstream shrinking (:mod:`mim_plugins.reproduce.tiny`), the benchmark's
tiny versions of mmpretrain's reference recipes
(:mod:`mim_plugins.benchmark.recipes`) and the unit tests' model configs
(``tests/helpers.py``) all take their shapes from here: a 64-d, 2-layer,
2-head ViT (FFN 128) with 8-px patches; a 32-d Swin with one block a stage
and window 2; a ConvNeXt with one block a stage, 16..128 channels; a
ResNet-18 with 16 stem/base channels (stages 16..128); 64-px images,
16-px mask patches; and the demo's run (the generated image folder, batch
16, 20 iterations). ``tests/test_tiny.py`` checks that no demo config
spells a shape out.

Why here, and why the demo configs import it: the demo configs are recipes
users run, so their resolved content is fixed (``tests/
test_config_snapshot.py``), and mmengine merges every key of every
``_base_`` file into a config, forbidding a key in two bases: a shared base
file could only add keys. A module the configs import adds none (mmengine
drops modules from a config), so it is the one place; reading the shapes
back out of one demo config instead would leave them restated in the nine.
It lives in the library, not in ``reproduce/`` (an application over the
library, which the shipped configs must not need), and imports nothing.

A config imports it after its ``_base_`` line: mmengine takes a config
whose first statement is an import for a new-style (lazy-import) one.
Every function returns fresh dicts and lists: mmengine's merge pops
``_delete_`` from the dicts it is given.
"""
import copy
from typing import Optional

#: image side of the tiny runs (the generated images are 64 px too)
IMG_SIZE = 64
#: side of a mask patch of the tiny pre-trainings: a 4x4 mask grid at 64 px
MASK_PATCH = 16
#: patch side of the tiny ViT: an 8x8 token grid at 64 px
VIT_PATCH = 8
#: attention window of the tiny Swin (its last stage is 2x2 at 64 px)
SWIN_WINDOW = 2
#: stage widths of the tiny ResNet and the tiny ConvNeXt
STAGE_CHANNELS = (16, 32, 64, 128)

_ARCH = {
    'vit': dict(embed_dims=64, num_layers=2, num_heads=2,
                feedforward_channels=128),
    'swin': dict(embed_dims=32, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2]),
    'convnext': dict(depths=[1, 1, 1, 1], channels=list(STAGE_CHANNELS)),
}
#: the tiny ResNet: a ResNet-18 (basic blocks) 16 channels wide
_RESNET = dict(depth=18, stem_channels=16, base_channels=16)

#: the generated image folder the demo configs name (relative to the
#: working directory)
DATA_ROOT = 'data/demo'
#: iterations of a tiny pre-training run
DEMO_ITERS = 20


def family(backbone_type: str) -> str:
    """'vit', 'swin', 'convnext' or 'resnet' (the rest: ResNet-like) of a
    backbone type, with or without a scope (``mmpretrain.BEiTViT``)."""
    for name, key in (('vit', 'ViT'), ('swin', 'Swin'),
                      ('convnext', 'ConvNeXt')):
        if key in backbone_type:
            return name
    return 'resnet'


def arch(name: str, vit_layers: int = 2) -> dict:
    """The ``arch`` dict of the tiny ViT, Swin or ConvNeXt (``vit_layers``:
    a deeper tiny ViT, e.g. four layers for UperNet's four levels)."""
    out = copy.deepcopy(_ARCH[name])
    if name == 'vit':
        out['num_layers'] = vit_layers
    return out


def backbone(name: str, vit_layers: int = 2, delete: bool = False) -> dict:
    """The keys that make a backbone of family ``name`` tiny.

    ``delete`` marks the ``arch`` ``_delete_`` (a config file replacing its
    base's arch, e.g. ``'base'``); code updating a loaded config leaves it
    False."""
    if name == 'resnet':
        return dict(_RESNET)
    out = dict(arch=arch(name, vit_layers))
    if delete:
        out['arch'] = dict(_delete_=True, **out['arch'])
    if name == 'vit':
        out.update(img_size=IMG_SIZE, patch_size=VIT_PATCH)
    elif name == 'swin':
        out.update(img_size=IMG_SIZE, stage_cfgs=dict(
            block_cfgs=dict(window_size=SWIN_WINDOW)))
    return out


def stage_channels(name: str) -> list:
    """Channels of the tiny backbone's four stages (a ViT: its width, at
    each of the four levels a pyramid makes of it)."""
    if name in ('vit', 'swin'):
        dims = _ARCH[name]['embed_dims']
        # a Swin doubles its width at each of three patch mergings
        return [dims * (2**i if name == 'swin' else 1) for i in range(4)]
    return list(STAGE_CHANNELS)


def out_channels(name: str) -> int:
    """Channels of the tiny backbone's last feature map."""
    return stage_channels(name)[-1]


def shrink_backbone(cfg: dict, vit_layers: int = 2) -> int:
    """Make a backbone config tiny in place (its family from its type, as
    the tiny pre-trainings, so their checkpoints load); its out channels."""
    name = family(cfg['type'])
    cfg.update(backbone(name, vit_layers))
    if name == 'vit' and cfg.get('frozen_stages', -1) > vit_layers:
        cfg['frozen_stages'] = vit_layers  # linear probes
    return out_channels(name)


def shrink_pipeline(pipeline: list, size: int = IMG_SIZE,
                    mask_patch_size: int = MASK_PATCH) -> list:
    """Image sizes of a pipeline (classification or pre-training) scaled down
    to ``size`` in place; a SimMIM or block-wise mask generator masks
    ``mask_patch_size``-px patches of it."""
    for t in pipeline:
        if t['type'] in ('RandomResizedCrop', 'Resize') and 'scale' in t:
            t['scale'] = size
        elif t['type'] == 'ResizeEdge':
            t['scale'] = int(size * 8 / 7)
        elif t['type'] == 'CenterCrop':
            t['crop_size'] = size
        elif t['type'] in ('SimMIMMaskGenerator', 'BlockwiseMaskGenerator'):
            t.update(input_size=size, mask_patch_size=mask_patch_size)
    return pipeline


# the tiny pre-training run, for the demo config files (``_delete_``: the
# full recipes' epoch loops and ImageNet sets are replaced, not merged)

def demo_dataloader(pipeline: list, data_root: str = DATA_ROOT,
                    delete_sampler: bool = False) -> dict:
    """Batches of 16 from the generated image folder, an endless shuffled
    stream, in the main process."""
    sampler = dict(type='InfiniteSampler', shuffle=True)
    if delete_sampler:
        sampler = dict(_delete_=True, **sampler)
    return dict(
        batch_size=16, num_workers=0, persistent_workers=False,
        sampler=sampler,
        dataset=dict(_delete_=True, type='CustomDataset',
                     data_root=data_root, data_prefix='train',
                     with_label=False, pipeline=pipeline))


def demo_schedule(step_at: Optional[int] = None) -> list:
    """5 iterations of linear warm-up, then cosine to 1e-5, or with
    ``step_at`` a x0.1 step that many iterations after the warm-up (the
    ViT recipes' step schedule; milestones count from ``begin``)."""
    warmup = 5
    after = (dict(type='CosineAnnealingLR', eta_min=1e-5)
             if step_at is None else
             dict(type='MultiStepLR', milestones=[step_at], gamma=0.1))
    return [dict(type='LinearLR', start_factor=0.1, by_epoch=False,
                 begin=0, end=warmup),
            dict(after, by_epoch=False, begin=warmup, end=DEMO_ITERS)]


def demo_train_cfg() -> dict:
    return dict(_delete_=True, type='IterBasedTrainLoop',
                max_iters=DEMO_ITERS)


def demo_hooks() -> dict:
    """A log line every 5 iterations, a checkpoint every 10 (two kept)."""
    return dict(logger=dict(type='LoggerHook', interval=5),
                checkpoint=dict(type='CheckpointHook', by_epoch=False,
                                interval=10, max_keep_ckpts=2))
