# ImageNet fine-tuning at 224 px of an A2MIM Swin-B pre-trained for 100
# epochs at 192 px: the SimMIM Swin-B recipe (mmpretrain's SimMIM benchmark,
# AdamW 5e-3 @ bs 2048, layer decay 0.9, drop path 0.1, 20 warm-up epochs,
# AMP, clip 5; openmixup's swin_base_swin_ft_sz224_4xb128_accu4_cos_ep100.py
# has the same values in fp32). The 6x6-window relative position tables are
# resized to 7x7 on load. No published number.
_base_ = '../simmim/swin-base-w7_simmim-pre_8xb256-coslr-100e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_swin-base-w6_8xb128-accu2-coslr-100e_in1k-192px/epoch_100.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
