# ImageNet fine-tuning of an A2MIM ResNet-50 with mmpretrain's RSB A2 recipe
# (300 epochs at 224 px, LAMB 5e-3 @ bs 2048, BCE, mixup 0.1 / cutmix 1.0,
# RandAugment m7, repeated augmentation) plus EMA (paper: 80.4 top-1).
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = 'mmpretrain::resnet/resnet50_8xb256-rsb-a2-300e_in1k.py'
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)

pretrained = '{{$PRETRAINED:work_dirs/a2mim_resnet50_8xb256-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
custom_hooks = [
    dict(type='EMAHook', momentum=1e-4, priority='ABOVE_NORMAL'),
    dict(type='PretrainedCheckHook'),
]
