"""Dry-run loading a state dict into a module: the one strict-load check.

:func:`analyse_pretrained` loads (keys under a prefix) into a weightless
(meta-device) copy of the module, so the module's own load hooks (shared
relative position bias expanded to every layer, position embeddings resized)
are applied exactly as in a real load, and reports which keys load, which are
missing, unexpected, or of another shape. :func:`check_strict` raises unless
every tensor loads and none is left over. Both the runner's ``Pretrained``
check (:mod:`mim_plugins.engine.pretrained_check`,
``tools/check_pretrained.py``) and the checkpoint import
(:func:`mim_plugins.checkpoints.verify_conversion`, ``--config``) use them.
"""
import copy
import re
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple, Union

import torch
import torch.nn as nn

#: buffers that modules compute from their own configuration
DERIVED_KEYS = (r'relative_position_index$', r'num_batches_tracked$')


@dataclass
class LoadReport:
    """Result of :func:`analyse_pretrained`."""
    checkpoint: str
    prefix: str
    loaded: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    mismatched: List[Tuple[str, tuple, tuple]] = field(default_factory=list)
    prefixes: Dict[str, int] = field(default_factory=dict)
    state: Dict[str, torch.Tensor] = field(default_factory=dict, repr=False)

    def problems(self, allow_missing: Sequence[str] = ()) -> List[str]:
        """Keys that did not load, less the derived buffers and the allowed."""
        patterns = [re.compile(p) for p in (*DERIVED_KEYS, *allow_missing)]
        bad = [k for k in self.missing + [m[0] for m in self.mismatched]
               if not any(p.search(k) for p in patterns)]
        return sorted(bad)

    def format(self, name: str = 'backbone', limit: int = 10) -> str:
        """A human-readable summary."""
        def show(keys):
            keys = list(keys)
            more = f' ... (+{len(keys) - limit})' if len(keys) > limit else ''
            return ', '.join(map(str, keys[:limit])) + more
        lines = [
            f'{name} <- {self.checkpoint} (prefix {self.prefix!r}):',
            f'  loaded     {len(self.loaded)}',
            f'  missing    {len(self.missing)}: {show(self.missing)}',
            f'  unexpected {len(self.unexpected)}: {show(self.unexpected)}',
            f'  shape      {len(self.mismatched)}: ' + show(
                f'{k} {tuple(a)} in checkpoint vs {tuple(b)} in model'
                for k, a, b in self.mismatched),
        ]
        if self.prefixes:
            lines.append('  top-level key prefixes in the checkpoint: ' +
                         show(f'{p!r} ({n})' for p, n in self.prefixes.items()))
        return '\n'.join(lines)


def load_state_dict_file(checkpoint: str) -> 'OrderedDict[str, torch.Tensor]':
    """The state dict of a checkpoint file or URL (``state_dict`` unwrapped)."""
    from mmengine.runner.checkpoint import CheckpointLoader
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    if isinstance(ckpt, dict) and 'state_dict' in ckpt:
        ckpt = ckpt['state_dict']
    return OrderedDict(ckpt)


def _meta_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` whose tensors live on the meta device."""
    memo = {}
    for t in list(module.parameters()) + list(module.buffers()):
        meta = torch.empty_like(t, device='meta')
        memo[id(t)] = nn.Parameter(meta, t.requires_grad) \
            if isinstance(t, nn.Parameter) else meta
    return copy.deepcopy(module, memo)


def _prefix_counts(state: Dict[str, torch.Tensor]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for key in state:
        head = key.split('.', 1)[0] + '.' if '.' in key else key
        counts[head] = counts.get(head, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def analyse_pretrained(module: nn.Module,
                       checkpoint: Union[str, Dict[str, torch.Tensor]],
                       prefix: str = '') -> LoadReport:
    """Dry-run loading ``checkpoint`` (keys under ``prefix``) into ``module``."""
    name = checkpoint if isinstance(checkpoint, str) else '<state dict>'
    full = load_state_dict_file(checkpoint) if isinstance(checkpoint, str) \
        else OrderedDict(checkpoint)
    if prefix and not prefix.endswith('.'):
        prefix += '.'
    state = OrderedDict((k[len(prefix):], v) for k, v in full.items()
                        if k.startswith(prefix))
    report = LoadReport(checkpoint=name, prefix=prefix)
    if not state:
        report.missing = sorted(module.state_dict())
        report.prefixes = _prefix_counts(full)
        return report
    shadow = _meta_copy(module)
    missing: List[str] = []
    unexpected: List[str] = []
    errors: List[str] = []

    def load(m: nn.Module, pre: str = '') -> None:
        m._load_from_state_dict(state, pre, {}, True, missing, unexpected,
                                errors)
        for child_name, child in m._modules.items():
            if child is not None:
                load(child, pre + child_name + '.')

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')  # copies into meta tensors are no-ops
        load(shadow)
    own = shadow.state_dict()
    mismatched = [(k, tuple(state[k].shape), tuple(v.shape))
                  for k, v in own.items()
                  if k in state and tuple(state[k].shape) != tuple(v.shape)]
    bad = set(missing) | {m[0] for m in mismatched}
    report.loaded = [k for k in own if k not in bad]
    report.missing = sorted(missing)
    report.unexpected = sorted(unexpected)
    report.mismatched = mismatched
    report.state = OrderedDict((k, state[k]) for k in report.loaded)
    if report.problems():
        report.prefixes = _prefix_counts(full)
    return report


def check_strict(module: nn.Module, state: Dict[str, torch.Tensor],
                 prefix: str, label: str,
                 ignore_unexpected: Sequence[str] = (),
                 fix: str = '', allow_missing: Sequence[str] = ()
                 ) -> LoadReport:
    """:func:`analyse_pretrained`, and ``RuntimeError`` unless every tensor of
    ``module`` loads from ``state`` (keys under ``prefix``) with its shape
    (but the regexes ``allow_missing``) and no key is left over (but
    ``ignore_unexpected``, exact keys). ``label`` names the module in the
    message, ``fix`` says what to do."""
    report = analyse_pretrained(module, state, prefix)
    allowed = [re.compile(p) for p in allow_missing]
    missing = [k for k in report.missing
               if not any(p.search(k) for p in allowed)]
    unexpected = [k for k in report.unexpected if k not in ignore_unexpected]
    if missing or unexpected or report.mismatched:
        shapes = [f'{k} {a} in the weights vs {b} in the model'
                  for k, a, b in report.mismatched]
        raise RuntimeError(
            f'{label} does not load the converted weights strictly: '
            f'missing {missing[:10]}, unexpected {unexpected[:10]}'
            f', shape {shapes[:10]}.' + (f' {fix}' if fix else ''))
    return report


__all__ = ['DERIVED_KEYS', 'LoadReport', 'analyse_pretrained', 'check_strict',
           'load_state_dict_file']
