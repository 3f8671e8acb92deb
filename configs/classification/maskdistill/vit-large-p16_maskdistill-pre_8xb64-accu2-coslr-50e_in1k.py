# ImageNet fine-tuning of a MaskDistill ViT-L for 50 epochs (the paper
# reports ViT-L; no official code). BEiT v2's ViT-L fine-tuning after 300
# epochs of pre-training (microsoft/unilm
# beit2/get_started_for_image_classification.md): 50 epochs, AdamW 5e-4 @
# bs 1024 (here 8 GPUs x 64 x 2 accumulated), layer decay 0.8, drop path
# 0.2, 5 warm-up epochs (run_class_finetuning.py's default), cosine to 1e-6;
# everything else as the ViT-B recipe it inherits.
_base_ = './vit-base-p16_maskdistill-pre_8xb128-coslr-100e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/maskdistill_vit-large-p16_8xb64-accu4-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(arch='large', drop_path_rate=0.2,
                  init_cfg=dict(checkpoint=pretrained)),
    head=dict(in_channels=1024))
train_dataloader = dict(batch_size=64)
optim_wrapper = dict(accumulative_counts=2,
                     paramwise_cfg=dict(layer_decay_rate=0.8))
max_epochs = 50
warmup_epochs = 5
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=warmup_epochs,
         end=max_epochs, eta_min=1e-6, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
