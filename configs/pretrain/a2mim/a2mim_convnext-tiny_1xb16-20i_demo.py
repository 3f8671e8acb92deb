# Tiny A2MIM ConvNeXt for the tests and the benchmark's --tiny: the
# ConvNeXt recipe with a one-block-per-stage ConvNeXt (16..128 channels) on
# the generated 64-px image folder (a 2x2 mask grid at stage 3), 20
# iterations, CPU. The tiny shapes and run: mim_plugins/utils/tiny.py.
_base_ = './a2mim_convnext-tiny_8xb256-amp-coslr-300e_in1k.py'
import mim_plugins.utils.tiny as tiny  # noqa: E402 (after _base_)

data_root = tiny.DATA_ROOT
img_size = tiny.IMG_SIZE
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=img_size,
        crop_ratio_range=(0.8, 1.0),
        interpolation='bicubic', backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='BlockwiseMaskGenerator',
        input_size=img_size,
        mask_patch_size=32,
        model_patch_size=32,
        mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = tiny.demo_dataloader(train_pipeline, data_root)

model = dict(
    backbone=tiny.backbone('convnext', delete=True),
    neck=dict(in_channels=tiny.out_channels('convnext')))

optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = tiny.demo_schedule()
train_cfg = tiny.demo_train_cfg()
log_processor = dict(by_epoch=False)
default_hooks = tiny.demo_hooks()
