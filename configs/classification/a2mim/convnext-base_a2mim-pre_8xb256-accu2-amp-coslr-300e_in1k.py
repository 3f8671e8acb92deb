# ImageNet fine-tuning of an A2MIM ConvNeXt-B pre-trained for 300 epochs
# (paper: 84.1 top-1; official: Westlake-AI/openmixup
# configs/benchmarks/classification/imagenet/
# convnext_b_spark_ft_sz224_8xb256_cos_fp16_ep300.py): the ConvNeXt-S recipe
# with the base arch and drop path 0.5.
_base_ = './convnext-small_a2mim-pre_8xb256-accu2-amp-coslr-300e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_convnext-base_8xb256-amp-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(
        arch='base', drop_path_rate=0.5,
        init_cfg=dict(checkpoint=pretrained)),
    head=dict(in_channels=1024))
