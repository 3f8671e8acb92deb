# Mask R-CNN FPN 3x on COCO from a SimMIM ConvNeXt-B: as the A2MIM one.
_base_ = '../a2mim/mask-rcnn_convnext-base-fpn_a2mim-pre_8xb2-amp-ms-crop-3x_coco.py'  # noqa

pretrained = '{{$PRETRAINED:work_dirs/simmim_convnext-base_8xb256-amp-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
