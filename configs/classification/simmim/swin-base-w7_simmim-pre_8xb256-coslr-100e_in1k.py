# ImageNet fine-tuning at 224 px of a SimMIM Swin-B pre-trained for 100 epochs
# at 192 px (paper: 83.5; official: microsoft/SimMIM configs/swin_base__100ep/
# simmim_finetune__swin_base__img224_window7__100ep.yaml): mmpretrain's SimMIM
# benchmark config (AdamW 5e-3 @ bs 2048 = 1.25e-3 x 2048 / 512, layer decay
# 0.9, drop path 0.1, AMP, clip 5) with the official schedule, timm's
# CosineLRScheduler (lr_scheduler.py): a linear ramp from 1e-6 to 5e-3 over
# 20 epochs, then the cosine (to 1e-6) of the *whole* 100 epochs, entered at
# its phase at epoch 20 (mmpretrain's cosine starts after the warm-up); the
# last partial batch dropped as the official loader. The 6x6-window
# relative position tables are resized to 7x7 on load.
_base_ = 'mmpretrain::simmim/benchmarks/swin-base-w7_8xb256-coslr-100e_in1k.py'
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px/epoch_100.pth}}'  # noqa
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
custom_hooks = [dict(type='PretrainedCheckHook')]
max_epochs = 100
warmup_epochs = 20
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / 5e-3,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingFactorLR',
        phase_offset=warmup_epochs,
        eta_min=1e-6,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True),
]
# re-declared: mmengine tags the inherited dicts with a `_scope_` key that
# the collate function does not accept
train_dataloader = dict(
    drop_last=True,
    collate_fn=dict(_delete_=True, type='default_collate'))
val_dataloader = dict(collate_fn=dict(_delete_=True, type='default_collate'))
test_dataloader = dict(collate_fn=dict(_delete_=True, type='default_collate'))
