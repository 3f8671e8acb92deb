# ImageNet fine-tuning of an A2MIM ResNet-50 (300-epoch pre-training) with
# RSB A2 (paper: 80.4 top-1; official: Westlake-AI/openmixup
# configs/benchmarks/classification/imagenet/
# r50_rsb_a2_ft_sz224_8xb256_cos_fp16_ep300.py): mmpretrain's RSB A2 recipe
# (300 epochs at 224 px, LAMB 5e-3 @ bs 2048, wd 0.02, 5 warm-up epochs,
# cosine to 1e-6, BCE, mixup 0.1 / cutmix 1.0, RandAugment m7, drop path
# 0.05, repeated augmentation, tested at 236 -> 224) with the official fp16
# and EMA, and the official schedule: mmcv's CosineAnnealing, one cosine
# over all 300 epochs evaluated once per epoch, multiplied during the 5
# warm-up epochs by a ramp from warmup_ratio 1e-5 (mmpretrain's starts the
# cosine after the warm-up). The official dataset base
# (configs/benchmarks/classification/_base_/datasets/
# imagenet_rsb_a2_ft_sz224_8xbs256.py) sets sampler = "RepeatAugSampler",
# read by openmixup/apis/train.py: mmpretrain's A2 sampler is kept.
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = 'mmpretrain::resnet/resnet50_8xb256-rsb-a2-300e_in1k.py'
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_resnet50_8xb256-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
max_epochs = 300
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
# openmixup's EMAHook(momentum=0.9999, warmup='linear', warmup_iters=20 * 626,
# warmup_ratio=0.9): the old average's weight rises from 0.9 x 0.9999 over
# the first 20 epochs (626 iterations each at batch 2048)
custom_hooks = [
    dict(
        type='EMAHook',
        ema_type='StepEMA',
        momentum=1e-4,
        warmup_iters=20 * 626,
        priority='ABOVE_NORMAL'),
    dict(type='PretrainedCheckHook'),
]
