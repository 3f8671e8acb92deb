# A2MIM ConvNeXt-T, 300 epochs on ImageNet-1k at 224 px (official:
# Westlake-AI/openmixup configs/selfsup/a2mim/imagenet/
# convnext_t_l3_sz224_init_8xb256_cos_ep300.py, model
# configs/selfsup/_base_/models/a2mim/convnext_t.py): the ResNet-50 recipe
# (AdamW 1.2e-3 @ bs 2048, 10 warm-up epochs, cosine to 1e-5,
# RandomResizedCrop(224, 0.8-1.0, bilinear) + flip, mean-filled 32-px blocks
# at 0.6, the mask token and its gamma at lr x0.1 without weight decay) with
# mmpretrain's ConvNeXt: the token is added to the input of stage 3 (after
# the last downsampling: stride 32, a 7x7 mask grid, model_patch_size=32),
# gamma initialised at 1e-6, drop path 0, focal L1 without the frequency
# loss (fft_weight 0), fp16, no weight decay on the layer scales either.
_base_ = './a2mim_resnet50_8xb256-coslr-100e_in1k.py'

img_size = 224
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=img_size,
        crop_ratio_range=(0.8, 1.0),
        interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='BlockwiseMaskGenerator',
        input_size=img_size,
        mask_patch_size=32,
        model_patch_size=32,
        mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(
    backbone=dict(
        _delete_=True,
        type='A2MIMConvNeXt',
        arch='tiny',
        out_indices=(3, ),
        drop_path_rate=0.,
        gap_before_final_norm=False,
        mask_layer=3,
        mask_token='learnable',
        mask_init=1e-6,
        replace=False),
    neck=dict(in_channels=768),
    head=dict(fft_weight=0., fft_focal=False, fft_unmask_weight=0.))

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    paramwise_cfg=dict(custom_keys={'gamma': dict(decay_mult=0.)}))

max_epochs = 300
warmup_epochs = 10
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6,
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
