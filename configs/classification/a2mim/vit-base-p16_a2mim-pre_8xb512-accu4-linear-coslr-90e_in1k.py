# ImageNet linear probe of an A2MIM ViT-B (800-epoch pre-training), our
# protocol (no paper value): MAE's linear probe (facebookresearch/mae
# main_linprobe.py, FINETUNE.md "Linear Probing"), on mmpretrain's
# configs/mff/benchmarks/vit-base-p16_8xb2048-linear-coslr-90e_in1k.py.
# The backbone is frozen (every layer, the patch embedding, position
# embedding, cls token and final norm); its cls token after the final norm
# goes through a BatchNorm1d without affine (eps 1e-6, mmpretrain's
# ClsBatchNormNeck) into a linear head drawn trunc-normal(0.01); LARS lr 6.4
# at batch 16384 (blr 0.1 x 16384 / 256), momentum 0.9, weight decay 0, 90
# epochs: 10 warm-up epochs, then a cosine to 0; MAE's RandomResizedCrop
# (224, bicubic) + flip; tested at 256 (bicubic) -> 224; AMP.
# The batch is 8 GPUs x 512 x 4 accumulated steps, MAE's single-node setting
# (FINETUNE.md: --accum_iter 4 on 8 GPUs; 4 nodes x 8 x 512 without it), so
# the BatchNorm normalises 512 images at a time as MAE's does (mmpretrain's
# 8 x 2048, 2048).
# Deliberate deviations from MAE (docs/fidelity.md, "Linear probing"):
# - the warm-up starts at 1e-4 x lr, not 0 (mmengine's LinearLR needs a
#   start factor > 0);
# - mmpretrain's LARS keeps the lr inside its momentum buffer (MAE's applies
#   the current lr to the whole buffer) and adds eps 1e-8 to the trust
#   ratio's denominator;
# - the backbone is our A2MIM ViT (BEiTViT: relative position bias per
#   layer, layer scale 0.1), not MAE's timm ViT.
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = 'mmpretrain::mff/benchmarks/vit-base-p16_8xb2048-linear-coslr-90e_in1k.py'  # noqa
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_vit-base_8xb128-accu2-step-800e_in1k/epoch_800.pth}}'  # noqa

model = dict(
    backbone=dict(
        # the fine-tuning configs' backbone (A2MIMViT's downstream twin)
        type='BEiTViT',
        arch='base',
        use_abs_pos_emb=True,
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        layer_scale_init_value=0.1,
        drop_path_rate=0.,
        # all 12 layers, and with them the patch embedding, position
        # embedding, cls token and final norm (ln1)
        frozen_stages=12,
        # MAE's --cls_token: the cls token after the final norm (A2MIM
        # pre-trains ln1; the cls token is encoded but, as in MAE, has no
        # loss of its own)
        out_type='cls_token',
        final_norm=True,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

train_dataloader = dict(batch_size=512)
optim_wrapper = dict(
    accumulative_counts=4,
    # MAE's LARS neither scales nor decays the 1-D parameters (the head's
    # bias); mmpretrain's scales every one unless its group says
    # lars_exclude. (Any paramwise_cfg also makes mmengine's constructor
    # leave the frozen backbone out of the optimizer, as MAE hands LARS
    # model.head.parameters() only.)
    paramwise_cfg=dict(custom_keys={'bias': dict(lars_exclude=True)}))

# MAE's transform_val: Resize(256, bicubic) -> CenterCrop(224); mmpretrain's
# base resizes bilinearly
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=256,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

# every backbone weight comes from the checkpoint (the neck has none)
custom_hooks = [dict(type='PretrainedCheckHook')]
