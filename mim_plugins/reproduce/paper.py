"""The papers' numbers and the full-scale recipes that reproduce them.

One source of truth for the benchmark table: ``tools/reproduce.py`` (paper
preset) runs these stages and ``tools/collect_results.py`` puts our numbers
beside these.
"""
P = 'configs/pretrain/'
C = 'configs/classification/'
D = 'configs/detection/'
S = 'configs/segmentation/'

#: pre-training stages of the paper preset: name -> config
PRETRAIN = {
    'a2mim-r50': P + 'a2mim/a2mim_resnet50_8xb256-coslr-300e_in1k.py',
    'a2mim-vit-s': P + 'a2mim/a2mim_vit-small_8xb256-step-800e_in1k.py',
    'a2mim-vit-b': P + 'a2mim/a2mim_vit-base_8xb128-accu2-step-800e_in1k.py',
    'simmim-vit-b':
    P + 'simmim/simmim_vit-base-p16_8xb128-accu2-step-800e_in1k.py',
    'simmim-swin-b-100e':
    P + 'simmim/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py',
    'simmim-swin-b-800e':
    P + 'simmim/simmim_swin-base-w6_16xb128-amp-coslr-800e_in1k-192px.py',
    'maskdistill-vit-b':
    P + 'maskdistill/maskdistill_vit-base-p16_8xb256-coslr-300e_in1k.py',
}

#: rows: method, backbone, task, metric, paper value, pre-training, config
ROWS = [
    ('A2MIM', 'ViT-S', 'ImageNet', 'top-1', 82.2, 'a2mim-vit-s',
     C + 'a2mim/vit-small-p16_a2mim-pre_8xb128-amp-coslr-200e_in1k.py'),
    ('A2MIM', 'ViT-B', 'ImageNet', 'top-1', 84.2, 'a2mim-vit-b',
     C + 'a2mim/vit-base-p16_a2mim-pre_8xb128-amp-coslr-100e_in1k.py'),
    ('A2MIM', 'R50', 'ImageNet RSB A2', 'top-1', 80.4, 'a2mim-r50',
     C + 'a2mim/resnet50_a2mim-pre_8xb256-rsb-a2-300e_in1k.py'),
    ('A2MIM', 'R50', 'ImageNet RSB A3', 'top-1', 78.8, 'a2mim-r50',
     C + 'a2mim/resnet50_a2mim-pre_8xb256-rsb-a3-100e_in1k.py'),
    ('A2MIM', 'ViT-B', 'COCO Mask R-CNN', 'box AP', 49.4, 'a2mim-vit-b',
     D + 'a2mim/mask-rcnn_vit-base-p16-sfpn_a2mim-pre_8xb2-amp-lsj-100e_coco.py'),  # noqa
    ('A2MIM', 'ViT-B', 'COCO Mask R-CNN', 'mask AP', 43.5, 'a2mim-vit-b',
     D + 'a2mim/mask-rcnn_vit-base-p16-sfpn_a2mim-pre_8xb2-amp-lsj-100e_coco.py'),  # noqa
    ('A2MIM', 'R50', 'COCO Mask R-CNN C4 2x', 'box AP', 39.8, 'a2mim-r50',
     D + 'a2mim/mask-rcnn_resnet50-c4_a2mim-pre_8xb2-ms-2x_coco.py'),
    ('A2MIM', 'R50', 'COCO Mask R-CNN C4 2x', 'mask AP', 34.9, 'a2mim-r50',
     D + 'a2mim/mask-rcnn_resnet50-c4_a2mim-pre_8xb2-ms-2x_coco.py'),
    ('A2MIM', 'ViT-B', 'ADE20K UperNet', 'mIoU', 49.0, 'a2mim-vit-b',
     S + 'a2mim/upernet_vit-base-p16_a2mim-pre_8xb2-amp-160k_ade20k-512x512.py'),  # noqa
    ('A2MIM', 'R50', 'ADE20K UperNet', 'mIoU', 38.3, 'a2mim-r50',
     S + 'a2mim/upernet_resnet50_a2mim-pre_8xb2-160k_ade20k-512x512.py'),
    ('SimMIM', 'ViT-B', 'ImageNet', 'top-1', 83.8, 'simmim-vit-b',
     C + 'simmim/vit-base-p16_simmim-pre_8xb128-coslr-100e_in1k.py'),
    ('SimMIM', 'Swin-B (100 ep)', 'ImageNet', 'top-1', 83.5,
     'simmim-swin-b-100e',
     C + 'simmim/swin-base-w7_simmim-pre_8xb256-coslr-100e_in1k.py'),
    ('SimMIM', 'Swin-B (800 ep)', 'ImageNet', 'top-1', 84.0,
     'simmim-swin-b-800e',
     C + 'simmim/swin-base-w7_simmim-pre_8xb256-coslr-100e_in1k.py'),
    ('MaskDistill', 'ViT-B', 'ImageNet', 'top-1', 85.5, 'maskdistill-vit-b',
     C + 'maskdistill/vit-base-p16_maskdistill-pre_8xb128-coslr-100e_in1k.py'),
    ('MaskDistill', 'ViT-B', 'ADE20K UperNet', 'mIoU', 53.8,
     'maskdistill-vit-b',
     S + 'maskdistill/upernet_vit-base-p16_maskdistill-pre_8xb2-amp-160k_ade20k-512x512.py'),  # noqa
]

#: where each metric is in mmengine's scalar logs, and its scale to percent
METRIC_KEYS = {
    'top-1': ('accuracy/top1', 1.0),
    'box AP': ('coco/bbox_mAP', 100.0),
    'mask AP': ('coco/segm_mAP', 100.0),
    'mIoU': ('mIoU', 1.0),
}
