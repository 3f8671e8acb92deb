# Mask R-CNN R50-C4 2x multi-scale from a SimMIM ResNet-50: the A2MIM recipe.
_base_ = '../a2mim/mask-rcnn_resnet50-c4_a2mim-pre_8xb2-ms-2x_coco.py'

pretrained = '{{$PRETRAINED:work_dirs/simmim_resnet50_8xb256-amp-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(init_cfg=dict(checkpoint=pretrained)),
    roi_head=dict(shared_head=dict(init_cfg=dict(checkpoint=pretrained))))
