# ImageNet linear probe of a SimMIM Swin-B (100-epoch pre-training at 192 px,
# window 6), our protocol (no paper value; SimMIM publishes no probe): MoCo's
# classic ResNet-50 probe as mmpretrain's configs/mocov2/benchmarks/
# resnet50_8xb32-linear-steplr-100e_in1k.py runs it (SGD lr 30 at batch 256,
# momentum 0.9, weight decay 0, 100 epochs, lr x0.1 at epochs 60 and 80,
# RandomResizedCrop(224) + flip, tested at 256 -> 224, global average
# pooling, a linear head drawn normal(0.01)), with the backbone of the Swin-B
# fine-tuning config: 224 px, window 7 (the 6x6-window relative position
# tables are resized to 7x7 on load and, frozen, never adapted). Frozen: the
# patch embedding, the four stages and the output norm (frozen_stages=3
# counts from stage 0).
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = 'mmpretrain::mocov2/benchmarks/resnet50_8xb32-linear-steplr-100e_in1k.py'  # noqa
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px/epoch_100.pth}}'  # noqa
model = dict(
    backbone=dict(
        _delete_=True,
        type='SwinTransformer',
        arch='base',
        img_size=224,
        drop_path_rate=0.,
        stage_cfgs=dict(block_cfgs=dict(window_size=7)),
        frozen_stages=3,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    head=dict(in_channels=1024))

# mmpretrain's Swin freezes its stages in train(), after the Runner has
# built the optimizer: the optimizer lists the backbone's parameters, which
# get no gradient and are never stepped (the other probes' paramwise_cfg,
# which leaves frozen parameters out, cannot see them here)
custom_hooks = [dict(type='PretrainedCheckHook')]
# lr 30 from the first step (MoCo's probe has no warm-up): the loss of the
# first iterations may jump while the head finds its scale, so the
# divergence guard judges spikes only after 50 iterations (NaN/inf at once)
default_hooks = dict(divergence=dict(min_history=50))
