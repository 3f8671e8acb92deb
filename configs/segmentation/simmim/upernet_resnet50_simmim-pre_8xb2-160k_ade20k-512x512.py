# UperNet with a SimMIM ResNet-50 on ADE20K: the A2MIM ResNet-50 recipe.
_base_ = '../a2mim/upernet_resnet50_a2mim-pre_8xb2-160k_ade20k-512x512.py'

pretrained = '{{$PRETRAINED:work_dirs/simmim_resnet50_8xb256-amp-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
