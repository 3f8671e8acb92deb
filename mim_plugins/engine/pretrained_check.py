"""Which weights of a module a ``Pretrained`` checkpoint really provides.

mmengine's ``Pretrained`` init loads with ``strict=False`` and only logs what
it skipped; a wrong prefix, arch or checkpoint then trains from a partly
random backbone. :func:`analyse_pretrained` dry-runs the same load on a
weightless (meta-device) copy of the module, so the module's own load hooks
(shared relative position bias expanded to every layer, position embeddings
resized) are applied exactly as in the real load, and reports which keys
load, which are missing, unexpected, or of another shape.
"""
import copy
import os
import os.path as osp
import re
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

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


def pretrained_inits(model: nn.Module) -> List[Tuple[str, nn.Module, dict]]:
    """(name, module, init_cfg) of every submodule with a ``Pretrained`` init."""
    found = []
    for name, m in model.named_modules():
        cfgs = getattr(m, 'init_cfg', None)
        cfgs = cfgs if isinstance(cfgs, (list, tuple)) else [cfgs]
        for cfg in cfgs:
            if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
                found.append((name, m, cfg))
    return found


#: mmengine's ``{{$VAR:default}}`` substitution in config files
ENV_DEFAULT = re.compile(r'\{\{[\'\"]?\s*\$(\w+)\s*\:\s*(\S*?)\s*[\'\"]?\}\}')


def _source(path: str, values: dict) -> Optional[str]:
    """The variable among ``{VAR: value}`` that ``path`` is (or starts
    with as a directory), or None."""
    return next((var for var, value in values.items() if value and (
        path == value or path.startswith(value.rstrip('/') + '/'))), None)


def missing_checkpoint(ckpt: str, cfg=None, label: str = 'model',
                       command: str = 'python tools/train.py CONFIG',
                       alternative: str = 'or set '
                       'model.backbone.init_cfg.checkpoint') -> Optional[str]:
    """The message for a pre-trained checkpoint path that is not a file,
    else None.

    A path of the config ``cfg`` (None: given on the command line) that is
    the ``{{$VAR:default}}`` of an unset variable (in the config or its
    bases) names the variable and how to set it (``VAR=PATH command``).
    """
    if not ckpt or '://' in ckpt or osp.isfile(ckpt):
        return None
    if cfg is None:
        return f'{label}: pre-trained checkpoint {ckpt} does not exist.'
    unset = {var: default
             for var, default in ENV_DEFAULT.findall(cfg.text or '')
             if var not in os.environ}
    var = _source(ckpt, unset)
    if var is not None:
        return (f'{label}: the config takes its pre-trained checkpoint from '
                f'the environment variable {var}, which is not set, and its '
                f'default {ckpt} does not exist. Set it: {var}=PATH '
                f'{command} ({alternative}).')
    var = _source(ckpt, getattr(cfg, 'env_variables', {}) or {})
    where = f' (the value of {var})' if var else ''
    return f'{label}: pre-trained checkpoint {ckpt}{where} does not exist.'


def check_pretrained(model: nn.Module,
                     allow_missing: Sequence[str] = (),
                     reports: Optional[dict] = None,
                     config=None) -> Dict[str, LoadReport]:
    """Raise ``RuntimeError`` if a ``Pretrained`` init would leave weights of
    its module random; return the reports otherwise. ``config``: the config
    the model was built from, to name an unset environment variable whose
    default checkpoint does not exist."""
    reports = {} if reports is None else reports
    for name, module, cfg in pretrained_inits(model):
        ckpt = cfg.get('checkpoint')
        label = name or type(model).__name__
        if not ckpt:
            raise RuntimeError(
                f'{label}: init_cfg Pretrained has no checkpoint; set the '
                f'pre-trained checkpoint (e.g. --cfg-options '
                f'model.{name}.init_cfg.checkpoint=PATH or the config\'s '
                f'environment variable).')
        missing = missing_checkpoint(ckpt, config, label)
        if missing:
            raise FileNotFoundError(missing)
        report = analyse_pretrained(module, ckpt, cfg.get('prefix', ''))
        bad = report.problems(allow_missing)
        if bad:
            raise RuntimeError(
                f'{label}: {len(bad)} of {len(module.state_dict())} weights '
                f'would not come from the checkpoint; refusing a partial '
                f'load.\n{report.format(label)}\nFix the prefix, the arch or '
                f'the checkpoint; see tools/check_pretrained.py.')
        reports[name] = report
    return reports


def check_loaded_values(model: nn.Module,
                        reports: Dict[str, LoadReport]) -> None:
    """Raise if a weight differs from the checkpoint after initialisation
    (a later ``init_weights`` overwrote it)."""
    modules = dict(model.named_modules())
    for name, report in reports.items():
        own = modules[name].state_dict()
        changed = [k for k, v in report.state.items()
                   if not torch.equal(own[k].detach().cpu(), v.to(own[k].dtype))]
        if changed:
            raise RuntimeError(
                f'{name or type(model).__name__}: {len(changed)} weights '
                f'differ from {report.checkpoint} right after '
                f'initialisation (re-initialised after loading?): '
                f'{changed[:10]}')
