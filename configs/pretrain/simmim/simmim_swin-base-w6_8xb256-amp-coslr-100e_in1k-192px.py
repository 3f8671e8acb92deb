# SimMIM Swin-B (window 6), 100 epochs at 192 px (official: microsoft/SimMIM
# configs/swin_base__100ep/simmim_pretrain__swin_base__img192_window6__100ep
# .yaml): mmpretrain's config (SimMIM, SimMIMSwinTransformer,
# SimMIMLinearDecoder, SimMIMHead; AdamW 8e-4 @ bs 2048, 10 warm-up epochs,
# cosine to 4e-5, fp16, clip 5) with the official drop path 0.0 (mmpretrain's
# Swin defaults to 0.1) and no weight decay on the mask token (SimMIM's
# no_weight_decay), our size-checked mask generator and the NaN guard.
# Fine-tuned at 224: 83.5.
_base_ = 'mmpretrain::simmim/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py'  # noqa
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)

model = dict(backbone=dict(drop_path_rate=0.0))
# timm's CosineLRScheduler (microsoft/SimMIM lr_scheduler.py): a linear ramp
# from 4e-6 to 8e-4 over 10 epochs, then the cosine of the *whole* 100-epoch
# run (to 4e-5), entered at its phase at epoch 10
max_epochs = 100
warmup_epochs = 10
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=4e-6 / 8e-4,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingFactorLR',
        T_max=max_epochs,
        phase_offset=warmup_epochs,
        eta_min=4e-5,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True),
]
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'mask_token': dict(decay_mult=0.)}))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    # torchvision's RandomResizedCrop on PIL images: PIL's antialiased
    # bilinear resize
    dict(
        type='RandomResizedCrop',
        scale=192,
        crop_ratio_range=(0.67, 1.0),
        backend='pillow'),
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
    # the official loader drops the last partial batch (data_simmim.py)
    drop_last=True,
    # re-declared: mmengine tags the inherited dict with a `_scope_` key that
    # the collate function does not accept
    collate_fn=dict(_delete_=True, type='default_collate'),
    dataset=dict(pipeline=train_pipeline))
runner_type = 'MIMRunner'
