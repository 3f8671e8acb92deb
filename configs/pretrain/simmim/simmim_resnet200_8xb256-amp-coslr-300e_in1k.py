# SimMIM ResNet-200, 300 epochs at 224 px: the A2MIM paper's SimMIM baseline
# (official: Westlake-AI/openmixup configs/selfsup/simmim/imagenet/
# r200_sz224_8xb256_fp16_ep300.py): the ResNet-50 recipe with depth 200
# (Bottleneck blocks (3, 24, 36, 3), which our MIMResNet adds to mmpretrain's
# ResNet). Fine-tuned with RSB A2 (300 epochs): 82.2.
_base_ = './simmim_resnet50_8xb256-amp-coslr-300e_in1k.py'

model = dict(backbone=dict(depth=200))
