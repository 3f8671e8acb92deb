# ImageNet fine-tuning of a SimMIM ResNet-50 with RSB A3, as for A2MIM.
_base_ = '../a2mim/resnet50_a2mim-pre_8xb256-rsb-a3-100e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/simmim_resnet50_8xb256-amp-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
