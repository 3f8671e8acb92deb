# ImageNet fine-tuning of an A2MIM ViT-S ('small': 768-d, 8 layers) for 200
# epochs (paper: 82.2 top-1; official: Westlake-AI/openmixup
# configs/benchmarks/classification/imagenet/
# vit_small_p16_swin_ft_simmim_sz224_8xb128_cos_ep200.py): AdamW 1e-2 @ bs
# 1024 (2.5e-3 x 1024 / 256), layer decay 0.65, drop path 0.1, 20 warm-up
# epochs, cosine to 1e-6, fp16, clip 5, no EMA; mmpretrain's BEiT fine-tune
# pipeline (RandAugment m9, random erasing 0.25, mixup 0.8, cutmix 1.0, label
# smoothing 0.1), mean-pooled patch tokens.
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = 'mmpretrain::beit/benchmarks/beit-base-p16_8xb128-coslr-100e_in1k.py'
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_vit-small_8xb256-step-800e_in1k/epoch_800.pth}}'  # noqa

# the normalisation of the pre-training
data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
model = dict(
    backbone=dict(
        type='BEiTViT',
        arch='small',
        use_abs_pos_emb=True,  # A2MIMViT has both kinds of position encoding
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        layer_scale_init_value=0.1,
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    head=dict(in_channels=768))

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(lr=1e-2, weight_decay=0.05, betas=(0.9, 0.999), eps=1e-8),
    clip_grad=dict(max_norm=5.0),
    # the official 'bias' regex also keeps the relative position tables
    # free of weight decay
    paramwise_cfg=dict(
        custom_keys={'relative_position_bias_table': dict(decay_mult=0.)}))

max_epochs = 200
warmup_epochs = 20
# openmixup's StepFixCosineAnnealing (by_epoch=False): the cosine starts
# after the warm-up; during it the ramp (from 0 there, 1e-6 here) multiplies
# the cosine at the negative phase
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingFactorLR', by_epoch=True, begin=0,
         end=max_epochs, phase_offset=-warmup_epochs, eta_min=1e-6,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs)
custom_hooks = [
    # the new classification norm (ln2) is the only weight not pre-trained
    dict(type='PretrainedCheckHook', allow_missing=[r'^ln2\.']),
]
