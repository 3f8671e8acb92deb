# The 800-epoch step schedule of the ViT pre-training (microsoft/SimMIM
# configs/vit_base__800ep/simmim_pretrain__vit_base__img224__800ep.yaml;
# Westlake-AI/openmixup configs/selfsup/a2mim/imagenet/
# vit_small_l0_sz224_8xb256_step_ep800.py): AdamW 4e-4 @ bs 2048
# (1e-4 x 2048 / 512), clip 5, 10 warm-up epochs from 2e-6
# (5e-7 x 2048 / 512), lr x0.1 at epoch 700.
_base_ = './mim_adamw.py'

optim_wrapper = dict(optimizer=dict(lr=4e-4), clip_grad=dict(max_norm=5.0))

max_epochs = 800
warmup_epochs = 10
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=5e-7 / 1e-4,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='MultiStepLR',
        # milestones count from `begin`: lr x0.1 at epoch 700
        milestones=[700 - warmup_epochs],
        gamma=0.1,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
