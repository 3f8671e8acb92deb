# ImageNet fine-tuning of a SimMIM ViT-S (openmixup's ViT: 'small' arch,
# absolute position embedding and relative position bias per layer) for 100
# epochs (81.7 top-1, openmixup's A2MIM table; official: Westlake-AI/openmixup
# configs/benchmarks/classification/imagenet/
# vit_small_p16_swin_ft_simmim_sz224_8xb128_cos_ep100.py): the A2MIM ViT-S
# recipe (AdamW 1e-2 @ bs 1024, layer decay 0.65, drop path 0.1, fp16, no
# EMA) for 100 epochs.
_base_ = '../a2mim/vit-small-p16_a2mim-pre_8xb128-amp-coslr-200e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/simmim_vit-small-p16_8xb256-amp-step-800e_in1k/epoch_800.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))

max_epochs = 100
# the schedule of the ViT-S recipe (20 warm-up epochs, cosine to 1e-6)
param_scheduler = _base_.param_scheduler
param_scheduler[1].end = max_epochs  # the cosine
train_cfg = dict(max_epochs=max_epochs)
