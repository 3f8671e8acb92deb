# A2MIM Swin-B (window 6), 100 epochs on ImageNet-1k at 192 px. openmixup
# defines the A2MIM Swin models (Westlake-AI/openmixup
# configs/selfsup/_base_/models/a2mim/swin_base.py: the token added to the
# patch embeddings, mask_layer 0, drop path 0, L1 + 0.5 x focal frequency
# loss, unmasked pixels out of it) but ships no ImageNet schedule or number
# for them; the schedule here is its SimMIM Swin-B one
# (configs/selfsup/simmim/imagenet/swin_base_sz192_8xb128_accu2_cos_ep100.py:
# AdamW 8e-4 @ bs 2048 = 8 x 128 x 2, weight decay 0.05, clip 5, 10 warm-up
# epochs, cosine to 4e-5, fp32, RandomResizedCrop(192, 0.67-1.0) + flip,
# 32-px blocks at 0.6 on the stride-4 grid). As A2MIM, the masked pixels of
# the normalised image are filled with its mean (openmixup pairs this model
# with its SimMIM algorithm, which leaves them). No weight decay on norms,
# biases, the mask token, position tables.
_base_ = [
    '../../_base_/datasets/imagenet_mim.py',
    '../../_base_/schedules/mim_adamw.py',
    '../../_base_/pretrain_runtime.py',
]
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)

img_size = 192
train_pipeline = _base_.train_pipeline
train_pipeline[1].scale = img_size  # RandomResizedCrop
# the mask generator: the 32-px blocks on the stride-4 grid
train_pipeline[3].update(input_size=img_size, model_patch_size=4)
train_dataloader = dict(batch_size=128, dataset=dict(pipeline=train_pipeline))

model = dict(
    type='A2MIM',
    backbone=dict(
        type='A2MIMSwin',
        arch='base',
        img_size=img_size,
        drop_rate=0.,
        drop_path_rate=0.,
        stage_cfgs=dict(block_cfgs=dict(window_size=6)),
        mask_layer=0,
        mask_token='learnable',
        replace=False,
        # openmixup's SimMIMSwinTransformer._init_weights
        init_cfg=[
            dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.),
            dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
        ]),
    # openmixup's NonLinearMIMNeck.init_weights: trunc-normal(0.02), bias 0
    neck=dict(type='MIMLinearDecoder', in_channels=1024, encoder_stride=32),
    head=dict(
        type='A2MIMHead',
        loss=dict(
            type='RegressionLoss',
            mode='l1_loss',
            loss_weight=1.0,
            reduction='none'),
        unmask_weight=0.,
        fft_weight=0.5,
        fft_focal=True,
        fft_unmask_weight=0.,
        fft_unmask_replace='mixed',
        fft_reweight=False,
        encoder_in_channels=3))

optim_wrapper = dict(
    accumulative_counts=2,
    optimizer=dict(lr=8e-4),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(
        custom_keys={
            'mask_token': dict(decay_mult=0.),
            'absolute_pos_embed': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
        }))

max_epochs = 100
warmup_epochs = 10
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=4e-6,  # openmixup's warmup_ratio 1e-6 * 2048 / 512
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    # mmcv's CosineAnnealing (by_epoch=False): one cosine over the whole
    # run, per iteration, multiplied by the warm-up ramp during the warm-up
    dict(
        type='CosineAnnealingFactorLR',
        T_max=max_epochs,
        eta_min=4e-5,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
