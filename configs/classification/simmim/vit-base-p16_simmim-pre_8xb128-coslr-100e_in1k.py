# ImageNet fine-tuning of a SimMIM ViT-B for 100 epochs, the official recipe
# (paper: 83.8 top-1; official: microsoft/SimMIM configs/vit_base__800ep/
# simmim_finetune__vit_base__img224__800ep.yaml): relative position bias per
# layer (the pre-trained shared bias is copied into every layer), no
# absolute position embedding, mean pooling, AdamW 2.5e-3 @ bs 1024
# (1.25e-3 x 1024 / 512), layer decay 0.65, drop path 0.1, 20 warm-up epochs
# from 5e-7, cosine to 5e-7, clip 5, AMP, no EMA; timm's augmentation
# (RandAugment m9, random erasing 0.25, mixup 0.8, cutmix 1.0, label
# smoothing 0.1) in mmpretrain's BEiT pipeline.
_base_ = '../a2mim/vit-small-p16_a2mim-pre_8xb128-amp-coslr-200e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/simmim_vit-base-p16_8xb128-accu2-step-800e_in1k/epoch_800.pth}}'  # noqa
model = dict(
    backbone=dict(
        arch='base',
        use_abs_pos_emb=False,
        init_cfg=dict(checkpoint=pretrained)))
optim_wrapper = dict(optimizer=dict(lr=2.5e-3))  # AMP, as officially
max_epochs = 100
warmup_epochs = 20
# timm's CosineLRScheduler (microsoft/SimMIM lr_scheduler.py): a linear ramp
# from 5e-7 to 2.5e-3 over 20 epochs, then the cosine of the *whole* 100
# epochs (to 5e-7), entered at its phase at epoch 20
param_scheduler = [
    dict(type='LinearLR', start_factor=5e-7 / 2.5e-3, by_epoch=True,
         begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingFactorLR', by_epoch=True, begin=warmup_epochs,
         end=max_epochs, phase_offset=warmup_epochs, eta_min=5e-7,
         convert_to_iter_based=True),
]
# the official loader drops the last partial batch (data/data_finetune.py)
train_dataloader = dict(drop_last=True)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs)
