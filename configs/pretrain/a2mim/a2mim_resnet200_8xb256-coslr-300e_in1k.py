# A2MIM ResNet-200, 300 epochs (official: Westlake-AI/openmixup
# configs/selfsup/a2mim/imagenet/r200_l3_sz224_init_8xb256_cos_ep300.py): the
# ResNet-50 300-epoch recipe with depth 200 (Bottleneck blocks (3, 24, 36, 3),
# which our MIMResNet adds to mmpretrain's ResNet); as the official ResNet-152
# and -200 configs, no frequency loss (weight 0, not focal). Fine-tuned with
# RSB A2 (300 epochs): 83.0.
_base_ = './a2mim_resnet50_8xb256-coslr-300e_in1k.py'

model = dict(
    backbone=dict(depth=200),
    head=dict(fft_weight=0., fft_focal=False))
