# Tiny A2MIM ConvNeXt for the tests and the benchmark's --tiny: the
# ConvNeXt recipe with a one-block-per-stage ConvNeXt (16..128 channels) on
# the generated 64-px image folder (a 2x2 mask grid at stage 3), 20
# iterations, CPU.
_base_ = './a2mim_convnext-tiny_8xb256-amp-coslr-300e_in1k.py'

data_root = 'data/demo'
img_size = 64
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=img_size,
        crop_ratio_range=(0.8, 1.0),
        interpolation='bicubic', backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='BlockwiseMaskGenerator',
        input_size=img_size,
        mask_patch_size=32,
        model_patch_size=32,
        mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        with_label=False,
        pipeline=train_pipeline))

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, depths=[1, 1, 1, 1],
                  channels=[16, 32, 64, 128])),
    neck=dict(in_channels=128))

optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False,
         begin=0, end=5),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=5,
         end=20, eta_min=1e-5),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=20)
log_processor = dict(by_epoch=False)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=10, max_keep_ckpts=2))
