# UperNet with an A2MIM ResNet-50 on ADE20K, 512x512, 160k iterations, our
# protocol (the paper's 38.3 mIoU is FCN-R50-D8:
# fcn_resnet50-d8_a2mim-pre_8xb2-amp-160k_ade20k-512x512.py): mmseg's UperNet
# R50 recipe (SGD 0.01 @ batch 16 = 8 GPUs x 2, poly, SyncBN) with the plain
# pytorch-style ResNet-50 of the pre-training (not mmseg's deep-stem
# ResNetV1c, whose keys differ).
# Pre-trained checkpoint: PRETRAINED=path (environment) or
#   --cfg-options model.backbone.init_cfg.checkpoint=path
_base_ = [
    'mmseg::_base_/models/upernet_r50.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py',
]
custom_imports = dict(imports=['mim_plugins'], allow_failed_imports=False)
# atomic checkpoints, exact resume, the divergence guard
runner_type = 'MIMRunner'

pretrained = '{{$PRETRAINED:work_dirs/a2mim_resnet50_8xb256-coslr-300e_in1k/epoch_300.pth}}'  # noqa
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='ResNet',
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    decode_head=dict(num_classes=150),
    auxiliary_head=dict(num_classes=150))
train_dataloader = dict(batch_size=2)
custom_hooks = [dict(type='PretrainedCheckHook')]
