# Tiny SimMIM Swin for the tests: the Swin-B 100-epoch recipe with a 32-d,
# one-block-per-stage Swin (window 2) on the generated 64-px image folder.
# The tiny shapes and run: mim_plugins/utils/tiny.py.
_base_ = './simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py'
import mim_plugins.utils.tiny as tiny  # noqa: E402 (after _base_)

data_root = tiny.DATA_ROOT
img_size = tiny.IMG_SIZE
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=img_size,
         crop_ratio_range=(0.67, 1.0), backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='BlockwiseMaskGenerator', input_size=img_size,
         mask_patch_size=tiny.MASK_PATCH, model_patch_size=4,
         mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = tiny.demo_dataloader(train_pipeline, data_root,
                                        delete_sampler=True)

model = dict(
    backbone=tiny.backbone('swin', delete=True),
    neck=dict(in_channels=tiny.out_channels('swin')))

optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = tiny.demo_schedule()
train_cfg = tiny.demo_train_cfg()
log_processor = dict(by_epoch=False)
default_hooks = tiny.demo_hooks()
