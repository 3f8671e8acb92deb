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
# the schedule of the ViT-S recipe (20 warm-up epochs, cosine to 1e-6)
param_scheduler = _base_.param_scheduler
param_scheduler[1].end = max_epochs  # the cosine
train_cfg = dict(max_epochs=max_epochs)
