# SimMIM ViT-B/16, 800 epochs on ImageNet-1k at 224 px: the official recipe
# (microsoft/SimMIM configs/vit_base__800ep/
# simmim_pretrain__vit_base__img224__800ep.yaml): the mask token replaces the
# masked patch embeddings; no absolute position embedding, a shared relative
# position bias, layer scale 0.1, drop path 0.1; AdamW 4e-4 @ bs 2048
# (1e-4 x 2048 / 512), clip 5, 10 warm-up epochs from 2e-6, lr x0.1 at epoch
# 700, fp16 (the official scripts' default, apex O1; the file name, which
# tools refer to, predates it); RandomResizedCrop(224, 0.67-1.0), bilinear,
# + flip; no weight decay on 1-D parameters (norms, biases, q/v biases, layer
# scales), tokens and relative position tables. mmpretrain's SimMIM
# algorithm, decoder and head.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs256_simmim_192.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)

img_size = 224
patch_size = 16
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
        model_patch_size=patch_size,
        mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    # re-declared: mmengine tags the inherited dict with a `_scope_` key that
    # the collate function does not accept
    collate_fn=dict(_delete_=True, type='default_collate'),
    dataset=dict(pipeline=train_pipeline))

model = dict(
    type='SimMIM',
    backbone=dict(
        type='SimMIMViT',
        arch='base',
        img_size=img_size,
        patch_size=patch_size,
        replace=True,  # the mask token replaces the patch embeddings
        use_abs_pos_emb=False,
        use_rel_pos_bias=False,
        use_shared_rel_pos_bias=True,
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        out_type='featmap',
        final_norm=True),
    neck=dict(
        type='SimMIMLinearDecoder', in_channels=768,
        encoder_stride=patch_size),
    head=dict(
        type='SimMIMHead',
        patch_size=patch_size,
        loss=dict(type='PixelReconstructionLoss', criterion='L1', channel=3)))

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    accumulative_counts=2,
    optimizer=dict(
        type='AdamW', lr=4e-4, betas=(0.9, 0.999), weight_decay=0.05,
        eps=1e-8),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        bias_decay_mult=0.,
        custom_keys={
            'mask_token': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
            'gamma': dict(decay_mult=0.),
            'q_bias': dict(decay_mult=0.),
            'v_bias': dict(decay_mult=0.),
        }))

max_epochs = 800
warmup_epochs = 10
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=5e-7 / 1e-4,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='MultiStepLR',
        # milestones count from `begin`: lr x0.1 at epoch 700
        milestones=[700 - warmup_epochs],
        gamma=0.1,
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
