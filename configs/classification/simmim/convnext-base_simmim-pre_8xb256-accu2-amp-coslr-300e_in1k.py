# ImageNet fine-tuning of a SimMIM ConvNeXt-B (the A2MIM paper's baseline,
# 83.6 top-1; official: Westlake-AI/openmixup configs/benchmarks/
# classification/imagenet/convnext_b_spark_ft_sz224_8xb256_cos_fp16_ep300.py):
# the A2MIM ConvNeXt-B recipe.
_base_ = '../a2mim/convnext-base_a2mim-pre_8xb256-accu2-amp-coslr-300e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/simmim_convnext-base_8xb256-amp-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
