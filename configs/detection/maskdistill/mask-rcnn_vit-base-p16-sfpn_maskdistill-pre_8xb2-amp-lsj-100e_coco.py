# Mask R-CNN ViT-B + SimpleFPN from a MaskDistill ViT-B: the SimMIM ViT-B
# recipe (no absolute position embedding).
_base_ = '../simmim/mask-rcnn_vit-base-p16-sfpn_simmim-pre_8xb2-amp-lsj-100e_coco.py'

pretrained = '{{$PRETRAINED:work_dirs/maskdistill_vit-base-p16_8xb256-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
