# A2MIM ResNet-101, 300 epochs (official: Westlake-AI/openmixup
# configs/selfsup/a2mim/imagenet/r101_l3_sz224_init_8xb256_cos_ep300.py): the
# ResNet-50 300-epoch recipe with depth 101; the official config weights the
# frequency loss by 0.1 and without its focal term. Fine-tuned with RSB A2
# (300 epochs).
_base_ = './a2mim_resnet50_8xb256-coslr-300e_in1k.py'

model = dict(
    backbone=dict(depth=101),
    head=dict(fft_weight=0.1, fft_focal=False))
