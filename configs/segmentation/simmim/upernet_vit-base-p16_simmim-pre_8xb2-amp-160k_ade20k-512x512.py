# UperNet with a SimMIM ViT-B on ADE20K: the A2MIM ViT-B recipe; SimMIM's ViT
# has no absolute position embedding (its shared relative position bias is
# copied into every layer on load).
_base_ = '../a2mim/upernet_vit-base-p16_a2mim-pre_8xb2-amp-160k_ade20k-512x512.py'

pretrained = '{{$PRETRAINED:work_dirs/simmim_vit-base-p16_8xb128-accu2-step-800e_in1k/epoch_800.pth}}'  # noqa
model = dict(
    backbone=dict(use_abs_pos_emb=False, init_cfg=dict(checkpoint=pretrained)))
