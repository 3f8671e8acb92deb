# ImageNet fine-tuning of a SimMIM ViT-L (openmixup's ViT) for 100 epochs
# (85.6 top-1, openmixup's A2MIM table; official: Westlake-AI/openmixup
# configs/benchmarks/classification/imagenet/
# vit_large_p16_swin_ft_simmim_sz224_8xb64_accu2_cos_ep100.py): the A2MIM
# ViT-L recipe (AdamW 1e-2 @ bs 1024 = 8 x 64 x 2, layer decay 0.65, drop
# path 0.1, fp16, repeated augmentation, EMA 4e-5) for 100 epochs.
_base_ = '../a2mim/vit-large-p16_a2mim-pre_8xb64-accu2-amp-coslr-150e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/simmim_vit-large-p16_8xb128-accu2-amp-step-800e_in1k/epoch_800.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))

max_epochs = 100
warmup_epochs = 20
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=warmup_epochs,
         end=max_epochs, eta_min=1e-6, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs)
