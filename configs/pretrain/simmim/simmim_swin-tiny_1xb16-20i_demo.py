# Tiny SimMIM Swin for the tests: the Swin-B 100-epoch recipe with a 32-d,
# one-block-per-stage Swin (window 2) on the generated 64-px image folder.
_base_ = './simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py'

data_root = 'data/demo'
img_size = 64
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=img_size,
         crop_ratio_range=(0.67, 1.0), backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='BlockwiseMaskGenerator', input_size=img_size,
         mask_patch_size=16, model_patch_size=4, mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        with_label=False,
        pipeline=train_pipeline))

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=32, depths=[1, 1, 1, 1],
                  num_heads=[1, 1, 2, 2]),
        img_size=img_size,
        stage_cfgs=dict(block_cfgs=dict(window_size=2))),
    neck=dict(in_channels=32 * 2**3))

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
