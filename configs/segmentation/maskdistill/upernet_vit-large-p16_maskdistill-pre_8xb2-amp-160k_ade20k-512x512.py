# UperNet with a MaskDistill ViT-L on ADE20K (the paper reports ViT-L; no
# official code): BEiT v2's ViT-L UperNet recipe (microsoft/unilm
# beit2/semantic_segmentation/configs/beit/upernet/
# upernet_beit_large_24_512_slide_160k_ade20k_pt2ft.py): AdamW 4e-5, layer
# decay 0.9, drop path 0.2, features of layers 8, 12, 16 and 24; 160k
# iterations at batch 16, 512x512 crops; the rest as the ViT-B recipe.
_base_ = './upernet_vit-base-p16_maskdistill-pre_8xb2-amp-160k_ade20k-512x512.py'  # noqa

pretrained = '{{$PRETRAINED:work_dirs/maskdistill_vit-large-p16_8xb64-accu4-coslr-300e_in1k/epoch_300.pth}}'  # noqa
width = 1024
model = dict(
    backbone=dict(arch='large', out_indices=(7, 11, 15, 23),
                  drop_path_rate=0.2, init_cfg=dict(checkpoint=pretrained)),
    neck=dict(embed_dim=width),
    decode_head=dict(in_channels=[width] * 4, channels=width),
    auxiliary_head=dict(in_channels=width))
optim_wrapper = dict(
    optimizer=dict(lr=4e-5), paramwise_cfg=dict(layer_decay_rate=0.9))
