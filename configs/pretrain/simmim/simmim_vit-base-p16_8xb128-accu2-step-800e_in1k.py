# SimMIM ViT-B/16, 800 epochs on ImageNet-1k at 224 px: the official recipe
# (microsoft/SimMIM configs/vit_base__800ep/
# simmim_pretrain__vit_base__img224__800ep.yaml): the mask token replaces the
# masked patch embeddings; no absolute position embedding, a shared relative
# position bias, layer scale 0.1, drop path 0.1; AdamW 4e-4 @ bs 2048
# (1e-4 x 2048 / 512), clip 5, 10 warm-up epochs from 2e-6, lr x0.1 at epoch
# 700, fp16 (the official scripts' default, apex O1; the file name, which
# tools refer to, predates it); RandomResizedCrop(224, 0.67-1.0), bilinear,
# + flip; no weight decay on 1-D parameters (norms, biases, q/v biases, layer
# scales), tokens and relative position tables. mmpretrain's SimMIM
# algorithm, decoder and head.
_base_ = [
    '../../_base_/datasets/imagenet_mim.py',
    '../../_base_/schedules/mim_adamw_step-800e.py',
    '../../_base_/pretrain_runtime.py',
]
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)

patch_size = 16
# the official loader drops the last partial batch (data/data_simmim.py)
train_dataloader = dict(batch_size=128, drop_last=True)

model = dict(
    type='SimMIM',
    backbone=dict(
        type='SimMIMViT',
        arch='base',
        img_size=224,
        patch_size=patch_size,
        replace=True,  # the mask token replaces the patch embeddings
        use_abs_pos_emb=False,
        use_rel_pos_bias=False,
        use_shared_rel_pos_bias=True,
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        out_type='featmap',
        final_norm=True),
    neck=dict(
        type='SimMIMLinearDecoder', in_channels=768,
        encoder_stride=patch_size),
    head=dict(
        type='SimMIMHead',
        patch_size=patch_size,
        loss=dict(type='PixelReconstructionLoss', criterion='L1', channel=3)))

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    accumulative_counts=2,
    paramwise_cfg=dict(
        custom_keys={
            'mask_token': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
            'gamma': dict(decay_mult=0.),
            'q_bias': dict(decay_mult=0.),
            'v_bias': dict(decay_mult=0.),
        }))
