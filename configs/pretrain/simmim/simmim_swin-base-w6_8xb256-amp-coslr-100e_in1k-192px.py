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
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'mask_token': dict(decay_mult=0.)}))

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
    # re-declared: mmengine tags the inherited dict with a `_scope_` key that
    # the collate function does not accept
    collate_fn=dict(_delete_=True, type='default_collate'),
    dataset=dict(pipeline=train_pipeline))
custom_hooks = [dict(type='StopOnInvalidLossHook')]
