# SimMIM ConvNeXt-B, 300 epochs (official: Westlake-AI/openmixup
# configs/selfsup/simmim/imagenet/convnext_base_sz224_8xb256_fp16_ep300.py,
# 4 GPUs x 256 x 2 accumulation: the same batch 2048 as 8 x 256 here): the
# ConvNeXt-S recipe with the base arch. Fine-tuned: 83.6.
_base_ = './simmim_convnext-small_8xb256-amp-coslr-300e_in1k.py'

model = dict(backbone=dict(arch='base'), neck=dict(in_channels=1024))
