# FCN with a dilated A2MIM ResNet-50 (output stride 8) on ADE20K, 512x512,
# 160k iterations, the paper's R50 segmentation protocol (38.3 mIoU;
# official: Westlake-AI/A2MIM seg_mmsegmentation/configs/ade20k/
# fcn_r50_d8_4x4_512x512_160k_ade20k.py): mmseg's FCN-R50-D8 recipe
# (dilations 1, 1, 2, 4, strides 1, 2, 1, 1, SyncBN, SGD 0.01, weight decay
# 5e-4, poly 0.9 to 1e-4, auxiliary FCN head on stage 3) with fp16, batch 16
# (8 GPUs x 2; SyncBN normalises over the whole batch, as 4 x 4 officially).
# The official config uses mmseg's ResNetV1c, whose deep stem (three 3x3
# convolutions) an A2MIM ResNet-50 does not have: its stem would stay random
# (a silent partial load). This one uses the plain-stem ResNet of the
# pre-training, dilated the same way, so every backbone weight loads.
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = 'mmseg::fcn/fcn_r50-d8_4xb4-160k_ade20k-512x512.py'
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_resnet50_8xb256-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    pretrained=None,
    backbone=dict(
        type='ResNet',
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
train_dataloader = dict(batch_size=2)
custom_hooks = [dict(type='PretrainedCheckHook')]
