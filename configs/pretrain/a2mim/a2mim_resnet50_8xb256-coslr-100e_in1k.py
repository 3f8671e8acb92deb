# A2MIM ResNet-50, 100 epochs on ImageNet-1k at 224 px (paper; official:
# Westlake-AI/openmixup configs/selfsup/a2mim/imagenet/
# r50_l3_sz224_init_8xb256_cos_ep100.py): mask token added before stage 4,
# AdamW 1.2e-3 @ bs 2048, 10-epoch warmup, cosine to 1e-5; mask token and its
# gamma at lr x0.1 without weight decay. Fine-tuned with RSB A3: 78.8.
_base_ = [
    '../../_base_/datasets/imagenet_mim.py',
    '../../_base_/schedules/mim_adamw.py',
    '../../_base_/pretrain_runtime.py',
]
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)

# data: RandomResizedCrop(224, 0.8-1.0) + flip (bilinear, torchvision's
# default in the official pipeline), 32-px blocks, ratio 0.6, mask at the
# stride-16 input of stage 4
train_pipeline = _base_.train_pipeline
train_pipeline[1].crop_ratio_range = (0.8, 1.0)  # RandomResizedCrop
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(
    type='A2MIM',
    backbone=dict(
        type='A2MIMResNet',
        depth=50,
        out_indices=(3, ),
        norm_cfg=dict(type='SyncBN'),
        mask_layer=3,
        mask_token='learnable',
        mask_init=1e-6,
        replace=False),
    # the linear decoder initialised as openmixup's NonLinearMIMNeck:
    # trunc-normal(0.02) conv weight, zero bias
    neck=dict(type='MIMLinearDecoder', in_channels=2048, encoder_stride=32),
    head=dict(
        type='A2MIMHead',
        loss=dict(
            type='RegressionLoss',
            mode='focal_l1_loss',
            loss_weight=1.0,
            reduction='none',
            activate='sigmoid',
            alpha=0.2,
            gamma=1.0,
            residual=False),
        unmask_weight=0.,
        fft_weight=0.5,
        fft_focal=True,
        fft_unmask_weight=1e-3,
        fft_unmask_replace='mixed',
        fft_reweight=False,
        encoder_in_channels=3))

# optimizer: no decay on norms and biases; mask token and gamma lr x0.1, no
# decay
optim_wrapper = dict(
    optimizer=dict(lr=1.2e-3),
    paramwise_cfg=dict(
        custom_keys={
            'mask_token': dict(decay_mult=0., lr_mult=0.1),
            'mask_gamma': dict(decay_mult=0., lr_mult=0.1),
        }))

max_epochs = 100
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
