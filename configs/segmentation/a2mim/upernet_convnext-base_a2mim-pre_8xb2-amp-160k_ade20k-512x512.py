# UperNet on ADE20K from an A2MIM ConvNeXt-B, 512x512, 160k iterations, our
# protocol (the A2MIM paper has no ConvNeXt segmentation number; its
# repository's seg_mmsegmentation/configs/_base_/models/upernet_convnext.py
# is mmseg's model): mmseg's ConvNeXt-B UperNet recipe
# (mmseg::convnext/convnext-base_upernet_8xb2-amp-160k_ade20k-512x512.py:
# AdamW 1e-4 @ bs 16, weight decay 0.05, stage-wise lr decay 0.9, drop path
# 0.4, 1500 warm-up iterations, poly, fp16, sliding-window test). The output
# norms of stages 0-2 are new.
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = 'mmseg::convnext/convnext-base_upernet_8xb2-amp-160k_ade20k-512x512.py'  # noqa
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_convnext-base_8xb256-amp-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
custom_hooks = [
    dict(type='PretrainedCheckHook', allow_missing=[r'^norm[0-2]\.']),
]
