# ImageNet fine-tuning with RSB A3 of the A2MIM ResNet-50 pre-trained for 100
# epochs (paper: 78.8 top-1; official: Westlake-AI/openmixup
# configs/benchmarks/classification/imagenet/
# r50_rsb_a3_ft_sz160_4xb512_cos_fp16_ep100.py from
# configs/selfsup/a2mim/imagenet/r50_l3_sz224_init_8xb256_cos_ep100.py): the
# RSB A3 recipe of the 300-epoch row (160 px, tested at 236 -> 224, fp16).
_base_ = './resnet50_a2mim-pre_8xb256-rsb-a3-100e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_resnet50_8xb256-coslr-100e_in1k/epoch_100.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
