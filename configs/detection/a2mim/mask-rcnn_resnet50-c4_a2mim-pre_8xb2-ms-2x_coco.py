# Mask R-CNN R50-C4 2x with multi-scale training on COCO from an A2MIM
# ResNet-50, the paper's R50 detection setting (39.8 box AP / 34.9 mask AP;
# official: Westlake-AI/A2MIM det_mmdetection/configs/coco/
# mask-rcnn_r50-c4_ms-2x_coco.py): stages 1-3 as the backbone and stage 4 as
# the RoI head followed by an extra SyncBN (ResLayerExtraNorm, as the
# official det_mmdetection/res_layer_extra_norm.py; mmpretrain registers it
# in mmdet), both loaded from the same checkpoint (the extra norm is new);
# SyncBN, every stage trainable, pytorch-style ResNet and the ImageNet
# normalisation of the pre-training; shorter side 640-800; SGD 0.02 @ bs 16,
# 1000 warm-up iterations, lr x0.1 at epochs 16 and 23 of 24.
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
#   model.roi_head.shared_head.init_cfg.checkpoint=path
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50-caffe-c4.py',
    '../../_base_/ms-2x_coco-instance.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(
    imports=['mim_plugins', 'mim_plugins.det'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_resnet50_8xb256-coslr-300e_in1k/epoch_300.pth}}'  # noqa
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        style='pytorch',
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    roi_head=dict(
        shared_head=dict(
            type='ResLayerExtraNorm',
            style='pytorch',
            norm_cfg=norm_cfg,
            norm_eval=False,
            init_cfg=dict(
                type='Pretrained', checkpoint=pretrained,
                prefix='backbone.'))))

# the extra norm after stage 4 is the only new weight of the RoI head
custom_hooks = [dict(type='PretrainedCheckHook', allow_missing=[r'^norm\.'])]
