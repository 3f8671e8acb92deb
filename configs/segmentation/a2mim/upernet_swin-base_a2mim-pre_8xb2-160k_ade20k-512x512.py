# UperNet on ADE20K from an A2MIM Swin-B, 512x512, 160k iterations, our
# protocol (the A2MIM paper has no Swin segmentation number): mmseg's Swin-B
# UperNet recipe (mmseg::swin/
# swin-base-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py:
# AdamW 6e-5 @ bs 16, weight decay 0.01 without decay on norms and position
# tables, 1500 warm-up iterations, poly, drop path 0.3) with mmpretrain's
# SwinTransformer (same keys as mmseg's, which loads checkpoints in its own
# init_weights), window 7 (the pre-training's 6x6 tables are resized on
# load), padding windows for any input size. The output norms of stages 0-2
# are new.
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = 'mmseg::swin/swin-base-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py'  # noqa
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)
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
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
custom_hooks = [
    dict(type='PretrainedCheckHook', allow_missing=[r'^norm[0-2]\.']),
]
