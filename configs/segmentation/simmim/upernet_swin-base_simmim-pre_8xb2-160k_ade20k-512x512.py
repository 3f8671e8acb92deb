# UperNet on ADE20K from a SimMIM Swin-B (mmpretrain's
# SimMIMSwinTransformer, 100 epochs at 192 px): as the A2MIM one.
_base_ = '../a2mim/upernet_swin-base_a2mim-pre_8xb2-160k_ade20k-512x512.py'

pretrained = '{{$PRETRAINED:work_dirs/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px/epoch_100.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
