# ImageNet fine-tuning of an A2MIM ResNet-50 with mmpretrain's RSB A3 recipe
# (100 epochs at 160 px, tested at 224, LAMB 8e-3 @ bs 2048) plus EMA
# (paper: 78.8 top-1).
_base_ = 'mmpretrain::resnet/resnet50_8xb256-rsb-a3-100e_in1k.py'
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
