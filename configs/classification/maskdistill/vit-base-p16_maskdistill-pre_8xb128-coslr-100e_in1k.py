# ImageNet fine-tuning of a MaskDistill ViT-B for 100 epochs (paper: about
# 85.5 top-1; no official code). MaskDistill's authors build on BEiT v2, so
# this is BEiT v2's ViT-B fine-tuning after 300 epochs of pre-training
# (microsoft/unilm beit2/get_started_for_image_classification.md and
# run_class_finetuning.py): AdamW 5e-4 @ bs 1024, weight decay 0.05, layer
# decay 0.65, drop path 0.1, 20 warm-up epochs, cosine to 1e-6, no EMA, **no
# gradient clipping** (`--clip_grad` defaults to None), weight decay on the
# relative position tables (BEiT v2 exempts only 1-D parameters, biases, the
# position embedding and cls token), the head initialised trunc-normal(0.02)
# x init_scale 0.001 (modeling_finetune.py), relative position bias per
# layer (the pre-trained shared bias is copied into every layer), no
# absolute position embedding. The warm-up starts at 1e-4 x lr instead of 0
# (mmengine's LinearLR needs a positive start).
_base_ = '../simmim/vit-base-p16_simmim-pre_8xb128-coslr-100e_in1k.py'

pretrained = '{{$PRETRAINED:work_dirs/maskdistill_vit-base-p16_8xb256-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(init_cfg=dict(checkpoint=pretrained)),
    head=dict(
        init_cfg=[dict(type='TruncNormal', layer='Linear', std=0.02 * 1e-3)]))
optim_wrapper = dict(
    optimizer=dict(lr=5e-4),
    clip_grad=None,
    paramwise_cfg=dict(
        custom_keys={'relative_position_bias_table': dict(decay_mult=1.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0,
         end=20, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=20, end=100,
         eta_min=1e-6, convert_to_iter_based=True),
]
