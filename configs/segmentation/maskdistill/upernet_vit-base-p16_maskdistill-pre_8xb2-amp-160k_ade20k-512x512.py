# UperNet with a MaskDistill ViT-B on ADE20K (paper: about 53.8 mIoU): the
# ViT-B recipe without absolute position embedding.
_base_ = '../simmim/upernet_vit-base-p16_simmim-pre_8xb2-amp-160k_ade20k-512x512.py'

pretrained = '{{$PRETRAINED:work_dirs/maskdistill_vit-base-p16_8xb256-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
