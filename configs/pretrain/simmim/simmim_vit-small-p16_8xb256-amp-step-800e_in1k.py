# SimMIM ViT-S/16, 800 epochs at 224 px: the A2MIM paper's SimMIM baseline
# (official: Westlake-AI/openmixup configs/selfsup/simmim/imagenet/
# vit_small_sz224_8xb256_step_fp16_ep800.py). The openmixup ViT of the A2MIM
# table: mmpretrain's 'small' arch (768-d, 8 layers) with absolute position
# embedding and relative position bias per layer, layer scale 0.1, drop path
# 0.1; the mask token replaces the masked patch embeddings; AdamW 4e-4 @ bs
# 2048, clip 5, 10 warm-up epochs from 2e-6, lr x0.1 at epoch 700, fp16; no
# weight decay on norms, biases, tokens, position embedding, layer scales
# and relative position tables. Fine-tuned: 81.7.
_base_ = './simmim_vit-base-p16_8xb128-accu2-step-800e_in1k.py'

model = dict(
    backbone=dict(
        arch='small',
        use_abs_pos_emb=True,
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        init_style='openmixup'),  # openmixup's ViT, not microsoft's
    # openmixup's SimMIMNeck.init_weights: trunc-normal(0.02), bias 0
    neck=dict(type='MIMLinearDecoder'))
train_dataloader = dict(batch_size=256, drop_last=False)  # openmixup's
# the warm-up of openmixup's lr_config: warmup_ratio=5e-7 * 2048 / 512 is a
# ratio of the lr in mmcv (the ramp starts at 2e-6 x 4e-4), not microsoft's
# absolute 2e-6
param_scheduler = _base_.param_scheduler
param_scheduler[0].start_factor = 2e-6
optim_wrapper = dict(
    accumulative_counts=1,
    paramwise_cfg=dict(custom_keys={'pos_embed': dict(decay_mult=0.)}))
