# A2MIM ConvNeXt-S, 300 epochs (official: Westlake-AI/openmixup
# configs/selfsup/a2mim/imagenet/convnext_s_l3_sz224_init_8xb256_cos_ep300.py):
# the ConvNeXt-T recipe with the small arch. Fine-tuned (openmixup's
# convnext_s_spark_ft, "RSB A2" in its table): 83.7.
_base_ = './a2mim_convnext-tiny_8xb256-amp-coslr-300e_in1k.py'

model = dict(backbone=dict(arch='small'))
