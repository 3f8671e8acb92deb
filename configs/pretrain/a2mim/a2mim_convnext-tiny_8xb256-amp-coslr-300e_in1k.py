# A2MIM ConvNeXt-T, 300 epochs on ImageNet-1k at 224 px (official:
# Westlake-AI/openmixup configs/selfsup/a2mim/imagenet/
# convnext_t_l3_sz224_init_8xb256_cos_ep300.py, model
# configs/selfsup/_base_/models/a2mim/convnext_t.py): the ResNet-50
# 300-epoch recipe (AdamW 1.2e-3 @ bs 2048, 10 warm-up epochs, cosine to 1e-5,
# RandomResizedCrop(224, 0.8-1.0, bilinear) + flip, mean-filled 32-px blocks
# at 0.6, the mask token and its gamma at lr x0.1 without weight decay) with
# mmpretrain's ConvNeXt: the token is added to the input of stage 3 (after
# the last downsampling: stride 32, a 7x7 mask grid, model_patch_size=32),
# gamma initialised at 1e-6, drop path 0, focal L1 without the frequency
# loss (fft_weight 0), fp16, no weight decay on the layer scales either.
_base_ = './a2mim_resnet50_8xb256-coslr-300e_in1k.py'

# the mask on the stride-32 grid of stage 3
train_pipeline = _base_.train_pipeline
train_pipeline[3].model_patch_size = 32  # the mask generator
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
    paramwise_cfg=dict(
        custom_keys={
            # as the 100-epoch ResNet-50 recipe, the mask token's gamma too
            'mask_gamma': dict(decay_mult=0., lr_mult=0.1),
            'gamma': dict(decay_mult=0.),
        }))
