# Tiny MaskDistill for the tests: the ViT-B recipe with a 2-layer 64-d student
# and an explicitly *random* 2-layer CLIP-style teacher (random_init=True; no
# weights can be downloaded here) on the generated 64-px image folder. The
# tiny shapes and run: mim_plugins/utils/tiny.py.
_base_ = './maskdistill_vit-base-p16_8xb256-coslr-300e_in1k.py'
import mim_plugins.utils.tiny as tiny  # noqa: E402 (after _base_)

data_root = tiny.DATA_ROOT
img_size = tiny.IMG_SIZE
patch_size = tiny.VIT_PATCH
grid = img_size // patch_size
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomResizedCrop', scale=img_size, crop_ratio_range=(0.2, 1.0),
         interpolation='bicubic', backend='pillow'),
    dict(type='BEiTv2MaskGenerator', input_size=(grid, grid),
         num_masking_patches=26, max_num_patches=26, min_num_patches=4),
    dict(type='PackInputs'),
]
train_dataloader = tiny.demo_dataloader(train_pipeline, data_root)

tiny_arch = tiny.arch('vit')
model = dict(
    backbone=tiny.backbone('vit', delete=True),
    target_generator=dict(
        tiny.backbone('vit', delete=True), out_channels=32, checkpoint=None,
        random_init=True),
    head=dict(in_channels=tiny.out_channels('vit'), out_channels=32))

optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = tiny.demo_schedule()
train_cfg = tiny.demo_train_cfg()
log_processor = dict(by_epoch=False)
default_hooks = tiny.demo_hooks()
