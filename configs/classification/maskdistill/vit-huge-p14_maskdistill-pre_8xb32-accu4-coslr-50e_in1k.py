# ImageNet fine-tuning of a MaskDistill ViT-H/14 for 50 epochs (paper: 88.3
# top-1 at 224 px, abstract; no official code). BEiT v2 publishes no ViT-H
# recipe: this is its ViT-L recipe (vit-large-p16_maskdistill-pre_...;
# 50 epochs, AdamW 5e-4 @ bs 1024 here as 8 GPUs x 32 x 4, layer decay 0.8)
# with MAE's ViT-H drop path 0.3 (facebookresearch/mae FINETUNE.md); which
# settings the paper used for ViT-H could not be checked against its text.
_base_ = './vit-large-p16_maskdistill-pre_8xb64-accu2-coslr-50e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/maskdistill_vit-huge-p14_8xb256-fsdp-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=1280, num_layers=32,
                  num_heads=16, feedforward_channels=5120),
        patch_size=14,
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint=pretrained)),
    head=dict(in_channels=1280))
train_dataloader = dict(batch_size=32)
optim_wrapper = dict(accumulative_counts=4)
