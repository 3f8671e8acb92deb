# ImageNet fine-tuning with RSB A2 of a SimMIM ResNet-200 pre-trained for 300
# epochs (paper: 82.2; official pre-training: Westlake-AI/openmixup
# configs/selfsup/simmim/imagenet/r200_sz224_8xb256_fp16_ep300.py;
# fine-tuning: configs/benchmarks/classification/imagenet/
# r200_rsb_a2_ft_sz224_8xb256_cos_fp16_ep300.py): the A2MIM ResNet-200 recipe.
_base_ = '../a2mim/resnet200_a2mim-pre_8xb256-rsb-a2-300e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/simmim_resnet200_8xb256-amp-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
