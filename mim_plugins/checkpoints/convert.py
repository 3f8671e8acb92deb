"""Detect a checkpoint's layout, convert it, read and write the files."""
import argparse
import os
import os.path as osp
import pickle
import types
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import torch

from . import (from_mae, from_mmpretrain, from_openmixup, from_simmim,
               from_timm, from_torchvision)
from .common import PRETRAIN_ONLY, Conversion, LayoutError, format_cfg
from .fileformat import (checkpoint_format, is_whole_pickle, reason,
                         refused_object, unreadable)
from .strict_load import check_strict
from .target import fit_to_target, load_target

#: the source layouts, in the order a match is named when several agree
SOURCES = (from_mmpretrain, from_openmixup, from_simmim, from_mae, from_timm,
           from_torchvision)
FORMATS = {m.NAME: m for m in SOURCES}


def known_formats() -> str:
    return '\n'.join(f'  {m.NAME:<12} {m.SUMMARY}' for m in SOURCES)


def _unwrap(ckpt: Any) -> Dict[str, torch.Tensor]:
    """The state dict inside a checkpoint (``state_dict``/``model``/...)."""
    for key in ('state_dict', 'model', 'module'):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            return ckpt[key]
    if isinstance(ckpt, dict):
        return ckpt
    raise LayoutError(f'A checkpoint of type {type(ckpt).__name__} holds no '
                      f'state dict.')


def _tensors(state: Dict[str, Any]) -> Dict[str, torch.Tensor]:
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise LayoutError(f'Not a state dict: {bad[:5]} are not tensors.')
    return state


def _same(a: Conversion, b: Conversion) -> bool:
    return list(a.state_dict) == list(b.state_dict) and all(
        torch.equal(a.state_dict[k], b.state_dict[k]) for k in a.state_dict)


def _top_prefixes(state: Dict[str, Any], limit: int = 8) -> str:
    counts: Dict[str, int] = {}
    for key in state:
        head = key.split('.', 1)[0]
        counts[head] = counts.get(head, 0) + 1
    return ', '.join(f'{k} ({n})' for k, n in list(counts.items())[:limit])


def convert_checkpoint(ckpt: Any, format: Optional[str] = None,
                       num_heads: Optional[int] = None,
                       fill_identity: bool = False) -> Conversion:
    """Convert a loaded checkpoint (a state dict or its container).

    Args:
        ckpt: What ``torch.load`` returned.
        format: One of :data:`FORMATS`; detected from the keys if None.
        num_heads: A ViT's heads, where the weights do not record them.
        fill_identity: For a ViT without layer scale / relative position
            bias, add identity ones so the weights also load into those
            backbones (see :func:`.vit.finish_vit`).

    Raises:
        LayoutError: Unknown format, no layout matches, or several match
            and convert differently (ambiguous).
    """
    options = dict(num_heads=num_heads, fill_identity=fill_identity)
    if format is not None:
        if format not in FORMATS:
            raise LayoutError(f'Unknown format {format!r}; known:\n'
                              f'{known_formats()}')
        module = FORMATS[format]
        state = module.detect(ckpt)
        state = _tensors(state if state is not None else _unwrap(ckpt))
        try:
            return module.convert(state, **options)
        except (KeyError, IndexError, RuntimeError) as err:
            raise LayoutError(f'Not a {format} checkpoint: '
                              f'{type(err).__name__}: {err}') from err
    found: List[Conversion] = []
    failed: Dict[str, str] = {}
    for module in SOURCES:
        state = module.detect(ckpt)
        if state is None:
            continue
        try:
            found.append(module.convert(_tensors(state), **options))
        except (LayoutError, KeyError, IndexError, RuntimeError) as err:
            # KeyError & co: an expected key or shape is missing
            failed[module.NAME] = f'{type(err).__name__}: {err}' \
                if not isinstance(err, LayoutError) else str(err)
    if not found:
        why = ''.join(f'\n  looks like {n}, but: {e}'
                      for n, e in failed.items())
        try:
            keys = _top_prefixes(_unwrap(ckpt))
        except LayoutError:
            keys = '?'
        raise LayoutError(
            f'Unknown checkpoint layout (top-level keys: {keys}).{why}\n'
            f'Known layouts (force one with --format NAME):\n'
            f'{known_formats()}')
    first = found[0]
    differ = [c.source for c in found[1:] if not _same(first, c)]
    if differ:
        raise LayoutError(
            f'Ambiguous checkpoint layout: it reads as '
            f'{", ".join([first.source] + differ)}, which convert it '
            f'differently. Choose one with --format NAME; known:\n'
            f'{known_formats()}')
    same = [c.source for c in found[1:]]
    if same:
        first.notes.insert(0, f'the same keys also read as '
                              f'{", ".join(same)}, with the same result.')
    return first


def _tolerant_pickle():
    """A pickle module whose unpickler stands in a plain object for classes
    that cannot be imported (e.g. a yacs ``CfgNode`` of a training config)."""

    class Missing(dict):
        def __setstate__(self, state):
            self['__state__'] = state

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            try:
                return super().find_class(module, name)
            except (ImportError, AttributeError):
                return type(name, (Missing, ), {'__module__': module})

    module = types.ModuleType('tolerant_pickle')
    module.Unpickler, module.load = Unpickler, pickle.load
    return module


def load_source(path: str, allow_pickle: bool = False) -> Any:
    """Read a checkpoint file: torch.save's zip or legacy pickle, or
    safetensors (told apart by the first bytes, not the extension).

    Loads with ``torch.load(weights_only=True)``, which also reads the
    ``argparse.Namespace`` of MAE's checkpoints. Files holding other Python
    objects (microsoft/SimMIM's training config) need ``allow_pickle``:
    only for files you trust. A file that is empty, text, another format or
    damaged is a :class:`NotACheckpointError` that says so, whatever
    ``allow_pickle``, and nothing of it is unpickled.
    """
    fmt = checkpoint_format(path)
    try:
        if fmt == 'safetensors':
            from safetensors.torch import load_file
            return load_file(path, device='cpu')
        # a file object: recent torch reads a '.safetensors' path as such
        with open(path, 'rb') as f:
            if allow_pickle:
                return torch.load(f, map_location='cpu', weights_only=False,
                                  pickle_module=_tolerant_pickle())
            with torch.serialization.safe_globals([argparse.Namespace]):
                return torch.load(f, map_location='cpu', weights_only=True)
    except Exception as err:  # any reader's failure: say which file
        error = _load_error(path, fmt, err, allow_pickle)
        if error is None:
            raise
        raise error from None


def _load_error(path: str, fmt: str, err: Exception,
                allow_pickle: bool) -> Optional[LayoutError]:
    """Why ``path`` did not load: the safe loader refused a whole pickle
    (then ``allow_pickle`` would read it), or the file is damaged; None
    where a whole pickle's own objects failed under ``allow_pickle``."""
    whole = fmt != 'safetensors' and is_whole_pickle(path, fmt)
    if allow_pickle and whole and not isinstance(err, (EOFError,
                                                       RuntimeError)):
        return None
    if allow_pickle or not whole or not isinstance(err,
                                                   pickle.UnpicklingError):
        return unreadable(path, fmt, err)
    name = refused_object(err)
    if name is None:  # e.g. a pickle protocol it does not parse
        return LayoutError(
            f'{path} is a pickle that the safe loader cannot read '
            f'({reason(err)}). If you trust the file, read it with '
            f'allow_pickle=True (--allow-pickle).')
    what = f' ({name})' if name else ''
    return LayoutError(
        f'{path} holds Python objects other than tensors{what}, which the '
        f'safe loader refuses. If you trust the file, allow them with '
        f'allow_pickle=True (--allow-pickle).')


def save_checkpoint(conv: Conversion, dst: str, src: str = '') -> str:
    """Write ``conv`` as an mmengine checkpoint: ``{'meta', 'state_dict'}``."""
    meta = dict(mim_plugins_import=dict(
        source=osp.abspath(src) if src else '', layout=conv.source,
        family=conv.family, backbone=conv.backbone, neck=conv.neck,
        dropped=dict(conv.dropped), added=dict(conv.added)))
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    torch.save(dict(meta=meta, state_dict=conv.state_dict), dst)
    return dst


def verify_conversion(conv: Conversion, backbone: bool = True) -> str:
    """Build the backbone (and decoder) that ``conv`` names and load its
    weights strictly (:func:`.strict_load.check_strict`): every parameter
    and buffer from the file, no key left over. Returns a one-line report;
    raises ``RuntimeError``. ``backbone=False``: the decoder only (the
    backbone was checked against a config)."""
    import mmpretrain.models  # noqa: F401  (registers the backbones)
    from mmpretrain.registry import MODELS
    lines = []
    parts = []
    if backbone:
        parts.append(('backbone', conv.backbone, PRETRAIN_ONLY))
    if backbone and conv.pretrain_backbone is not None:
        parts.append(('backbone', conv.pretrain_backbone, ()))
    if conv.neck is not None:
        parts.append(('neck', conv.neck, ()))
    for name, cfg, pretrain_only in parts:
        module = MODELS.build(dict(cfg))
        report = check_strict(module, conv.state_dict, f'{name}.',
                              f'{name} {format_cfg(cfg)}', pretrain_only)
        skipped = set(report.unexpected) & set(pretrain_only)
        n = len(module.state_dict())
        lines.append(f'{cfg["type"]}: all {n} tensors load'
                     + (' (mask token: pre-training only)' if skipped
                        else ''))
    return '; '.join(lines)


@dataclass
class ImportResult:
    """What :func:`import_checkpoint` wrote."""
    path: str
    conversion: Conversion
    verified: str = ''

    @property
    def format(self) -> str:
        return self.conversion.source

    def summary(self) -> str:
        lines = [self.conversion.summary()]
        if self.verified:
            lines.append(f'verified      : {self.verified}')
        lines.append(f'saved         : {self.path}')
        return '\n'.join(lines)


def import_checkpoint(src: str, dst: Optional[str] = None,
                      format: Optional[str] = None,
                      num_heads: Optional[int] = None,
                      fill_identity: bool = False,
                      allow_pickle: bool = False,
                      verify: bool = True,
                      config: Optional[Any] = None) -> ImportResult:
    """Convert a published checkpoint file into an mmengine checkpoint.

    The result holds ``backbone.*`` (and ``neck.*`` where the source has a
    linear decoder): use it with ``init_cfg=dict(type='Pretrained',
    checkpoint=PATH, prefix='backbone.')`` downstream, or as ``load_from``
    of a pre-training config to continue pre-training.

    Args:
        src: The published checkpoint.
        dst: Output path; defaults to ``<src without extension>_mim.pth``.
        format, num_heads, fill_identity: See :func:`convert_checkpoint`.
        allow_pickle: Let the loader build the Python objects that some
            checkpoints hold besides tensors (trusted files only).
        verify: Build the backbone (and decoder) the result names and load
            it strictly before writing.
        config: A config (path or mmengine ``Config``; downstream or
            pre-training) whose ``model.backbone`` is the target: it gives
            the number of heads and the identity parameters to add (layer
            scales, relative position tables; no ``fill_identity`` needed),
            the result must load into it strictly (else ``RuntimeError``
            naming the keys), and it is the backbone the result names.

    Returns:
        ImportResult: ``path``, ``format`` (the detected layout) and the
        :class:`Conversion` (configs, coverage).
    """
    target = load_target(config) if config is not None else None
    if target is not None and num_heads is None:
        num_heads = target.num_heads
    ckpt = load_source(src, allow_pickle=allow_pickle)
    conv = convert_checkpoint(ckpt, format=format, num_heads=num_heads,
                              fill_identity=fill_identity)
    checked = [fit_to_target(conv, target)] if target is not None else []
    if verify:
        checked.append(verify_conversion(conv, backbone=target is None))
    verified = '; '.join(c for c in checked if c)
    if dst is None:
        dst = osp.splitext(src)[0] + '_mim.pth'
    return ImportResult(save_checkpoint(conv, dst, src), conv, verified)


__all__ = ['FORMATS', 'SOURCES', 'ImportResult', 'convert_checkpoint',
           'import_checkpoint', 'load_source', 'save_checkpoint',
           'verify_conversion']
