# A2MIM ConvNeXt-B, 300 epochs (official: Westlake-AI/openmixup
# configs/selfsup/a2mim/imagenet/convnext_b_l3_sz224_init_8xb256_cos_ep300.py):
# the ConvNeXt-T recipe with the base arch (1024 channels at stage 3).
# Fine-tuned (openmixup's convnext_b_spark_ft, "RSB A2" in its table): 84.1.
_base_ = './a2mim_convnext-tiny_8xb256-amp-coslr-300e_in1k.py'

model = dict(backbone=dict(arch='base'), neck=dict(in_channels=1024))
