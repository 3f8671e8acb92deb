# ImageNet fine-tuning of an A2MIM ViT-B for 100 epochs (paper: 84.2 top-1;
# official: Westlake-AI/openmixup configs/benchmarks/classification/imagenet/
# vit_base_p16_swin_ft_simmim_sz224_4xb128_accu2_cos_ep100.py): the ViT-S
# recipe (AdamW 1e-2 @ bs 1024, layer decay 0.65, drop path 0.1, fp16) with
# the base arch, 100 epochs and an EMA of the weights (momentum 4e-5).
_base_ = './vit-small-p16_a2mim-pre_8xb128-amp-coslr-200e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_vit-base_8xb128-accu2-step-800e_in1k/epoch_800.pth}}'  # noqa
model = dict(
    backbone=dict(arch='base', init_cfg=dict(checkpoint=pretrained)))

max_epochs = 100
# the schedule of the ViT-S recipe (20 warm-up epochs, cosine to 1e-6)
param_scheduler = _base_.param_scheduler
param_scheduler[1].end = max_epochs  # the cosine
train_cfg = dict(max_epochs=max_epochs)
# evaluate an exponential moving average of the weights: openmixup's
# EMAHook(momentum=0.99996, warmup='linear', warmup_iters=20 * 2503,
# warmup_ratio=0.9, update_interval=2), once per optimizer step (every
# iteration here: 8 x 128 without accumulation), the momentum warmed up
# over 20 epochs (1252 iterations each at batch 1024)
custom_hooks = [
    dict(
        type='EMAHook',
        ema_type='StepEMA',
        momentum=4e-5,
        warmup_iters=20 * 1252,
        priority='ABOVE_NORMAL'),
    dict(type='PretrainedCheckHook', allow_missing=[r'^ln2\.']),
]
