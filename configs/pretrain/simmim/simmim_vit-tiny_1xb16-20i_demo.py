# Tiny SimMIM ViT for the tests: the ViT-B recipe with a 2-layer 64-d ViT with
# 8-px patches on the generated 64-px image folder, 20 iterations, CPU. The
# tiny shapes and run: mim_plugins/utils/tiny.py.
_base_ = './simmim_vit-base-p16_8xb128-accu2-step-800e_in1k.py'
import mim_plugins.utils.tiny as tiny  # noqa: E402 (after _base_)

data_root = tiny.DATA_ROOT
img_size = tiny.IMG_SIZE
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=img_size,
         crop_ratio_range=(0.67, 1.0), interpolation='bicubic',
         backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='BlockwiseMaskGenerator', input_size=img_size,
         mask_patch_size=tiny.MASK_PATCH, model_patch_size=tiny.VIT_PATCH,
         mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = tiny.demo_dataloader(train_pipeline, data_root)

model = dict(
    backbone=tiny.backbone('vit', delete=True),
    neck=dict(in_channels=tiny.out_channels('vit'),
              encoder_stride=tiny.VIT_PATCH),
    head=dict(patch_size=tiny.VIT_PATCH))

optim_wrapper = dict(accumulative_counts=1, optimizer=dict(lr=2e-3))
param_scheduler = tiny.demo_schedule(step_at=10)
train_cfg = tiny.demo_train_cfg()
log_processor = dict(by_epoch=False)
default_hooks = tiny.demo_hooks()
