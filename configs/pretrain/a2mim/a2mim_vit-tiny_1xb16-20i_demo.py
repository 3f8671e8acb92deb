# Tiny A2MIM ViT for the demo and the tests: the ViT recipe with a 2-layer,
# 64-d ViT with 8-px patches on the generated 64-px image folder, 20
# iterations, CPU.
_base_ = './a2mim_vit-small_8xb256-step-800e_in1k.py'

data_root = 'data/demo'
img_size = 64
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=img_size,
        crop_ratio_range=(0.67, 1.0),
        interpolation='bicubic',
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='BlockwiseMaskGenerator',
        input_size=img_size,
        mask_patch_size=16,
        model_patch_size=8,
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
        arch=dict(
            _delete_=True,
            embed_dims=64, num_layers=2, num_heads=2,
            feedforward_channels=128),
        img_size=img_size,
        patch_size=8),
    neck=dict(in_channels=64, encoder_stride=8))

optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5),
    # milestones count from `begin`: lr x0.1 at iteration 15
    dict(type='MultiStepLR', by_epoch=False, milestones=[10], gamma=0.1,
         begin=5, end=20),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=20)
log_processor = dict(by_epoch=False)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=10, max_keep_ckpts=2))
