# ImageNet fine-tuning of an A2MIM ResNet-50 (300-epoch pre-training) with
# RSB A3 (78.9 top-1, openmixup's A2MIM table; official: Westlake-AI/openmixup
# configs/benchmarks/classification/imagenet/
# r50_rsb_a3_ft_sz160_4xb512_cos_fp16_ep100.py): mmpretrain's RSB A3 recipe
# (100 epochs, LAMB 8e-3 @ bs 2048, wd 0.02, 5 warm-up epochs, cosine to 1e-6,
# BCE, mixup 0.1 / cutmix 1.0, RandAugment m6), trained at 160 px (bicubic
# RandomResizedCrop; mmpretrain's base trains at 224) and tested at
# 236 -> 224, fp16, no EMA, as the official fine-tune, with its schedule:
# mmcv's CosineAnnealing over all 100 epochs, evaluated once per epoch,
# multiplied during the 5 warm-up epochs by a ramp from warmup_ratio 1e-5.
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = 'mmpretrain::resnet/resnet50_8xb256-rsb-a3-100e_in1k.py'
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_resnet50_8xb256-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

train_size = 160
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=train_size,
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=6,
        magnitude_std=0.5,
        hparams=dict(pad_val=[104, 116, 124], interpolation='bicubic')),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
max_epochs = 100
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-5,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingFactorLR',
        T_max=max_epochs,
        eta_min=1e-6,
        by_epoch=True,
        begin=0,
        end=max_epochs),
]
custom_hooks = [dict(type='PretrainedCheckHook')]
