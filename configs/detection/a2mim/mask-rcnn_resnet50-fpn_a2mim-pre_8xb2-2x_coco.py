# Mask R-CNN R50-FPN 2x on COCO from an A2MIM ResNet-50: mmdet's 2x recipe
# (SGD 0.02 @ bs 16, 24 epochs) with SyncBN and every stage trainable, as
# MIM backbones need (their BN statistics are not those of the detector's
# data). The paper's R50 number is for the C4 setting (see the C4 config).
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_2x_coco.py'
custom_imports = dict(
    imports=['mim_plugins', 'mim_plugins.det'], allow_failed_imports=False)

pretrained = '{{$PRETRAINED:work_dirs/a2mim_resnet50_8xb256-coslr-300e_in1k/epoch_300.pth}}'  # noqa
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
custom_hooks = [dict(type='PretrainedCheckHook')]
