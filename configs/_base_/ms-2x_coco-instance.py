# COCO instance segmentation with multi-scale training for 24 epochs, the
# A2MIM R50 detection data and schedule (Westlake-AI/A2MIM
# det_mmdetection/configs/coco/mask-rcnn_r50-c4_ms-2x_coco.py and
# mask-rcnn_r50_fpn_ms-2x_coco.py): shorter side 640-800 + flip; mmdet's 2x
# schedule (SGD 0.02 @ bs 16) with 1000 warm-up iterations and lr x0.1 at
# epochs 16 and 23.
_base_ = [
    'mmdet::_base_/datasets/coco_instance.py',
    'mmdet::_base_/schedules/schedule_2x.py',
]

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='RandomChoiceResize',
        scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736),
                (1333, 768), (1333, 800)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=1000),
    dict(
        type='MultiStepLR',
        begin=0,
        end=24,
        by_epoch=True,
        milestones=[16, 23],
        gamma=0.1),
]
