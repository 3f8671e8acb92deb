# ImageNet-1k for masked image modeling at 224 px, the data of the official
# SimMIM and A2MIM pre-training: RandomResizedCrop(224, 0.67-1.0), bilinear
# (torchvision's default) + flip, resized by PIL as torchvision does on the
# official PIL images (antialiased when it shrinks; OpenCV, mmpretrain's
# default backend, is not); 32-px blocks on 60% of the image, on the
# stride-16 grid of a ViT/16. A recipe on another grid or crop changes the
# inherited pipeline: `train_pipeline = _base_.train_pipeline`, then
# `train_pipeline[1]` (the crop) or `train_pipeline[3]` (the mask
# generator), and passes it to `train_dataloader`. mmpretrain's ImageNet
# dataset, normalisation and sampler; 256 images per GPU.
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs256_simmim_192.py'

img_size = 224
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=img_size,
        crop_ratio_range=(0.67, 1.0),
        interpolation='bilinear',
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='BlockwiseMaskGenerator',
        input_size=img_size,
        mask_patch_size=32,
        model_patch_size=16,
        mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    # re-declared: mmengine tags the inherited dict with a `_scope_` key that
    # the collate function does not accept
    collate_fn=dict(_delete_=True, type='default_collate'),
    dataset=dict(pipeline=train_pipeline))
