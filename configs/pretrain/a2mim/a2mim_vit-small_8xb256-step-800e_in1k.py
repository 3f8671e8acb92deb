# A2MIM ViT-S, 800 epochs on ImageNet-1k at 224 px (paper; official:
# Westlake-AI/openmixup configs/selfsup/a2mim/imagenet/
# vit_small_l0_sz224_8xb256_step_ep800.py). 'small' is mmpretrain's 768-d,
# 8-layer, 8-head ViT (FFN 2304), with relative position bias per layer and
# layer scale 0.1. AdamW 4e-4 @ bs 2048, clip 5.0, 10-epoch warmup, lr x0.1
# at epoch 700, fp32; RandomResizedCrop(224, 0.67-1.0), bilinear, + flip. No
# weight decay on norms, biases (q/v biases and relative position tables
# included: the official regex 'bias' matches them), position embedding, cls
# and mask tokens, layer scales.
_base_ = [
    '../../_base_/datasets/imagenet_mim.py',
    '../../_base_/schedules/mim_adamw_step-800e.py',
    '../../_base_/pretrain_runtime.py',
]
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)

model = dict(
    type='A2MIM',
    backbone=dict(
        type='A2MIMViT',
        arch='small',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        use_abs_pos_emb=True,
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        out_type='featmap',
        final_norm=True,
        mask_layer=0,
        mask_token='learnable',
        replace=False),
    # openmixup's NonLinearMIMNeck.init_weights: trunc-normal(0.02), bias 0
    neck=dict(type='MIMLinearDecoder', in_channels=768, encoder_stride=16),
    head=dict(
        type='A2MIMHead',
        loss=dict(
            type='RegressionLoss',
            mode='l1_loss',
            loss_weight=1.0,
            reduction='none'),
        unmask_weight=0.,
        fft_weight=0.1,
        fft_focal=True,
        fft_unmask_weight=0.,
        fft_unmask_replace='mixed',
        fft_reweight=False,
        encoder_in_channels=3))

optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            'mask_token': dict(decay_mult=0.),
            'pos_embed': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.),
            'gamma': dict(decay_mult=0.),
            'q_bias': dict(decay_mult=0.),
            'v_bias': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
        }))

# the warm-up of openmixup's lr_config: warmup_ratio=5e-7 * 2048 / 512 is a
# ratio of the lr in mmcv (the ramp starts at 2e-6 x 4e-4), not microsoft's
# absolute 2e-6 that the shared schedule starts from
param_scheduler = _base_.param_scheduler
param_scheduler[0].start_factor = 2e-6
