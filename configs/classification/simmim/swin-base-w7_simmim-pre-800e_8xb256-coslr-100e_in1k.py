# ImageNet fine-tuning at 224 px of a SimMIM Swin-B pre-trained for 800 epochs
# at 192 px (paper: 84.0; official: microsoft/SimMIM configs/swin_base__800ep/
# simmim_finetune__swin_base__img224_window7__800ep.yaml): the 100-epoch
# recipe with the 800-epoch layer decay, 0.8.
_base_ = './swin-base-w7_simmim-pre_8xb256-coslr-100e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/simmim_swin-base-w6_8xb256-amp-step-800e_in1k-192px/epoch_800.pth}}'  # noqa
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.8))
