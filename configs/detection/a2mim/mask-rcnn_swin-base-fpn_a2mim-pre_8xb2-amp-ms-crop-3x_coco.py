# Mask R-CNN FPN 3x on COCO from an A2MIM Swin-B, our protocol (no Swin
# detection setting in the A2MIM paper or repositories): mmdet's Swin Mask
# R-CNN recipe (mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_amp-ms-crop-3x_coco.py:
# DETR-style multi-scale + crop augmentation, AdamW 1e-4 @ bs 16, weight
# decay 0.05 without decay on norms and position tables, 36 epochs, lr x0.1
# at epochs 27 and 33, fp16) with Swin-B (window 7, drop path 0.3). The
# backbone is mmpretrain's SwinTransformer (same keys as mmdet's, which loads
# checkpoints in its own init_weights and ignores `prefix`), padding windows
# for any input size; the 6x6-window relative position tables of the
# pre-training are resized to 7x7 on load; the output norms of stages 0-2
# are new.
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = 'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_amp-ms-crop-3x_coco.py'
custom_imports = dict(
    imports=['mim_plugins', 'mim_plugins.det'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_swin-base-w6_8xb128-accu2-coslr-100e_in1k-192px/epoch_100.pth}}'  # noqa
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.SwinTransformer',
        arch='base',
        img_size=224,
        window_size=7,
        drop_path_rate=0.3,
        out_indices=(0, 1, 2, 3),
        pad_small_map=True,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=[128, 256, 512, 1024]))
custom_hooks = [
    dict(type='PretrainedCheckHook', allow_missing=[r'^norm[0-2]\.']),
]
