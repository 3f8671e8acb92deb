# A2MIM ViT-B, 800 epochs (official: Westlake-AI/openmixup
# configs/selfsup/a2mim/imagenet/vit_base_l0_sz224_8xb128_accu2_step_ep800.py):
# the ViT-S recipe with the base arch; 8 GPUs x 128 images x 2 accumulated
# steps = batch 2048.
_base_ = './a2mim_vit-small_8xb256-step-800e_in1k.py'

model = dict(backbone=dict(arch='base'))
train_dataloader = dict(batch_size=128)
optim_wrapper = dict(accumulative_counts=2)
