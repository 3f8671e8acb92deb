# SimMIM ViT-L/16, 800 epochs at 224 px: the A2MIM paper's SimMIM baseline
# (official: Westlake-AI/openmixup configs/selfsup/simmim/imagenet/
# vit_large_sz224_8xb128_accu2_step_fp16_ep800.py): the ViT-S recipe with
# the large arch (1024-d, 24 layers), 8 GPUs x 128 images x 2 accumulated
# steps = batch 2048, fp16. Fine-tuned: 85.6.
_base_ = './simmim_vit-small-p16_8xb256-amp-step-800e_in1k.py'

model = dict(
    backbone=dict(arch='large'),
    neck=dict(in_channels=1024))
train_dataloader = dict(batch_size=128)
optim_wrapper = dict(accumulative_counts=2)
