# SimMIM ResNet-50, 300 epochs at 224 px: the A2MIM paper's SimMIM baseline
# (official: Westlake-AI/openmixup configs/selfsup/simmim/imagenet/
# r50_sz224_8xb256_fp16_ep300.py): the mask token replaces the
# stride-4 features entering stage 1 (mask_layer=0, 56x56 grid), linear
# decoder, L1 on the masked pixels; AdamW 8e-4 @ bs 2048, fp16, 10 warm-up
# epochs, cosine to 1e-5; RandomResizedCrop(224, 0.67-1.0), bilinear, + flip.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs256_simmim_192.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)

img_size = 224
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=img_size,
        crop_ratio_range=(0.67, 1.0),
        interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='BlockwiseMaskGenerator',
        input_size=img_size,
        mask_patch_size=32,
        model_patch_size=4,
        mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    collate_fn=dict(_delete_=True, type='default_collate'),
    dataset=dict(pipeline=train_pipeline))

model = dict(
    type='SimMIM',
    backbone=dict(
        type='SimMIMResNet',
        depth=50,
        out_indices=(3, ),
        norm_cfg=dict(type='SyncBN'),
        mask_layer=0,
        mask_token='learnable'),
    neck=dict(type='SimMIMLinearDecoder', in_channels=2048, encoder_stride=32),
    head=dict(
        type='SimMIMHead',
        patch_size=4,
        loss=dict(type='PixelReconstructionLoss', criterion='L1', channel=3)))

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(
        type='AdamW', lr=8e-4, betas=(0.9, 0.999), weight_decay=0.05,
        eps=1e-8),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        bias_decay_mult=0.,
        custom_keys={'mask_token': dict(decay_mult=0.)}))

max_epochs = 300
warmup_epochs = 10
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - warmup_epochs,
        eta_min=1e-5,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
custom_hooks = [dict(type='StopOnInvalidLossHook')]
randomness = dict(seed=0, diff_rank_seed=True)
auto_scale_lr = dict(base_batch_size=2048)
