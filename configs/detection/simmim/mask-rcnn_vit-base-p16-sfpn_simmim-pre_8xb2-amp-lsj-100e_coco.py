# Mask R-CNN ViT-B + SimpleFPN from a SimMIM ViT-B: the A2MIM recipe without
# absolute position embedding (the shared relative position bias is copied
# into every layer and resized on load).
_base_ = '../a2mim/mask-rcnn_vit-base-p16-sfpn_a2mim-pre_8xb2-amp-lsj-100e_coco.py'

pretrained = '{{$PRETRAINED:work_dirs/simmim_vit-base-p16_8xb128-accu2-step-800e_in1k/epoch_800.pth}}'  # noqa
model = dict(
    backbone=dict(use_abs_pos_emb=False, init_cfg=dict(checkpoint=pretrained)))
