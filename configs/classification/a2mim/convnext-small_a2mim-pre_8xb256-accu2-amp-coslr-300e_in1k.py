# ImageNet fine-tuning of an A2MIM ConvNeXt-S pre-trained for 300 epochs
# (paper: 83.7 top-1, "RSB A2" in openmixup's A2MIM table; official:
# Westlake-AI/openmixup configs/benchmarks/classification/imagenet/
# convnext_s_spark_ft_sz224_8xb256_cos_fp16_ep300.py): mmpretrain's ConvNeXt-S
# recipe (AdamW 4e-3 @ bs 4096, weight decay 0.05 without decay on norms,
# biases and layer scales, mixup 0.8 / cutmix 1.0, label smoothing 0.1,
# RandAugment m9, random erasing 0.25, 224 px, tested at 256 -> 224, no
# gradient clipping) with the official 8 GPUs x 256 x 2 accumulated steps,
# fp16, drop path 0.4, the official schedule (mmcv's CosineAnnealing with
# by_epoch=False: one cosine to 1e-6 over all 300 epochs, per iteration,
# multiplied during the 5 warm-up epochs by a ramp from warmup_ratio 1e-5;
# mmpretrain's: 20 warm-up epochs, then a cosine to 1e-5) and the official
# EMA (momentum 0.9999 averaged once per optimizer step, update_interval=2,
# with a 20-epoch momentum warm-up).
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = 'mmpretrain::convnext/convnext-small_32xb128_in1k.py'
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_convnext-small_8xb256-amp-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(
        drop_path_rate=0.4,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
train_dataloader = dict(batch_size=256)
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    accumulative_counts=2,
    optimizer=dict(lr=4e-3))

max_epochs = 300
warmup_epochs = 5
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-5,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingFactorLR',
        T_max=max_epochs,
        eta_min=1e-6,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs)
# openmixup's EMAHook(momentum=0.9999, warmup='linear', warmup_iters=20 * 626,
# warmup_ratio=0.9, update_interval=2): once per optimizer step (every 2
# data iterations), the momentum warmed up over 20 epochs of 626 iterations
custom_hooks = [
    dict(
        type='EMAHook',
        ema_type='StepEMA',
        momentum=1e-4,
        interval=2,
        warmup_iters=20 * 626,
        priority='ABOVE_NORMAL'),
    dict(type='PretrainedCheckHook'),
]
