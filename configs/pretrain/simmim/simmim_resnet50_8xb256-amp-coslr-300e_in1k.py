# SimMIM ResNet-50, 300 epochs at 224 px: the A2MIM paper's SimMIM baseline
# (official: Westlake-AI/openmixup configs/selfsup/simmim/imagenet/
# r50_sz224_8xb256_fp16_ep300.py): the mask token replaces the
# stride-4 features entering stage 1 (mask_layer=0, 56x56 grid), linear
# decoder, L1 on the masked pixels; AdamW 8e-4 @ bs 2048, fp16, 10 warm-up
# epochs, cosine to 1e-5; RandomResizedCrop(224, 0.67-1.0), bilinear, + flip.
_base_ = [
    '../../_base_/datasets/imagenet_mim.py',
    '../../_base_/schedules/mim_adamw.py',
    '../../_base_/pretrain_runtime.py',
]
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)

# data: the 32-px blocks on the stride-4 grid of the mask token
train_pipeline = _base_.train_pipeline
train_pipeline[3].model_patch_size = 4  # the mask generator
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(
    type='SimMIM',
    backbone=dict(
        type='SimMIMResNet',
        depth=50,
        out_indices=(3, ),
        norm_cfg=dict(type='SyncBN'),
        mask_layer=0,
        mask_token='learnable'),
    # openmixup's SimMIMNeck.init_weights: trunc-normal(0.02), bias 0
    neck=dict(type='MIMLinearDecoder', in_channels=2048, encoder_stride=32),
    head=dict(
        type='SimMIMHead',
        patch_size=4,
        loss=dict(type='PixelReconstructionLoss', criterion='L1', channel=3)))

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(lr=8e-4),
    paramwise_cfg=dict(custom_keys={'mask_token': dict(decay_mult=0.)}))

max_epochs = 300
warmup_epochs = 10
# openmixup's StepFixCosineAnnealing: the cosine starts after the warm-up;
# during the warm-up the ramp multiplies the cosine at the negative phase
# (openmixup/core/hooks/lr_scheduler.py; its ramp starts at 0, ours at 1e-6)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingFactorLR',
        T_max=max_epochs - warmup_epochs,
        phase_offset=-warmup_epochs,
        eta_min=1e-5,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
