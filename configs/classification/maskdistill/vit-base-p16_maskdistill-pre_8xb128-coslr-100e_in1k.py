# ImageNet fine-tuning of a MaskDistill ViT-B for 100 epochs (paper: about
# 85.5 top-1; no official code): BEiT v2-style fine-tuning, AdamW 5e-4 @ bs
# 1024, layer decay 0.65, 20 warm-up epochs, cosine to 1e-6, no EMA (BEiT
# v2's default), relative position bias per layer (the pre-trained shared
# bias is copied into every layer), no absolute position embedding.
_base_ = '../simmim/vit-base-p16_simmim-pre_8xb128-coslr-100e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/maskdistill_vit-base-p16_8xb256-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
optim_wrapper = dict(optimizer=dict(lr=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0,
         end=20, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=20, end=100,
         eta_min=1e-6, convert_to_iter_based=True),
]
