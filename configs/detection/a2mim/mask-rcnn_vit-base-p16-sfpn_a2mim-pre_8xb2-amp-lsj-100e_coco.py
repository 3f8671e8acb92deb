# Mask R-CNN with an A2MIM ViT-B and a simple feature pyramid (ViTDet) on
# COCO, our protocol (not the paper's: that is
# mask-rcnn_vit-base-p16-fpn_a2mim-pre_8xb2-1x_coco.py): mmpretrain's BEiTViT
# at 1024 px (global attention, relative position bias resized on load), our
# SimpleFPN, 4conv1fc box head, LN in the heads, large-scale jitter, 100
# epochs (25 x RepeatDataset 4), weight decay 0.1, layer decay 0.7, drop path
# 0.1, fp16 (ViTDet's recipe). ViTDet's AdamW lr 1e-4 is for batch 64; at the
# batch 16 of this config (8 GPUs x 2) it is 2.5e-5 (linear scaling).
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::common/lsj-100e_coco-instance.py',
]
custom_imports = dict(
    imports=['mim_plugins', 'mim_plugins.det'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_vit-base_8xb128-accu2-step-800e_in1k/epoch_800.pth}}'  # noqa
image_size = (1024, 1024)
# ViTDet's LayerNorm (eps 1e-6)
norm_cfg = dict(type='mmpretrain.LN2d', eps=1e-6, requires_grad=True)
batch_augments = [
    dict(type='BatchFixedSizePad', size=image_size, pad_mask=True)
]
model = dict(
    data_preprocessor=dict(pad_size_divisor=32, batch_augments=batch_augments),
    backbone=dict(
        _delete_=True,
        type='mmpretrain.BEiTViT',
        arch='base',
        img_size=image_size,
        patch_size=16,
        out_indices=(11, ),
        out_type='featmap',
        final_norm=False,
        use_abs_pos_emb=True,  # as A2MIMViT
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        layer_scale_init_value=0.1,
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(
        _delete_=True,
        type='SimpleFPN',
        backbone_channel=768,
        in_channels=[192, 384, 768, 768],
        out_channels=256,
        num_outs=5,
        norm_cfg=norm_cfg),
    rpn_head=dict(num_convs=2),
    roi_head=dict(
        bbox_head=dict(
            type='Shared4Conv1FCBBoxHead',
            conv_out_channels=256,
            norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))

optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    constructor='BackboneLayerDecayOptimWrapperConstructor',
    optimizer=dict(
        type='AdamW', lr=2.5e-5, betas=(0.9, 0.999), weight_decay=0.1),
    paramwise_cfg=dict(
        layer_decay_rate=0.7,
        custom_keys={
            '.ln': dict(decay_mult=0.0),
            '.bias': dict(decay_mult=0.0),
            'q_bias': dict(decay_mult=0.0),
            'v_bias': dict(decay_mult=0.0),
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0),
            '.gamma': dict(decay_mult=0.0),
            'relative_position_bias_table': dict(decay_mult=0.0),
        }))
custom_hooks = [dict(type='PretrainedCheckHook')]
auto_scale_lr = dict(base_batch_size=16)
