"""The backbone to convert into, from the config the user names.

Without a config, the converters read the architecture off the weights
(:mod:`.vit`, :mod:`.swin`, ...). With one (``import_checkpoint(...,
config=PATH)``, ``--config``), the target is that config's
``model.backbone``: it is built, the number of heads comes from it, the
identity parameters it has and the source lacks (layer scales of 1, relative
position tables of 0, derived buffers) are added with its shapes, and the
converted weights must then load into it strictly (keys and shapes), with
two exceptions that depend on how the config uses the features rather than
on the trunk: output norms the config's backbone does not have (a final
``ln1`` under an ``avg_featmap`` output, ``norm0..2`` outside its
``out_indices``) are not carried, and the keys that the config's own
``PretrainedCheckHook(allow_missing=...)`` declares fresh may be missing.
"""
import re
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

import torch
import torch.nn as nn

from .common import PRETRAIN_ONLY, Conversion, LayoutError, format_cfg
from .strict_load import check_strict

#: target keys the source may lack: (pattern, how to fill, reason); the
#: filled network computes the same function
IDENTITY = (
    (r'layers\.\d+\.gamma_[12]', torch.ones_like,
     'layer scale of 1 (identity), as the config has layer scale'),
    (r'layers\.\d+\.attn\.relative_position_bias_table', torch.zeros_like,
     'relative position bias of 0 (identity), as the config has it'),
    (r'.*relative_position_index|.*num_batches_tracked', torch.clone,
     'derived buffer, from the config\'s backbone'),
)
#: output norms: whether a backbone has them depends on its out_type /
#: out_indices, not on the weights
OUTPUT_NORMS = r'(ln[12]|norm\d)\.(weight|bias)'


@dataclass
class Target:
    """The backbone a config names, built (weights random)."""
    config: str
    cfg: dict
    module: nn.Module
    allow_missing: Tuple[str, ...] = ()

    @property
    def num_heads(self) -> Optional[int]:
        """A ViT's heads (mmpretrain's ``arch_settings``), else None."""
        heads = getattr(self.module, 'arch_settings', {}).get('num_heads')
        return heads if isinstance(heads, int) else None


def _plain(cfg: Any) -> Any:
    """A config node as plain dicts, lists and tuples."""
    if hasattr(cfg, 'to_dict'):
        return cfg.to_dict()
    return cfg


def load_target(config: Any) -> Target:
    """Build ``model.backbone`` of ``config`` (a path or an mmengine
    ``Config``), without its ``init_cfg``."""
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    name = config if isinstance(config, str) else '<config>'
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    backbone = (cfg.get('model') or {}).get('backbone')
    if not backbone:
        raise LayoutError(f'{name} has no model.backbone to convert into.')
    backbone = dict(_plain(backbone))
    backbone.pop('init_cfg', None)  # the weights come from the import
    try:
        module = MODELS.build(dict(backbone))
    except Exception as err:  # a registry or argument error: say where
        raise LayoutError(f'model.backbone of {name} ({format_cfg(backbone)})'
                          f' does not build: {err}') from err
    hooks = [h for h in cfg.get('custom_hooks') or []
             if isinstance(h, dict) and h.get('type') == 'PretrainedCheckHook']
    allow = tuple(p for h in hooks for p in h.get('allow_missing') or ())
    return Target(name, backbone, module, allow)


def fit_to_target(conv: Conversion, target: Target) -> str:
    """Make ``conv`` the config's backbone: fill the identity parameters
    the config has and the weights lack, load strictly (``RuntimeError``
    naming the keys and the fix otherwise), and name the config's backbone
    in ``conv.backbone``. Returns a one-line report."""
    own: Dict[str, torch.Tensor] = target.module.state_dict()
    # a shared table is expanded to the layers by the backbone's load hook
    shared = 'backbone.rel_pos_bias.relative_position_bias_table' in \
        conv.state_dict
    for key, value in own.items():
        ours = f'backbone.{key}'
        if ours in conv.state_dict or (
                shared and key.endswith('relative_position_bias_table')):
            continue
        for pattern, fill, reason in IDENTITY:
            if re.fullmatch(pattern, key):
                conv.state_dict[ours] = fill(value)
                conv.added[ours] = reason
                break
    for ours in [k for k in conv.state_dict if k.startswith('backbone.')]:
        key = ours[len('backbone.'):]
        if key not in own and re.fullmatch(OUTPUT_NORMS, key):
            del conv.state_dict[ours]
            conv.dropped[ours] = (f'output norm that model.backbone of '
                                  f'{target.config} does not have')
    inferred = format_cfg(conv.backbone)
    fix = (f'The weights read as {inferred}: name a config whose '
           f'model.backbone has that architecture, or import without '
           f'--config and use the backbone printed.')
    check_strict(target.module, conv.state_dict, 'backbone.',
                 f'model.backbone of {target.config} '
                 f'({format_cfg(target.cfg)})', PRETRAIN_ONLY, fix,
                 target.allow_missing)
    fresh = [k for k in own if f'backbone.{k}' not in conv.state_dict]
    if fresh:
        conv.notes.append(f'{", ".join(fresh)}: not in the weights, fresh '
                          f'in the config (its PretrainedCheckHook '
                          f'allow_missing).')
    conv.backbone = target.cfg
    if 'mask_token' in own:  # a pre-training config: its backbone
        conv.pretrain_backbone = target.cfg
    conv.notes.append(f'backbone from {target.config} (read off the weights '
                      f'it would be {inferred}).')
    return f'{target.cfg["type"]} of {target.config}: all {len(own)} ' \
        f'tensors load'


__all__ = ['Target', 'fit_to_target', 'load_target']
