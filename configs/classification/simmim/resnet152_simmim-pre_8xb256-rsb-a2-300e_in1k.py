# ImageNet fine-tuning with RSB A2 of a SimMIM ResNet-152 pre-trained for 300
# epochs (official pre-training: Westlake-AI/openmixup
# configs/selfsup/simmim/imagenet/r152_sz224_8xb256_fp16_ep300.py; fine-tuning:
# configs/benchmarks/classification/imagenet/
# r152_rsb_a2_ft_sz224_8xb256_cos_fp16_ep300.py): the A2MIM ResNet-152
# recipe (the ResNet-50 A2 recipe, LAMB 5e-3 @ bs 2048, 300 epochs at 224 px,
# fp16, with depth 152, drop path 0.15 and, as the official ResNet-152
# config, no EMA).
_base_ = '../a2mim/resnet152_a2mim-pre_8xb256-rsb-a2-300e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/simmim_resnet152_8xb256-amp-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
