"""What the checkpoint converters share.

Every source module renames its keys to those of our backbones (mmpretrain's
``ResNet``, ``BEiTViT``, ``SwinTransformer`` and ``ConvNeXt``, which
``A2MIMResNet``, ``A2MIMViT``/``SimMIMViT``, ``SimMIMSwinTransformer`` and
``A2MIMConvNeXt``/``SimMIMConvNeXt`` extend) and of the
linear decoder (``SimMIMLinearDecoder``), and passes them to one of the
``finish_*`` functions (one module per family: :mod:`.resnet`, :mod:`.vit`,
:mod:`.swin`, :mod:`.convnext`). Those check that the weights form one
consistent backbone, recompute the derived buffers (comparing them with the
source's own, when it has them), infer the architecture from the shapes, and
prefix the keys with ``backbone.`` and ``neck.``.

Every source key ends up either carried or listed in ``dropped`` with the
reason; a key a converter does not know raises :class:`LayoutError`.
"""
import math
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

import torch

Tensor = torch.Tensor
StateDict = Mapping[str, Tensor]

#: reasons used by several sources
CLASSIFIER = 'classifier head (not part of the backbone)'
DERIVED = 'derived buffer, recomputed by the backbone'
#: our keys that only a pre-training backbone has
PRETRAIN_ONLY = ('mask_token', 'mask_gamma')
K_BIAS = ('key bias: a constant added to every key of a query; the softmax '
          'is invariant to it, so the attention is unchanged without it')


class LayoutError(ValueError):
    """A state dict that a converter cannot place, or an unknown layout."""


@dataclass
class Conversion:
    """A source checkpoint converted to our keys.

    Attributes:
        state_dict: ``backbone.*`` (and ``neck.*`` where the source has a
            linear decoder) in our names.
        source: The format name (see :data:`mim_plugins.checkpoints.FORMATS`).
        family: 'resnet', 'vit', 'swin' or 'convnext'.
        backbone: The backbone config these weights load into
            (mmpretrain type and arguments; strict load, no missing key).
        neck: The decoder config (``SimMIMLinearDecoder``) or None.
        pretrain_backbone: Where the source has a mask token: the
            pre-training backbone (ours) that loads every ``backbone.*``
            tensor, for continued pre-training; else None.
        dropped: Source keys not carried over, with the reason.
        added: Our keys that the source does not have, with the reason.
        notes: What was inferred rather than read, and other remarks.
        num_source: Number of tensors in the source state dict.
    """
    state_dict: 'OrderedDict[str, Tensor]'
    source: str
    family: str
    backbone: dict
    neck: Optional[dict] = None
    pretrain_backbone: Optional[dict] = None
    dropped: Dict[str, str] = field(default_factory=dict)
    added: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    num_source: int = 0

    def keys_under(self, prefix: str) -> List[str]:
        return [k for k in self.state_dict if k.startswith(prefix)]

    def summary(self, limit: int = 20) -> str:
        """Human-readable: source, configs, key coverage, what is left out."""
        n_bb = len(self.keys_under('backbone.'))
        n_neck = len(self.keys_under('neck.'))
        # 'key[part]' entries drop part of a tensor that is carried
        partly = sum('[' in k for k in self.dropped)
        carried = self.num_source - len(self.dropped) + partly
        lines = [
            f'source layout : {self.source} ({self.family})',
            f'backbone      : {format_cfg(self.backbone)}',
            f'neck          : {format_cfg(self.neck) if self.neck else "none (the source has no linear decoder)"}',  # noqa: E501
            f'pre-training  : {format_cfg(self.pretrain_backbone) if self.pretrain_backbone else "no mask token in the source"}',  # noqa: E501
            f'coverage      : {carried} of {self.num_source} source tensors '
            f'carried over' + (f' ({partly} in part)' if partly else '')
            + f' -> {n_bb} backbone.* + {n_neck} neck.*'
            + (f', {len(self.added)} added' if self.added else ''),
        ]
        lines += group_keys('not carried', self.dropped, limit)
        lines += group_keys('added', self.added, limit)
        lines += [f'note          : {n}' for n in self.notes]
        return '\n'.join(lines)


def format_cfg(cfg: Optional[dict]) -> str:
    if cfg is None:
        return 'None'
    args = ', '.join(f'{k}={v!r}' for k, v in cfg.items())
    return f'dict({args})'


def group_keys(title: str, reasons: Dict[str, str], limit: int) -> List[str]:
    """Keys grouped by reason, layer indices folded (``layers.*.attn...``)."""
    by_reason: Dict[str, List[str]] = {}
    for key, reason in reasons.items():
        folded = re.sub(r'\.\d+\.', '.*.', key)
        names = by_reason.setdefault(reason, [])
        if folded not in names:
            names.append(folded)
    lines = []
    for reason, names in by_reason.items():
        count = sum(1 for r in reasons.values() if r == reason)
        shown = ', '.join(names[:limit])
        more = f' ... (+{len(names) - limit})' if len(names) > limit else ''
        lines.append(f'{title:<14}: {count} x {shown}{more}\n'
                     f'{"":<16}({reason})')
    return lines


def strip_prefix(state: StateDict, prefix: str) -> 'OrderedDict[str, Tensor]':
    return OrderedDict((k[len(prefix):], v) for k, v in state.items()
                       if k.startswith(prefix))


def layer_indices(keys, pattern: str) -> List[int]:
    """Sorted distinct integers captured by ``pattern`` in ``keys``."""
    rx = re.compile(pattern)
    found = {int(m.group(1)) for k in keys for m in [rx.match(k)] if m}
    return sorted(found)


def as_token(value: Tensor, shape: Tuple[int, ...], key: str) -> Tensor:
    """A mask token / gamma reshaped to ``shape`` (same number of values)."""
    if value.numel() != math.prod(shape):
        raise LayoutError(f'{key} has shape {tuple(value.shape)}; expected '
                          f'{math.prod(shape)} values for {shape}.')
    return value.reshape(shape)


def int_sqrt(n: int) -> Optional[int]:
    r = int(round(math.sqrt(n)))
    return r if r * r == n else None


def check_derived(out: Dict[str, Tensor], key: str, expected: Tensor,
                  added: Dict[str, str]) -> None:
    """Use ``expected`` for a derived buffer; a source copy must equal it."""
    have = out.get(key)
    if have is not None and not torch.equal(have.long(), expected):
        raise LayoutError(
            f'{key}: the source\'s buffer differs from the one our backbone '
            f'computes, so its relative position tables would be read in '
            f'another order.')
    if have is None:
        added[key] = DERIVED
    out[key] = expected


def prefixed(backbone: Dict[str, Tensor], neck: Dict[str, Tensor]
             ) -> 'OrderedDict[str, Tensor]':
    out = OrderedDict((f'backbone.{k}', v) for k, v in backbone.items())
    out.update((f'neck.{k}', v) for k, v in neck.items())
    return out


def decoder_cfg(neck: Dict[str, Tensor], in_channels: int) -> Optional[dict]:
    """``SimMIMLinearDecoder`` config from ``decoder.0.weight``."""
    if not neck:
        return None
    weight = neck.get('decoder.0.weight')
    if weight is None or set(neck) != {'decoder.0.weight', 'decoder.0.bias'}:
        raise LayoutError(f'The decoder keys {sorted(neck)} are not those of '
                          f'a linear decoder (decoder.0.weight/bias).')
    out, cin = weight.shape[:2]
    stride = int_sqrt(out // 3) if out % 3 == 0 else None
    if cin != in_channels or stride is None or weight.shape[2:] != (1, 1):
        raise LayoutError(f'decoder.0.weight {tuple(weight.shape)} is not a '
                          f'1x1 conv from {in_channels} channels to '
                          f'stride^2 x 3.')
    return dict(type='SimMIMLinearDecoder', in_channels=in_channels,
                encoder_stride=stride)


#: our pre-training backbones by family and method ('a2mim': the mask token
#: is added, 'simmim': it replaces; None: not known from the checkpoint)
PRETRAIN_TYPES = {
    'resnet': {'a2mim': 'A2MIMResNet', 'simmim': 'SimMIMResNet',
               None: 'MIMResNet'},
    'vit': {'a2mim': 'A2MIMViT', 'simmim': 'SimMIMViT', None: 'MIMViT'},
    'swin': {'a2mim': 'A2MIMSwin',
             'simmim': 'SimMIMSwinTransformer',
             None: 'SimMIMSwinTransformer'},
    'convnext': {'a2mim': 'A2MIMConvNeXt', 'simmim': 'SimMIMConvNeXt',
                 None: 'MIMConvNeXt'},
}


def mask_tokens(backbone: Dict[str, Tensor], shape: Tuple[int, ...],
                cfg: dict, family: str, method: Optional[str],
                notes: List[str], **extra) -> Optional[dict]:
    """Reshape ``mask_token``/``mask_gamma`` to ours; the pre-training
    backbone config that holds them (None without a mask token)."""
    if 'mask_token' not in backbone:
        if 'mask_gamma' in backbone:
            raise LayoutError('mask_gamma without mask_token.')
        return None
    for name in ('mask_token', 'mask_gamma'):
        if name in backbone:
            backbone[name] = as_token(backbone[name], shape, name)
    if 'mask_gamma' in backbone:
        method = 'a2mim'  # the gamma exists only with the residual token
        extra['mask_init'] = 1e-6  # > 0 builds it; the value is loaded
    pretrain = dict(cfg, type=PRETRAIN_TYPES[family][method], **extra)
    if method is None and family != 'swin':
        notes.append('the checkpoint does not tell whether its mask token is '
                     'added (A2MIM, replace=False) or replaces the patch '
                     f'features (SimMIM, replace=True): set replace, or use '
                     f'{PRETRAIN_TYPES[family]["a2mim"]} / '
                     f'{PRETRAIN_TYPES[family]["simmim"]}.')
    return pretrain


def mask_stage(width: int, stage_inputs: List[int], notes: List[str]) -> int:
    """The stage whose input a CNN's mask token of ``width`` channels
    fits: stage 3 (A2MIM) if it fits there, else the first that fits."""
    fits = [i for i, c in enumerate(stage_inputs) if c == width]
    if not fits:
        raise LayoutError(f'A mask token of {width} channels fits the input '
                          f'of no stage (stage inputs {stage_inputs}).')
    stage = 3 if 3 in fits else fits[0]
    if len(fits) > 1:
        notes.append(f'the mask token fits the input of stages {fits}; '
                     f'mask_layer={stage} assumed.')
    return stage
