# MaskDistill ViT-B/16, 300 epochs on ImageNet-1k at 224 px (Peng et al.,
# "A Unified View of Masked Image Modeling"): a frozen CLIP ViT-B/16 teacher,
# LayerNorm-normalised targets, a dense ViT-B student with shared relative
# position bias and layer scale 0.1, block-wise masks on 40% of the patches
# (75 of 196, BEiT's convention), a linear head and Smooth-L1 on the masked
# patches. AdamW 1.5e-3 @ bs 2048, betas (0.9, 0.98), clip 3.0, 10 warm-up
# epochs then cosine. Augmentation as BEiT v2 (same authors), one view.
#
# The teacher weights: convert OpenAI's ViT-B-16.pt (or open_clip's) once
#   python tools/model_converters/clip_to_mim_plugins.py ViT-B-16.pt \
#       checkpoints/clip_vit-base-p16_openai.pth
# and point teacher_checkpoint at the result, e.g. with
#   --cfg-options model.target_generator.checkpoint=PATH
_base_ = [
    '../../_base_/datasets/imagenet_mim.py',
    '../../_base_/schedules/mim_adamw.py',
    '../../_base_/pretrain_runtime.py',
]
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)

teacher_checkpoint = 'checkpoints/clip_vit-base-p16_openai.pth'
img_size = 224
patch_size = 16
grid = img_size // patch_size
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
         hue=0.),
    dict(type='RandomFlip', prob=0.5),
    # BEiT v2's crop on PIL images: PIL's antialiased bicubic resize
    dict(type='RandomResizedCrop', scale=img_size, crop_ratio_range=(0.2, 1.0),
         interpolation='bicubic', backend='pillow'),
    dict(
        type='BEiTv2MaskGenerator',
        input_size=(grid, grid),
        num_masking_patches=75,
        max_num_patches=75,
        min_num_patches=16),
    dict(type='PackInputs'),
]
# BEiT v2's loader drops the last partial batch
train_dataloader = dict(drop_last=True, dataset=dict(pipeline=train_pipeline))

model = dict(
    type='MaskDistill',
    backbone=dict(
        type='MaskDistillViT',
        arch='base',
        img_size=img_size,
        patch_size=patch_size,
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        out_type='featmap',
        final_norm=True),
    target_generator=dict(
        type='CLIPViTTeacher',
        arch='b',
        img_size=img_size,
        patch_size=patch_size,
        out_channels=512,
        output='projection',
        checkpoint=teacher_checkpoint),
    head=dict(
        type='MaskDistillHead', in_channels=768, out_channels=512, beta=2.0))

optim_wrapper = dict(
    optimizer=dict(lr=1.5e-3, betas=(0.9, 0.98)),
    clip_grad=dict(max_norm=3.0),
    paramwise_cfg=dict(
        custom_keys={
            'mask_token': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
            'gamma': dict(decay_mult=0.),
        }))

max_epochs = 300
warmup_epochs = 10
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - warmup_epochs,
        eta_min=1e-5,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
