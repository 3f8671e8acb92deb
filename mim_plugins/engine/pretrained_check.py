"""Which weights of a module a ``Pretrained`` checkpoint really provides.

mmengine's ``Pretrained`` init loads with ``strict=False`` and only logs what
it skipped; a wrong prefix, arch or checkpoint then trains from a partly
random backbone. :func:`analyse_pretrained` dry-runs the same load on a
weightless (meta-device) copy of the module, so the module's own load hooks
(shared relative position bias expanded to every layer, position embeddings
resized) are applied exactly as in the real load, and reports which keys
load, which are missing, unexpected, or of another shape. The analysis is
:mod:`mim_plugins.checkpoints.strict_load`'s, which also verifies imported
checkpoints.
"""
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

# the one dry-run load check, shared with the checkpoint import
from ..checkpoints.strict_load import (DERIVED_KEYS, LoadReport,  # noqa: F401
                                       analyse_pretrained,
                                       load_state_dict_file)


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
