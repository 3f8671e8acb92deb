# ImageNet fine-tuning of an A2MIM ViT-L for 150 epochs (86.1 top-1;
# official: Westlake-AI/openmixup configs/benchmarks/classification/imagenet/
# vit_large_p16_swin_ft_simmim_sz224_8xb64_accu2_cos_ep150.py): the ViT-S
# recipe (AdamW 1e-2 @ bs 1024, layer decay 0.65, drop path 0.1, fp16) with
# the large arch, 8 GPUs x 64 images x 2 accumulated steps = batch 1024,
# repeated augmentation and an EMA of the weights (momentum 4e-5).
_base_ = './vit-small-p16_a2mim-pre_8xb128-amp-coslr-200e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_vit-large_8xb128-accu2-step-800e_in1k/epoch_800.pth}}'  # noqa
model = dict(
    backbone=dict(arch='large', init_cfg=dict(checkpoint=pretrained)),
    head=dict(in_channels=1024))
train_dataloader = dict(
    batch_size=64, sampler=dict(type='RepeatAugSampler', shuffle=True))
optim_wrapper = dict(accumulative_counts=2)

max_epochs = 150
# the schedule of the ViT-S recipe (20 warm-up epochs, cosine to 1e-6)
param_scheduler = _base_.param_scheduler
param_scheduler[1].end = max_epochs  # the cosine
train_cfg = dict(max_epochs=max_epochs)
# openmixup's EMAHook(momentum=0.99996, warmup='linear', warmup_iters=20 *
# 2503, warmup_ratio=0.9, update_interval=2): once per optimizer step (every
# 2 data iterations of 8 x 64), the momentum warmed up over 20 epochs
custom_hooks = [
    dict(
        type='EMAHook',
        ema_type='StepEMA',
        momentum=4e-5,
        interval=2,
        warmup_iters=20 * 2503,
        priority='ABOVE_NORMAL'),
    dict(type='PretrainedCheckHook', allow_missing=[r'^ln2\.']),
]
