# Mask R-CNN R50-FPN 2x with multi-scale training on COCO from an A2MIM
# ResNet-50 (official: Westlake-AI/A2MIM det_mmdetection/configs/coco/
# mask-rcnn_r50_fpn_ms-2x_coco.py; the paper's R50 number is for the C4
# setting): mmdet's 2x recipe (SGD 0.02 @ bs 16) with SyncBN in the backbone,
# the FPN and the heads, every stage trainable, a 4conv1fc box head,
# shorter side 640-800, 1000 warm-up iterations, lr x0.1 at epochs 16 and 23.
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
# the bases of mmdet::mask_rcnn/mask-rcnn_r50_fpn_2x_coco.py, with the
# multi-scale data and the schedule of the A2MIM R50 detection configs
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
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
    backbone=dict(
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))

custom_hooks = [dict(type='PretrainedCheckHook')]
