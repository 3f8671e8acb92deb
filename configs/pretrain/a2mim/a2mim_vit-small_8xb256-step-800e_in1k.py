# A2MIM ViT-S, 800 epochs on ImageNet-1k at 224 px (paper; official:
# Westlake-AI/openmixup configs/selfsup/a2mim/imagenet/
# vit_small_l0_sz224_8xb256_step_ep800.py). 'small' is mmpretrain's 768-d,
# 8-layer, 8-head ViT (FFN 2304), with relative position bias per layer and
# layer scale 0.1. AdamW 4e-4 @ bs 2048, clip 5.0, 10-epoch warmup, lr x0.1
# at epoch 700, fp32; RandomResizedCrop(224, 0.67-1.0), bilinear, + flip. No
# weight decay on norms, biases (q/v biases and relative position tables
# included: the official regex 'bias' matches them), position embedding, cls
# and mask tokens, layer scales.
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
        model_patch_size=16,
        mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    # re-declared: mmengine tags the inherited dict with a `_scope_` key that
    # the collate function does not accept
    collate_fn=dict(_delete_=True, type='default_collate'),
    dataset=dict(pipeline=train_pipeline))

model = dict(
    type='A2MIM',
    backbone=dict(
        type='A2MIMViT',
        arch='small',
        img_size=img_size,
        patch_size=16,
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        use_abs_pos_emb=True,
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        out_type='featmap',
        final_norm=True,
        mask_layer=0,
        mask_token='learnable',
        replace=False),
    neck=dict(type='SimMIMLinearDecoder', in_channels=768, encoder_stride=16),
    head=dict(
        type='A2MIMHead',
        loss=dict(
            type='RegressionLoss',
            mode='l1_loss',
            loss_weight=1.0,
            reduction='none'),
        unmask_weight=0.,
        fft_weight=0.1,
        fft_focal=True,
        fft_unmask_weight=0.,
        fft_unmask_replace='mixed',
        fft_reweight=False,
        encoder_in_channels=3))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=4e-4, betas=(0.9, 0.999), weight_decay=0.05,
        eps=1e-8),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        bias_decay_mult=0.,
        custom_keys={
            'mask_token': dict(decay_mult=0.),
            'pos_embed': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.),
            'gamma': dict(decay_mult=0.),
            'q_bias': dict(decay_mult=0.),
            'v_bias': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
        }))

max_epochs = 800
warmup_epochs = 10
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=5e-7 * 2048 / 512 / 4e-4,
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
