# Mask R-CNN 1x with a ViT-B + FPN on COCO from an A2MIM ViT-B, the paper's
# ViT detection protocol (49.4 box AP / 43.5 mask AP; official:
# Westlake-AI/A2MIM det_mmdetection/configs/coco/
# mask-rcnn_vit_base_giou_4conv1f_1x_coco.py, the CAE/BEiT protocol of
# lxtGH/CAE downstream_tasks/detection): the ViT's layers 4, 6, 8 and 12 made
# strides 4, 8, 16 and 32 by deconvolutions / identity / max-pool (as CAE's
# and BEiT's detection backbones) feeding mmdet's FPN; a 4conv1fc box head
# with SyncBN and GIoU loss (weight 10); DETR-style multi-scale and crop
# augmentation; AdamW 3e-4 @ bs 16, weight decay 0.05 (none on norms,
# biases, position embedding and relative position tables), drop path 0.2,
# 500 warm-up iterations, lr x0.1 at epochs 9 and 11 of 12.
#
# The ViT is mmpretrain's BEiTViT (the pre-training's keys: absolute position
# embedding, relative position bias per layer, layer scale) built at 224 px
# so that every weight loads as pre-trained; AnySizeBEiTViT resizes the
# position embedding and each layer's bias table to every input's grid.
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/coco_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(
    imports=['mim_plugins', 'mim_plugins.det'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_vit-base_8xb128-accu2-step-800e_in1k/epoch_800.pth}}'  # noqa
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        _delete_=True,
        type='AnySizeBEiTViT',
        arch='base',
        img_size=224,
        patch_size=16,
        out_indices=(3, 5, 7, 11),
        out_type='featmap',
        final_norm=True,
        use_abs_pos_emb=True,  # as A2MIMViT
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        layer_scale_init_value=0.1,
        drop_path_rate=0.2,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=[
        dict(
            type='ViTFeaturePyramid',
            embed_dims=768,
            rescales=(4, 2, 1, 0.5),
            norm_cfg=norm_cfg),
        dict(
            type='FPN',
            in_channels=[768, 768, 768, 768],
            out_channels=256,
            num_outs=5),
    ],
    roi_head=dict(
        bbox_head=dict(
            type='Shared4Conv1FCBBoxHead',
            conv_out_channels=256,
            norm_cfg=norm_cfg,
            reg_decoded_bbox=True,
            loss_bbox=dict(type='GIoULoss', loss_weight=10.0))),
    # the official base keeps 2000 proposals per image in training
    train_cfg=dict(rpn_proposal=dict(max_per_img=2000)))

# augmentation from DETR / Sparse R-CNN, as the official config
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomChoice',
        transforms=[
            [
                dict(
                    type='RandomChoiceResize',
                    scales=[(1333, 480), (1333, 512), (1333, 544),
                            (1333, 576), (1333, 608), (1333, 640),
                            (1333, 672), (1333, 704), (1333, 736),
                            (1333, 768), (1333, 800)],
                    keep_ratio=True)
            ],
            [
                dict(
                    type='RandomChoiceResize',
                    scales=[(1333, 400), (1333, 500), (1333, 600)],
                    keep_ratio=True),
                dict(
                    type='RandomCrop',
                    crop_type='absolute_range',
                    crop_size=(384, 600),
                    allow_negative_crop=True),
                dict(
                    type='RandomChoiceResize',
                    scales=[(1333, 480), (1333, 512), (1333, 544),
                            (1333, 576), (1333, 608), (1333, 640),
                            (1333, 672), (1333, 704), (1333, 736),
                            (1333, 768), (1333, 800)],
                    keep_ratio=True)
            ],
        ]),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        bias_decay_mult=0.,
        custom_keys={
            'bias': dict(decay_mult=0.),
            'pos_embed': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
            'norm': dict(decay_mult=0.),
        }))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=12,
        by_epoch=True,
        milestones=[9, 11],
        gamma=0.1),
]
custom_hooks = [dict(type='PretrainedCheckHook')]
