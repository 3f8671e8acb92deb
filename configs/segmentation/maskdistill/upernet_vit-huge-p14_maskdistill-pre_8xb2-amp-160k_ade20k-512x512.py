# UperNet with a MaskDistill ViT-H/14 on ADE20K (paper: 58.8 mIoU at 512 px,
# abstract; no official code). BEiT v2 publishes no ViT-H UperNet: its
# ViT-L recipe (upernet_vit-large-p16_maskdistill-pre_...: AdamW 4e-5, layer
# decay 0.9, 160k iterations at batch 16, 512x512) with the features of
# layers 8, 16, 24 and 32 and drop path 0.3; 512-px crops give 37x37 patches
# of 14 px (the patch embedding pads the last 6 px).
_base_ = './upernet_vit-large-p16_maskdistill-pre_8xb2-amp-160k_ade20k-512x512.py'  # noqa

pretrained = '{{$PRETRAINED:work_dirs/maskdistill_vit-huge-p14_8xb256-fsdp-coslr-300e_in1k/epoch_300.pth}}'  # noqa
width = 1280
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=1280, num_layers=32,
                  num_heads=16, feedforward_channels=5120),
        patch_size=14,
        out_indices=(7, 15, 23, 31),
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint=pretrained)),
    neck=dict(embed_dim=width),
    decode_head=dict(in_channels=[width] * 4, channels=width),
    auxiliary_head=dict(in_channels=width))
