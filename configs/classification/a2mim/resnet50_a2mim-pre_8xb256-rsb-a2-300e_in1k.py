# ImageNet fine-tuning of an A2MIM ResNet-50 (300-epoch pre-training) with
# RSB A2 (paper: 80.4 top-1; official: Westlake-AI/openmixup
# configs/benchmarks/classification/imagenet/
# r50_rsb_a2_ft_sz224_8xb256_cos_fp16_ep300.py): mmpretrain's RSB A2 recipe
# (300 epochs at 224 px, LAMB 5e-3 @ bs 2048, wd 0.02, 5 warm-up epochs,
# cosine to 1e-6, BCE, mixup 0.1 / cutmix 1.0, RandAugment m7, drop path
# 0.05, tested at 236 -> 224) with the official fp16, EMA (momentum 1e-4)
# and plain sampling (mmpretrain's A2 repeats augmentations; the official
# fine-tune does not).
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = 'mmpretrain::resnet/resnet50_8xb256-rsb-a2-300e_in1k.py'
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)

pretrained = '{{$PRETRAINED:work_dirs/a2mim_resnet50_8xb256-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
train_dataloader = dict(sampler=dict(type='DefaultSampler', shuffle=True))
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
custom_hooks = [
    dict(type='EMAHook', momentum=1e-4, priority='ABOVE_NORMAL'),
    dict(type='PretrainedCheckHook'),
]
