# ImageNet linear probe of an A2MIM ConvNeXt-B (300-epoch pre-training), our
# protocol (no paper value; no official MIM probe exists for ConvNeXt): the
# ResNet-50 probe of this folder (MoCo's classic protocol, SGD lr 30 at batch
# 256, 100 epochs, steps at 60 and 80, RandomResizedCrop(224) + flip) with
# mmpretrain's ConvNeXt-B, as the fine-tuning config builds it: the global
# average pooling inside the backbone, before its output LayerNorm (so no
# pooling neck), then the linear head. Frozen: the four downsampling layers
# and stages (frozen_stages=4) and every LayerNorm, the output norm included
# (requires_grad=False in norm_cfg: frozen_stages leaves that norm
# trainable).
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = './resnet50_a2mim-pre_8xb32-linear-steplr-100e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_convnext-base_8xb256-amp-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(
        _delete_=True,
        type='ConvNeXt',
        arch='base',
        drop_path_rate=0.,
        frozen_stages=4,
        norm_cfg=dict(type='LN2d', eps=1e-6, requires_grad=False),
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=None,
    head=dict(in_channels=1024))
