"""The papers' numbers, where each comes from, and the configs that redo it.

One source of truth for the benchmark table. Every row names its value, the
official source of the number and of its protocol (repository and path),
the pre-training it starts from and our config, and whether that config runs
the official protocol or one of ours (extra rows, no paper value).
``tools/reproduce.py`` (paper preset) runs :func:`jobs`, each distinct job
once in its own work dir, ``tools/collect_results.py`` puts our numbers
beside these, ``docs/fidelity.md`` says per row what matches the official
protocol and what deviates, and ``tests/test_paper_protocol.py`` checks
every config against values written from the official sources.
"""
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Tuple

P = 'configs/pretrain/'
C = 'configs/classification/'
D = 'configs/detection/'
S = 'configs/segmentation/'

OPENMIXUP = 'Westlake-AI/openmixup'
A2MIM_REPO = 'Westlake-AI/A2MIM'
SIMMIM_REPO = 'microsoft/SimMIM'
OM_PRE = 'configs/selfsup/'
OM_FT = 'configs/benchmarks/classification/imagenet/'
#: where openmixup's A2MIM table (numbers, and configs per row) is
OM_TABLE = f'{OPENMIXUP}:configs/selfsup/a2mim/README.md'
A2MIM_PAPER = 'A2MIM paper (Li et al., ICML 2023)'
#: a row the MaskDistill paper reports in a table not readable here
MASKDISTILL_UNREAD = ('MaskDistill paper (Peng et al., TMLR 2023), table; '
                      'value not verified (only the abstract, with ViT-H, '
                      'could be read here)')


class Source(NamedTuple):
    """A file in a public repository."""
    repo: str
    path: str

    def __str__(self) -> str:
        return f'{self.repo}:{self.path}'


class Pretrain(NamedTuple):
    """A pre-training stage: our config and the official one it follows."""
    config: str
    source: Optional[Source]


class Row(NamedTuple):
    """One row of the benchmark table.

    The first seven fields are the historical ``ROWS`` tuple.
    """
    method: str
    backbone: str
    task: str
    metric: str
    value: Optional[float]  # the paper's number; None for our protocols
    pretrain: str  # key of PRETRAIN
    config: str
    source: Optional[Source]  # the official transfer config, if any
    reported: str  # where the number is stated
    #: 'official': our config follows ``source``; 'paper': no official code,
    #: the paper's description; 'ours': an extra row of our own protocol
    protocol: str = 'official'


def _om(kind: str, name: str) -> Source:
    return Source(OPENMIXUP, OM_PRE + f'{kind}/imagenet/{name}.py')


#: pre-training stages of the paper preset: name -> (config, official source)
PRETRAINS: Dict[str, Pretrain] = {
    'a2mim-r50-100e': Pretrain(
        P + 'a2mim/a2mim_resnet50_8xb256-coslr-100e_in1k.py',
        _om('a2mim', 'r50_l3_sz224_init_8xb256_cos_ep100')),
    'a2mim-r50-300e': Pretrain(
        P + 'a2mim/a2mim_resnet50_8xb256-coslr-300e_in1k.py',
        _om('a2mim', 'r50_l3_sz224_init_8xb256_cos_ep300')),
    **{f'a2mim-r{d}': Pretrain(
        P + f'a2mim/a2mim_resnet{d}_8xb256-coslr-300e_in1k.py',
        _om('a2mim', f'r{d}_l3_sz224_init_8xb256_cos_ep300'))
       for d in (101, 152, 200)},
    **{f'simmim-r{d}': Pretrain(
        P + f'simmim/simmim_resnet{d}_8xb256-amp-coslr-300e_in1k.py',
        _om('simmim', f'r{d}_sz224_8xb256_fp16_ep300'))
       for d in (101, 152, 200)},
    **{f'a2mim-convnext-{a[0]}': Pretrain(
        P + f'a2mim/a2mim_convnext-{a}_8xb256-amp-coslr-300e_in1k.py',
        _om('a2mim', f'convnext_{a[0]}_l3_sz224_init_8xb256_cos_ep300'))
       for a in ('small', 'base')},
    **{f'simmim-convnext-{a[0]}': Pretrain(
        P + f'simmim/simmim_convnext-{a}_8xb256-amp-coslr-300e_in1k.py',
        _om('simmim', f'convnext_{a}_sz224_8xb256_fp16_ep300'))
       for a in ('small', 'base')},
    'a2mim-vit-s': Pretrain(
        P + 'a2mim/a2mim_vit-small_8xb256-step-800e_in1k.py',
        _om('a2mim', 'vit_small_l0_sz224_8xb256_step_ep800')),
    'a2mim-vit-b': Pretrain(
        P + 'a2mim/a2mim_vit-base_8xb128-accu2-step-800e_in1k.py',
        _om('a2mim', 'vit_base_l0_sz224_8xb128_accu2_step_ep800')),
    'a2mim-vit-l': Pretrain(
        P + 'a2mim/a2mim_vit-large_8xb128-accu2-step-800e_in1k.py',
        _om('a2mim', 'vit_large_l0_sz224_8xb128_accu2_step_ep800')),
    'simmim-vit-s': Pretrain(
        P + 'simmim/simmim_vit-small-p16_8xb256-amp-step-800e_in1k.py',
        _om('simmim', 'vit_small_sz224_8xb256_step_fp16_ep800')),
    'simmim-vit-b': Pretrain(
        P + 'simmim/simmim_vit-base-p16_8xb128-accu2-step-800e_in1k.py',
        Source(SIMMIM_REPO, 'configs/vit_base__800ep/'
               'simmim_pretrain__vit_base__img224__800ep.yaml')),
    'simmim-vit-l': Pretrain(
        P + 'simmim/simmim_vit-large-p16_8xb128-accu2-amp-step-800e_in1k.py',
        _om('simmim', 'vit_large_sz224_8xb128_accu2_step_fp16_ep800')),
    'simmim-swin-b-100e': Pretrain(
        P + 'simmim/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py',
        Source(SIMMIM_REPO, 'configs/swin_base__100ep/'
               'simmim_pretrain__swin_base__img192_window6__100ep.yaml')),
    'simmim-swin-b-800e': Pretrain(
        P + 'simmim/simmim_swin-base-w6_8xb256-amp-step-800e_in1k-192px.py',
        Source(SIMMIM_REPO, 'configs/swin_base__800ep/'
               'simmim_pretrain__swin_base__img192_window6__800ep.yaml')),
    'maskdistill-vit-b': Pretrain(
        P + 'maskdistill/maskdistill_vit-base-p16_8xb256-coslr-300e_in1k.py',
        None),
    'maskdistill-vit-l': Pretrain(
        P + 'maskdistill/maskdistill_vit-large-p16_8xb64-accu4-coslr-300e_in1k.py',  # noqa
        None),
    'maskdistill-vit-h': Pretrain(
        P + 'maskdistill/maskdistill_vit-huge-p14_8xb256-fsdp-coslr-300e_in1k.py',  # noqa
        None),
}
#: name -> pre-training config (what the runner needs)
PRETRAIN: Dict[str, str] = {k: v.config for k, v in PRETRAINS.items()}


def _ft(name: str) -> Source:
    return Source(OPENMIXUP, OM_FT + name + '.py')


_A3 = _ft('r50_rsb_a3_ft_sz160_4xb512_cos_fp16_ep100')
_VIT_DET = Source(A2MIM_REPO, 'det_mmdetection/configs/coco/'
                  'mask-rcnn_vit_base_giou_4conv1f_1x_coco.py')
_C4 = Source(A2MIM_REPO, 'det_mmdetection/configs/coco/'
             'mask-rcnn_r50-c4_ms-2x_coco.py')
_UPERNET_VIT = Source(A2MIM_REPO, 'seg_mmsegmentation/configs/ade20k/'
                      'upernet_mae_base_8x2_512x512_160k_ade20k.py')
_FCN = Source(A2MIM_REPO, 'seg_mmsegmentation/configs/ade20k/'
              'fcn_r50_d8_4x4_512x512_160k_ade20k.py')
_SWIN_FT = 'configs/swin_base__{0}/simmim_finetune__swin_base__' \
    'img224_window7__{0}.yaml'
_VITDET = D + 'a2mim/mask-rcnn_vit-base-p16-sfpn_a2mim-pre_8xb2-amp-lsj-100e_coco.py'  # noqa
_UPERNET_R50 = S + 'a2mim/upernet_resnet50_a2mim-pre_8xb2-160k_ade20k-512x512.py'  # noqa

#: the benchmark table
TABLE: List[Row] = [
    # ImageNet fine-tuning, ViTs (openmixup's A2MIM table, its configs)
    Row('SimMIM', 'ViT-S', 'ImageNet', 'top-1', 81.7, 'simmim-vit-s',
        C + 'simmim/vit-small-p16_simmim-pre_8xb128-amp-coslr-100e_in1k.py',
        _ft('vit_small_p16_swin_ft_simmim_sz224_8xb128_cos_ep100'),
        OM_TABLE),
    Row('A2MIM', 'ViT-S', 'ImageNet', 'top-1', 82.2, 'a2mim-vit-s',
        C + 'a2mim/vit-small-p16_a2mim-pre_8xb128-amp-coslr-200e_in1k.py',
        _ft('vit_small_p16_swin_ft_simmim_sz224_8xb128_cos_ep200'),
        A2MIM_PAPER + '; 82.1 in ' + OM_TABLE),
    Row('SimMIM', 'ViT-B', 'ImageNet', 'top-1', 83.8, 'simmim-vit-b',
        C + 'simmim/vit-base-p16_simmim-pre_8xb128-coslr-100e_in1k.py',
        Source(SIMMIM_REPO, 'configs/vit_base__800ep/'
               'simmim_finetune__vit_base__img224__800ep.yaml'),
        'SimMIM paper (Xie et al., CVPR 2022); also ' + OM_TABLE),
    Row('A2MIM', 'ViT-B', 'ImageNet', 'top-1', 84.2, 'a2mim-vit-b',
        C + 'a2mim/vit-base-p16_a2mim-pre_8xb128-amp-coslr-100e_in1k.py',
        _ft('vit_base_p16_swin_ft_simmim_sz224_4xb128_accu2_cos_ep100'),
        A2MIM_PAPER + '; 84.3 in ' + OM_TABLE),
    Row('SimMIM', 'ViT-L', 'ImageNet', 'top-1', 85.6, 'simmim-vit-l',
        C + 'simmim/vit-large-p16_simmim-pre_8xb64-accu2-amp-coslr-100e_in1k.py',  # noqa
        _ft('vit_large_p16_swin_ft_simmim_sz224_8xb64_accu2_cos_ep100'),
        OM_TABLE),
    Row('A2MIM', 'ViT-L', 'ImageNet', 'top-1', 86.1, 'a2mim-vit-l',
        C + 'a2mim/vit-large-p16_a2mim-pre_8xb64-accu2-amp-coslr-150e_in1k.py',  # noqa
        _ft('vit_large_p16_swin_ft_simmim_sz224_8xb64_accu2_cos_ep150'),
        OM_TABLE),
    # ImageNet fine-tuning, ResNets (RSB A3 / A2)
    Row('A2MIM', 'R50 (100 ep)', 'ImageNet RSB A3', 'top-1', 78.8,
        'a2mim-r50-100e',
        C + 'a2mim/resnet50_a2mim-pre-100e_8xb256-rsb-a3-100e_in1k.py', _A3,
        A2MIM_PAPER + '; ' + OM_TABLE),
    Row('A2MIM', 'R50 (300 ep)', 'ImageNet RSB A3', 'top-1', 78.9,
        'a2mim-r50-300e',
        C + 'a2mim/resnet50_a2mim-pre_8xb256-rsb-a3-100e_in1k.py', _A3,
        OM_TABLE + ' (A2MIM+ in the paper)'),
    Row('A2MIM', 'R50 (300 ep)', 'ImageNet RSB A2', 'top-1', 80.4,
        'a2mim-r50-300e',
        C + 'a2mim/resnet50_a2mim-pre_8xb256-rsb-a2-300e_in1k.py',
        _ft('r50_rsb_a2_ft_sz224_8xb256_cos_fp16_ep300'),
        A2MIM_PAPER + '; ' + OM_TABLE),
    *[Row(m, f'R{d}', 'ImageNet RSB A2', 'top-1', v, f'{m.lower()}-r{d}',
          C + f'{m.lower()}/resnet{d}_{m.lower()}-pre_8xb256-rsb-a2-300e_in1k.py',  # noqa
          _ft(f'r{d}_rsb_a2_ft_sz224_8xb256_cos_fp16_ep300'), OM_TABLE)
      for m, values in (('SimMIM', (81.3, 81.9, 82.2)),
                        ('A2MIM', (81.9, 82.5, 83.0)))
      for d, v in zip((101, 152, 200), values)],
    # ImageNet fine-tuning, ConvNeXt-S/B 300 ep (openmixup's table says RSB
    # A2; its linked configs are the SparK-style AdamW recipe)
    *[Row(m, f'ConvNeXt-{a[0].upper()}', 'ImageNet RSB A2', 'top-1', v,
          f'{m.lower()}-convnext-{a[0]}',
          C + f'{m.lower()}/convnext-{a}_{m.lower()}-pre_8xb256-accu2-amp-coslr-300e_in1k.py',  # noqa
          _ft(f'convnext_{a[0]}_spark_ft_sz224_8xb256_cos_fp16_ep300'),
          OM_TABLE)
      for m, values in (('SimMIM', (83.2, 83.6)), ('A2MIM', (83.7, 84.1)))
      for a, v in zip(('small', 'base'), values)],
    # ImageNet fine-tuning, Swin-B (SimMIM)
    Row('SimMIM', 'Swin-B (100 ep)', 'ImageNet', 'top-1', 83.5,
        'simmim-swin-b-100e',
        C + 'simmim/swin-base-w7_simmim-pre_8xb256-coslr-100e_in1k.py',
        Source(SIMMIM_REPO, _SWIN_FT.format('100ep')),
        'SimMIM paper (Xie et al., CVPR 2022)'),
    Row('SimMIM', 'Swin-B (800 ep)', 'ImageNet', 'top-1', 84.0,
        'simmim-swin-b-800e',
        C + 'simmim/swin-base-w7_simmim-pre-800e_8xb256-coslr-100e_in1k.py',
        Source(SIMMIM_REPO, _SWIN_FT.format('800ep')),
        'SimMIM paper (Xie et al., CVPR 2022)'),
    # COCO
    Row('A2MIM', 'ViT-B', 'COCO Mask R-CNN FPN 1x', 'box AP', 49.4,
        'a2mim-vit-b',
        D + 'a2mim/mask-rcnn_vit-base-p16-fpn_a2mim-pre_8xb2-1x_coco.py',
        _VIT_DET, A2MIM_PAPER),
    Row('A2MIM', 'ViT-B', 'COCO Mask R-CNN FPN 1x', 'mask AP', 43.5,
        'a2mim-vit-b',
        D + 'a2mim/mask-rcnn_vit-base-p16-fpn_a2mim-pre_8xb2-1x_coco.py',
        _VIT_DET, A2MIM_PAPER),
    Row('A2MIM', 'R50', 'COCO Mask R-CNN C4 2x', 'box AP', 39.8,
        'a2mim-r50-300e',
        D + 'a2mim/mask-rcnn_resnet50-c4_a2mim-pre_8xb2-ms-2x_coco.py', _C4,
        A2MIM_PAPER),
    Row('A2MIM', 'R50', 'COCO Mask R-CNN C4 2x', 'mask AP', 34.9,
        'a2mim-r50-300e',
        D + 'a2mim/mask-rcnn_resnet50-c4_a2mim-pre_8xb2-ms-2x_coco.py', _C4,
        A2MIM_PAPER),
    Row('A2MIM', 'ViT-B', 'COCO Mask R-CNN ViTDet (our protocol)', 'box AP',
        None, 'a2mim-vit-b', _VITDET, None, '--', 'ours'),
    Row('A2MIM', 'ViT-B', 'COCO Mask R-CNN ViTDet (our protocol)',
        'mask AP', None, 'a2mim-vit-b', _VITDET, None, '--', 'ours'),
    # ADE20K
    Row('A2MIM', 'ViT-B', 'ADE20K UperNet', 'mIoU', 49.0, 'a2mim-vit-b',
        S + 'a2mim/upernet_vit-base-p16_a2mim-pre_8xb2-amp-160k_ade20k-512x512.py',  # noqa
        _UPERNET_VIT, A2MIM_PAPER),
    Row('A2MIM', 'R50', 'ADE20K FCN-D8', 'mIoU', 38.3, 'a2mim-r50-300e',
        S + 'a2mim/fcn_resnet50-d8_a2mim-pre_8xb2-amp-160k_ade20k-512x512.py',
        _FCN, A2MIM_PAPER),
    Row('A2MIM', 'R50', 'ADE20K UperNet (our protocol)', 'mIoU', None,
        'a2mim-r50-300e', _UPERNET_R50, None, '--', 'ours'),
    # MaskDistill: no official code
    Row('MaskDistill', 'ViT-B', 'ImageNet', 'top-1', 85.5,
        'maskdistill-vit-b',
        C + 'maskdistill/vit-base-p16_maskdistill-pre_8xb128-coslr-100e_in1k.py',  # noqa
        None, 'MaskDistill paper (Peng et al., TMLR 2023), approximate',
        'paper'),
    Row('MaskDistill', 'ViT-B', 'ADE20K UperNet', 'mIoU', 53.8,
        'maskdistill-vit-b',
        S + 'maskdistill/upernet_vit-base-p16_maskdistill-pre_8xb2-amp-160k_ade20k-512x512.py',  # noqa
        None, 'MaskDistill paper (Peng et al., TMLR 2023), approximate',
        'paper'),
    # ImageNet linear probes (our protocol: MAE's for the ViT, MoCo's for
    # the pooled backbones; docs/fidelity.md)
    *[Row(m, b, 'ImageNet linear probe (our protocol)', 'top-1', None, pre,
          C + cfg, None, '--', 'ours')
      for m, b, pre, cfg in (
          ('A2MIM', 'ViT-B', 'a2mim-vit-b',
           'a2mim/vit-base-p16_a2mim-pre_8xb512-accu4-linear-coslr-90e_in1k.py'),  # noqa
          ('A2MIM', 'R50 (300 ep)', 'a2mim-r50-300e',
           'a2mim/resnet50_a2mim-pre_8xb32-linear-steplr-100e_in1k.py'),
          ('A2MIM', 'ConvNeXt-B', 'a2mim-convnext-b',
           'a2mim/convnext-base_a2mim-pre_8xb32-linear-steplr-100e_in1k.py'),  # noqa
          ('SimMIM', 'Swin-B (100 ep)', 'simmim-swin-b-100e',
           'simmim/swin-base-w7_simmim-pre_8xb32-linear-steplr-100e_in1k.py'))],  # noqa
    # the paper reports ViT-L in a table whose text could not be read here:
    # the rows and their configs are in, the values are not (never a number
    # we cannot point to)
    Row('MaskDistill', 'ViT-L', 'ImageNet', 'top-1', None,
        'maskdistill-vit-l',
        C + 'maskdistill/vit-large-p16_maskdistill-pre_8xb64-accu2-coslr-50e_in1k.py',  # noqa
        None, MASKDISTILL_UNREAD, 'paper'),
    Row('MaskDistill', 'ViT-L', 'ADE20K UperNet', 'mIoU', None,
        'maskdistill-vit-l',
        S + 'maskdistill/upernet_vit-large-p16_maskdistill-pre_8xb2-amp-160k_ade20k-512x512.py',  # noqa
        None, MASKDISTILL_UNREAD, 'paper'),
    Row('MaskDistill', 'ViT-H', 'ImageNet', 'top-1', 88.3,
        'maskdistill-vit-h',
        C + 'maskdistill/vit-huge-p14_maskdistill-pre_8xb32-accu4-coslr-50e_in1k.py',  # noqa
        None, 'MaskDistill paper (Peng et al., TMLR 2023), abstract',
        'paper'),
    Row('MaskDistill', 'ViT-H', 'ADE20K UperNet', 'mIoU', 58.8,
        'maskdistill-vit-h',
        S + 'maskdistill/upernet_vit-huge-p14_maskdistill-pre_8xb2-amp-160k_ade20k-512x512.py',  # noqa
        None, 'MaskDistill paper (Peng et al., TMLR 2023), abstract',
        'paper'),
]

#: rows the papers headline that have no config here, and why
NOT_FOLLOWED: List[Tuple[str, str]] = [
    ('A2MIM+ ViT-S 82.4, ViT-B 84.5 top-1 (ImageNet)',
     'the A2MIM paper labels them "+" (longer pre-training) but neither '
     'openmixup nor Westlake-AI/A2MIM, in any version of their configs or '
     'READMEs, has a ViT pre-training other than 800 epochs or a '
     'fine-tuning that gives these numbers (their ViT rows are 82.1-82.2 '
     'and 84.2-84.3, which are in the table): the pre-training length and '
     'the fine-tuning behind "+" cannot be followed'),
    ('A2MIM+ R50 RSB-A2 80.5 top-1 (ImageNet)',
     'openmixup\'s table has R50 300 epochs + A2 at 80.4 (in the table) and '
     'no 80.5 row, config or checkpoint; the "+" of R50 is 300 instead of '
     '100 epochs of pre-training, whose A3 row (78.9) is in the table'),
]

#: rows: method, backbone, task, metric, paper value, pre-training, config
ROWS = [tuple(row[:7]) for row in TABLE]

#: where each metric is in mmengine's scalar logs, and its scale to percent
METRIC_KEYS = {
    'top-1': ('accuracy/top1', 1.0),
    'box AP': ('coco/bbox_mAP', 100.0),
    'mask AP': ('coco/segm_mAP', 100.0),
    'mIoU': ('mIoU', 1.0),
}


def work_dir_name(config: str) -> str:
    """A job's work dir under ``work_dirs/``: its config's name."""
    return osp.splitext(osp.basename(config))[0]


def jobs() -> List[Tuple[str, str, Optional[str]]]:
    """(work dir name, config, pre-training name or None) of every distinct
    full-scale job: the pre-trainings, then the transfers of the table.

    A config is one job, however many rows read it (box and mask AP), so each
    runs once; different jobs have different configs, hence their own work
    dirs. Raises ``ValueError`` if a config would start from two different
    pre-trainings (it would run once and stand for both) or two jobs would
    share a work dir.
    """
    out: List[Tuple[str, str, Optional[str]]] = []
    source_of: Dict[str, Optional[str]] = {}
    for name, pre in PRETRAINS.items():
        if pre.config in source_of:
            raise ValueError(f'pre-training {name}: {pre.config} is already '
                             f'another stage')
        source_of[pre.config] = None
        out.append((work_dir_name(pre.config), pre.config, None))
    for row in TABLE:
        if row.pretrain not in PRETRAINS:
            raise ValueError(f'{row.config}: unknown pre-training '
                             f'{row.pretrain!r}')
        if row.config in source_of:
            if source_of[row.config] != row.pretrain:
                raise ValueError(
                    f'{row.config} starts from {source_of[row.config]} in one '
                    f'row and {row.pretrain} in another: give each its own '
                    f'config (and work dir)')
            continue
        source_of[row.config] = row.pretrain
        out.append((work_dir_name(row.config), row.config, row.pretrain))
    names = [name for name, _, _ in out]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise ValueError(f'jobs would share work dirs: {clash}')
    return out
