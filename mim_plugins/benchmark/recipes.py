"""The recipes to time: each entry's config (full size and tiny), the
references its step time is compared with and the speed targets.

Ours use our configs (tiny: our demo configs); mmpretrain's references use
mmpretrain's configs (tiny: shrunk in place by the functions below).
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config

from ..utils import mim_path, tiny


def _ours(path: str) -> str:
    return mim_path('configs', 'pretrain', path)


# tiny versions of mmpretrain's reference recipes (ours use the demo
# configs): the backbones shrunk as the demo configs' (one source of the
# shapes: mim_plugins.utils.tiny), the necks and heads to match

def _tiny_pretrain(cfg: Config) -> int:
    """The backbone and the images (and mask grid) tiny; out channels."""
    tiny.shrink_pipeline(cfg.train_dataloader.dataset.pipeline)
    return tiny.shrink_backbone(cfg.model.backbone)


def _tiny_mae(cfg: Config) -> None:
    """2-layer 64-d MAE ViT with 8-px patches, 1-layer decoder, 64 px."""
    m, patch = cfg.model, tiny.VIT_PATCH
    dims = _tiny_pretrain(cfg)
    m.neck.update(num_patches=(tiny.IMG_SIZE // patch)**2, patch_size=patch,
                  embed_dim=dims, decoder_embed_dim=dims, decoder_depth=1,
                  decoder_num_heads=tiny.arch('vit')['num_heads'])
    m.head.patch_size = patch


def _tiny_swin(cfg: Config) -> None:
    """mmpretrain's SimMIM Swin with our tiny demo's Swin (32-d, window 2)."""
    cfg.model.neck.in_channels = _tiny_pretrain(cfg)


def _tiny_spark(cfg: Config) -> None:
    """SparK on a 16-channel sparse ResNet-18 (stages 16..128), 64 px; also
    on our tiny demo's ConvNeXt (one block a stage, 16-128 channels)."""
    cfg.model.update(input_size=tiny.IMG_SIZE,
                     enc_dec_norm_dim=_tiny_pretrain(cfg))
    cfg.model.neck.feature_dim = tiny.STAGE_CHANNELS[2]


def _spark_convnext_base(cfg: Config) -> None:
    """mmpretrain's SparK ConvNeXt-S (v1) recipe on ConvNeXt-B: the base
    arch and the matching encoder-decoder widths (1024 at stride 32). An
    ``adapt`` runs after the tiny shrink too: a tiny arch (a dict) stays."""
    if isinstance(cfg.model.backbone.arch, str):
        cfg.model.backbone.arch = 'base'
        cfg.model.enc_dec_norm_dim = 1024


def _benchmark_teacher(cfg: Config) -> None:
    """MaskDistill's CLIP teacher needs converted OpenAI weights: a random
    teacher of the same architecture has the same compute."""
    cfg.model.target_generator.update(random_init=True, checkpoint=None)


@dataclass(frozen=True)
class Entry:
    """One pre-training recipe to time.

    Args:
        name: Short name (``--only``, JSON, ratios).
        algorithm: Method, for the table.
        backbone: Backbone family; entries are compared within a family.
        config: Config path or ``mmpretrain::`` name.
        source: 'ours' or 'mmpretrain'.
        tiny: For ``--tiny``, a (demo) config path or a function shrinking
            the full config in place; None: not available tiny.
        adapt: Applied to the config at both sizes (e.g. random teacher).
    """
    name: str
    algorithm: str
    backbone: str
    config: str
    source: str
    tiny: Any = None
    adapt: Optional[Callable[[Config], None]] = None


ENTRIES: Tuple[Entry, ...] = (
    Entry('a2mim_r50', 'A2MIM', 'R50',
          _ours('a2mim/a2mim_resnet50_8xb256-coslr-300e_in1k.py'), 'ours',
          tiny=_ours('a2mim/a2mim_resnet-tiny_1xb16-20i_demo.py')),
    Entry('simmim_r50', 'SimMIM', 'R50',
          _ours('simmim/simmim_resnet50_8xb256-amp-coslr-300e_in1k.py'),
          'ours', tiny=_ours('simmim/simmim_resnet-tiny_1xb16-20i_demo.py')),
    Entry('mmpt_spark_r50', 'SparK (mmpretrain)', 'R50',
          'mmpretrain::spark/spark_sparse-resnet50_8xb512-amp-coslr-800e_'
          'in1k.py', 'mmpretrain', tiny=_tiny_spark),
    Entry('a2mim_vit-b', 'A2MIM', 'ViT-B',
          _ours('a2mim/a2mim_vit-base_8xb128-accu2-step-800e_in1k.py'),
          'ours', tiny=_ours('a2mim/a2mim_vit-tiny_1xb16-20i_demo.py')),
    Entry('simmim_vit-b', 'SimMIM', 'ViT-B',
          _ours('simmim/simmim_vit-base-p16_8xb128-accu2-step-800e_in1k.py'),
          'ours', tiny=_ours('simmim/simmim_vit-tiny_1xb16-20i_demo.py')),
    Entry('maskdistill_vit-b', 'MaskDistill', 'ViT-B',
          _ours('maskdistill/maskdistill_vit-base-p16_8xb256-coslr-300e_'
                'in1k.py'), 'ours',
          tiny=_ours('maskdistill/maskdistill_vit-tiny_1xb16-20i_demo.py'),
          adapt=_benchmark_teacher),
    Entry('mmpt_mae_vit-b', 'MAE (mmpretrain)', 'ViT-B',
          'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py',
          'mmpretrain', tiny=_tiny_mae),
    Entry('simmim_swin-b', 'SimMIM', 'Swin-B',
          _ours('simmim/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-'
                '192px.py'), 'ours',
          tiny=_ours('simmim/simmim_swin-tiny_1xb16-20i_demo.py')),
    Entry('mmpt_simmim_swin-b', 'SimMIM (mmpretrain)', 'Swin-B',
          'mmpretrain::simmim/simmim_swin-base-w6_8xb256-amp-coslr-100e_'
          'in1k-192px.py', 'mmpretrain', tiny=_tiny_swin),
    Entry('a2mim_swin-b', 'A2MIM', 'Swin-B',
          _ours('a2mim/a2mim_swin-base-w6_8xb128-accu2-coslr-100e_in1k-'
                '192px.py'), 'ours',
          tiny=_ours('a2mim/a2mim_swin-tiny_1xb16-20i_demo.py')),
    Entry('a2mim_convnext-b', 'A2MIM', 'ConvNeXt-B',
          _ours('a2mim/a2mim_convnext-base_8xb256-amp-coslr-300e_in1k.py'),
          'ours', tiny=_ours('a2mim/a2mim_convnext-tiny_1xb16-20i_demo.py')),
    Entry('simmim_convnext-b', 'SimMIM', 'ConvNeXt-B',
          _ours('simmim/simmim_convnext-base_8xb256-amp-coslr-300e_in1k.py'),
          'ours',
          tiny=_ours('simmim/simmim_convnext-tiny_1xb16-20i_demo.py')),
    Entry('mmpt_spark_convnext-b', 'SparK (mmpretrain)', 'ConvNeXt-B',
          'mmpretrain::spark/spark_sparse-convnext-small_16xb256-amp-coslr-'
          '800e_in1k.py', 'mmpretrain', tiny=_tiny_spark,
          adapt=_spark_convnext_base),
)
ENTRY_BY_NAME = {e.name: e for e in ENTRIES}

#: the references every entry of a backbone is compared with (step-time
#: ratio entry / reference), first the one of a speed target
REFERENCES: Dict[str, Tuple[str, ...]] = {
    'R50': ('simmim_r50', 'mmpt_spark_r50'),
    'ViT-B': ('simmim_vit-b', 'mmpt_mae_vit-b'),
    'Swin-B': ('mmpt_simmim_swin-b', ),
    'ConvNeXt-B': ('mmpt_spark_convnext-b', ),
}

#: speed targets: (entry, reference, largest step-time ratio)
TARGETS: Tuple[Tuple[str, str, float], ...] = (
    ('a2mim_r50', 'simmim_r50', 1.05),
    ('a2mim_vit-b', 'simmim_vit-b', 1.05),
)


def load_config(entry: Entry, tiny: bool = False) -> Config:
    """The entry's config (its tiny version with ``tiny``)."""
    if tiny:
        if entry.tiny is None:
            raise ValueError(f'{entry.name} has no tiny version')
        if isinstance(entry.tiny, str):
            cfg = _fromfile(entry.tiny)
        else:
            cfg = _fromfile(entry.config)
            entry.tiny(cfg)
    else:
        cfg = _fromfile(entry.config)
    if entry.adapt is not None:
        entry.adapt(cfg)
    return cfg


def _fromfile(path: str) -> Config:
    if '::' in path:  # a config of an installed package, e.g. mmpretrain::
        from mmengine.hub import get_config
        return get_config(path)
    return Config.fromfile(path)


def select_entries(names: Optional[Sequence[str]] = None,
                   tiny: bool = False) -> Tuple[List[Entry], List[str]]:
    """Entries to run (``names`` in :data:`ENTRIES` order) and notes on
    those left out."""
    if names:
        unknown = [n for n in names if n not in ENTRY_BY_NAME]
        if unknown:
            raise ValueError(f'Unknown entries {unknown}; choose from '
                             f'{[e.name for e in ENTRIES]}')
    chosen = [e for e in ENTRIES if not names or e.name in names]
    notes = []
    if tiny:
        for e in [e for e in chosen if e.tiny is None]:
            notes.append(f'{e.name}: no tiny version, skipped')
        chosen = [e for e in chosen if e.tiny is not None]
    return chosen, notes
