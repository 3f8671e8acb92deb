# UperNet on ADE20K from a SimMIM ConvNeXt-B: as the A2MIM one.
_base_ = '../a2mim/upernet_convnext-base_a2mim-pre_8xb2-amp-160k_ade20k-512x512.py'  # noqa

pretrained = '{{$PRETRAINED:work_dirs/simmim_convnext-base_8xb256-amp-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
