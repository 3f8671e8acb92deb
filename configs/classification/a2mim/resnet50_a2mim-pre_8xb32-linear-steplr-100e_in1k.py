# ImageNet linear probe of an A2MIM ResNet-50 (300-epoch pre-training), our
# protocol (no paper value): the classic ResNet-50 probe of MoCo, as
# mmpretrain's configs/mocov2/benchmarks/resnet50_8xb32-linear-steplr-100e_in1k
# .py and Westlake-AI/openmixup's configs/benchmarks/classification/imagenet/
# r50_linear_sz224_4xb64_step_ep100.py run it: the whole backbone frozen (the
# stem and all four stages, BatchNorm in eval mode, so its running statistics
# stay the pre-trained ones), global average pooling, a linear head drawn
# normal(0.01); SGD lr 30 at batch 256, momentum 0.9, weight decay 0, 100
# epochs, lr x0.1 at epochs 60 and 80; RandomResizedCrop(224) + flip, tested
# at 256 -> 224. mmpretrain's bilinear resizing is kept (openmixup's base
# resizes bicubically; MoCo's main_lincls.py, bilinearly).
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = 'mmpretrain::mocov2/benchmarks/resnet50_8xb32-linear-steplr-100e_in1k.py'  # noqa
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_resnet50_8xb256-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(
        frozen_stages=4,
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

# any paramwise_cfg makes mmengine's constructor leave the frozen
# (requires_grad=False) backbone out of the optimizer: it holds the head
# alone, as MoCo's main_lincls.py hands SGD only the fc's weight and bias
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=1.)}))

custom_hooks = [dict(type='PretrainedCheckHook')]
# lr 30 from the first step (MoCo's probe has no warm-up): the loss of the
# first iterations may jump while the head finds its scale, so the
# divergence guard judges spikes only after 50 iterations (NaN/inf at once)
default_hooks = dict(divergence=dict(min_history=50))
