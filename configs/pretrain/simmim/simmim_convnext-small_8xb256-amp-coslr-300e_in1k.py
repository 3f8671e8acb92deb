# SimMIM ConvNeXt-S, 300 epochs at 224 px: the A2MIM paper's SimMIM baseline
# (official: Westlake-AI/openmixup configs/selfsup/simmim/imagenet/
# convnext_small_sz224_8xb256_fp16_ep300.py, model
# configs/selfsup/_base_/models/simmim/convnext_s.py): the ResNet-50 SimMIM
# recipe (AdamW 8e-4 @ bs 2048, fp16, 10 warm-up epochs, cosine to 1e-5,
# RandomResizedCrop(224, 0.67-1.0, bilinear) + flip, 32-px blocks at 0.6 on
# the stride-4 grid, linear decoder, L1 on the masked pixels) with
# mmpretrain's ConvNeXt, the token at the input of stage 0 (after the stem),
# drop path 0, no weight decay on the layer scales either. As the official
# config, the token is *added* to the stem features (replace=False; our
# SimMIMConvNeXt defaults to SimMIM's substitution) and the input pixels are
# not filled. Fine-tuned ("RSB A2" in openmixup's table): 83.2.
_base_ = './simmim_resnet50_8xb256-amp-coslr-300e_in1k.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='SimMIMConvNeXt',
        arch='small',
        out_indices=(3, ),
        drop_path_rate=0.,
        gap_before_final_norm=False,
        mask_layer=0,
        mask_token='learnable',
        replace=False),
    neck=dict(in_channels=768))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'gamma': dict(decay_mult=0.)}))
