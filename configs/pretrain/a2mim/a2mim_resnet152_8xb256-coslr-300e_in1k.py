# A2MIM ResNet-152, 300 epochs (official: Westlake-AI/openmixup
# configs/selfsup/a2mim/imagenet/r152_l3_sz224_init_8xb256_cos_ep300.py): the
# ResNet-50 300-epoch recipe with depth 152; the official config weights the
# frequency loss by 0. and without its focal term. Fine-tuned with RSB A2
# (300 epochs).
_base_ = './a2mim_resnet50_8xb256-coslr-300e_in1k.py'

model = dict(
    backbone=dict(depth=152),
    head=dict(fft_weight=0., fft_focal=False))
