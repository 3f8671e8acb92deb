# ImageNet fine-tuning with RSB A2 of an A2MIM ResNet-200 pre-trained for 300
# epochs (paper: 83.0; official pre-training: Westlake-AI/openmixup
# configs/selfsup/a2mim/imagenet/r200_l3_sz224_init_8xb256_cos_ep300.py;
# fine-tuning: configs/benchmarks/classification/imagenet/
# r200_rsb_a2_ft_sz224_8xb256_cos_fp16_ep300.py): the ResNet-50 A2 recipe
# (LAMB 5e-3 @ bs 2048, 300 epochs at 224 px, fp16) on `DeepResNet` (mmpretrain's
# ResNet with depth 200) with drop path 0.2 and, as the official ResNet-200
# config, no EMA.
_base_ = './resnet50_a2mim-pre_8xb256-rsb-a2-300e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_resnet200_8xb256-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(
        type='DeepResNet',
        depth=200,
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint=pretrained)))
custom_hooks = [dict(type='PretrainedCheckHook')]
