# UperNet with an A2MIM ViT-B on ADE20K, 512x512, 160k iterations (paper:
# 49.0 mIoU; official: Westlake-AI/A2MIM seg_mmsegmentation/configs/ade20k/
# upernet_mae_base_8x2_512x512_160k_ade20k.py, the MAE-style recipe; the
# repository also has a BEiT-style one, upernet_beit_base_8x2_512x512_160k_
# ade20k.py, AdamW 4e-4 without fp16, and does not say which gave 49.0):
# mmpretrain's BEiTViT (4 levels from layers 4, 6, 8, 12, scaled x4, x2, x1,
# x0.5 by mmseg's Feature2Pyramid), UperNet 768 channels, AdamW 1e-4, weight
# decay 0.05, layer decay 0.65, drop path 0.1, batch 16 (8 GPUs x 2), fp16,
# 1500 warm-up iterations then poly decay (power 1), sliding-window test.
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = [
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py',
]
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_vit-base_8xb128-accu2-step-800e_in1k/epoch_800.pth}}'  # noqa
crop_size = (512, 512)
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=crop_size)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='mmpretrain.BEiTViT',
        arch='base',
        img_size=crop_size,
        patch_size=16,
        out_indices=(3, 5, 7, 11),
        out_type='featmap',
        final_norm=False,
        use_abs_pos_emb=True,  # as A2MIMViT
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        layer_scale_init_value=0.1,
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(type='Feature2Pyramid', embed_dim=768, rescales=[4, 2, 1, 0.5]),
    decode_head=dict(
        type='UPerHead',
        in_channels=[768, 768, 768, 768],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=768,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=768,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))

optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    # the groups of mmseg's LayerDecayOptimizerConstructor, which the
    # official config names: no weight decay on every 1-D parameter (norms of
    # the backbone, and the SyncBN weights and biases of the neck and heads,
    # layer scales, q/v biases) and on biases; its `name in ('pos_embed',
    # 'cls_token')` never matches the prefixed names, so the position
    # embedding, cls token and relative position tables are decayed.
    # Neck and heads at the full lr.
    constructor='BackboneLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.65, flat_decay_mult=0.0, bias_decay_mult=0.0))
# mmcv's poly schedule (lr_config policy='poly', by_epoch=False) spans all
# 160k iterations; its linear warm-up multiplies it by a ramp from 1e-6
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=1500),
    dict(type='PolyLR', power=1.0, begin=0, end=160000, eta_min=0.0,
         by_epoch=False),
]
train_dataloader = dict(batch_size=2)
val_dataloader = dict(batch_size=1)
test_dataloader = val_dataloader
custom_hooks = [dict(type='PretrainedCheckHook')]
