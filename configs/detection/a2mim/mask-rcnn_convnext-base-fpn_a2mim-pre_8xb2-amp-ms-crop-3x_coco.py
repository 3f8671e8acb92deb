# Mask R-CNN FPN 3x on COCO from an A2MIM ConvNeXt-B, our protocol (the
# A2MIM paper and repositories have no ConvNeXt detection setting): mmdet's
# ConvNeXt Mask R-CNN recipe (mmdet::convnext/
# mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py: DETR-style
# multi-scale + crop augmentation, AdamW 1e-4 @ bs 16, weight decay 0.05,
# layer-wise lr decay 0.95, 36 epochs, lr x0.1 at epochs 27 and 33, fp16)
# with the base arch (12 decay groups, as mmseg's ConvNeXt-B) and drop path
# 0.7 (ConvNeXt's detection value for B). mmpretrain's ConvNeXt loads the
# pre-training's `backbone.*` keys; the output norms of stages 0-2 are new.
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = 'mmdet::convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py'  # noqa
custom_imports = dict(
    imports=['mim_plugins', 'mim_plugins.det'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_convnext-base_8xb256-amp-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.7,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=[128, 256, 512, 1024]))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
custom_hooks = [
    dict(type='PretrainedCheckHook', allow_missing=[r'^norm[0-2]\.']),
]
