# SimMIM Swin-B (window 6), 800 epochs at 192 px (official: microsoft/SimMIM
# configs/swin_base__800ep/simmim_pretrain__swin_base__img192_window6__800ep
# .yaml): mmpretrain's config (AdamW 4e-4 @ bs 2048, 10 warm-up epochs from
# 2e-6, lr x0.1 at epoch 700, fp16, clip 5) with the official drop path 0.0
# and no weight decay on the mask token, our size-checked mask generator and
# the NaN guard; 8 GPUs x 256 images = batch 2048 (mmpretrain's file is named
# 16xb128 but keeps its dataset base's 256 per GPU). mmpretrain's milestone
# 700 counts from the end of the warm-up (mmengine counts milestones from
# `begin`), i.e. epoch 710: 690 here decays at epoch 700 as the official
# schedule. Fine-tuned: 84.0.
_base_ = 'mmpretrain::simmim/simmim_swin-base-w6_16xb128-amp-coslr-800e_in1k-192px.py'  # noqa
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)

model = dict(backbone=dict(drop_path_rate=0.0))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'mask_token': dict(decay_mult=0.)}))
warmup_epochs = 10
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=5e-7 / 1e-4,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='MultiStepLR',
        milestones=[700 - warmup_epochs],
        gamma=0.1,
        by_epoch=True,
        begin=warmup_epochs,
        end=800,
        convert_to_iter_based=True),
]

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=192, crop_ratio_range=(0.67, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='BlockwiseMaskGenerator',
        input_size=192,
        mask_patch_size=32,
        model_patch_size=4,
        mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256,
    # re-declared: mmengine tags the inherited dict with a `_scope_` key that
    # the collate function does not accept
    collate_fn=dict(_delete_=True, type='default_collate'),
    dataset=dict(pipeline=train_pipeline))
custom_hooks = [dict(type='StopOnInvalidLossHook')]
