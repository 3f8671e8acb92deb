# Tiny MaskDistill for the tests: the ViT-B recipe with a 2-layer 64-d student
# and an explicitly *random* 2-layer CLIP-style teacher (random_init=True; no
# weights can be downloaded here) on the generated 64-px image folder.
_base_ = './maskdistill_vit-base-p16_8xb256-coslr-300e_in1k.py'

data_root = 'data/demo'
img_size = 64
patch_size = 8
grid = img_size // patch_size
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomResizedCrop', scale=img_size, crop_ratio_range=(0.2, 1.0),
         interpolation='bicubic', backend='pillow'),
    dict(type='BEiTv2MaskGenerator', input_size=(grid, grid),
         num_masking_patches=26, max_num_patches=26, min_num_patches=4),
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

tiny_arch = dict(embed_dims=64, num_layers=2, num_heads=2,
                 feedforward_channels=128)
model = dict(
    backbone=dict(arch=dict(_delete_=True, **tiny_arch), img_size=img_size,
                  patch_size=patch_size),
    target_generator=dict(
        arch=dict(_delete_=True, **tiny_arch), img_size=img_size,
        patch_size=patch_size, out_channels=32, checkpoint=None,
        random_init=True),
    head=dict(in_channels=64, out_channels=32))

optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=5, end=20,
         eta_min=1e-5),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=20)
log_processor = dict(by_epoch=False)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=10, max_keep_ckpts=2))
