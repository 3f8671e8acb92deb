"""The benchmark's options (precision, backbone flags) applied to a config."""
import inspect
from typing import Any, Dict

from mmengine.config import Config


def _accepts(type_name: str, arg: str) -> bool:
    """Whether the registered class ``type_name`` takes ``arg`` in its
    constructor (following ``**kwargs`` up the class hierarchy)."""
    from mmpretrain.registry import MODELS
    cls = MODELS.get(type_name)
    if cls is None:
        return False
    for klass in inspect.getmro(cls):
        if '__init__' not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters
        if arg in params:
            return True
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return False
    return False


def configure(cfg: Config, precision: str, channels_last: bool = False,
              sdpa: bool = True, with_cp: bool = False) -> Dict[str, Any]:
    """Apply the benchmark options to ``cfg`` in place; what was done.

    The optimizer wrapper becomes an ``OptimWrapper`` (fp32) or an
    ``AmpOptimWrapper`` of ``precision``, one update per step (no gradient
    accumulation); the backbone options are set only where the backbone's
    constructor takes them, the others are listed as skipped.
    """
    ow = cfg.optim_wrapper
    info = dict(config_optim_wrapper=ow.get('type', 'OptimWrapper'),
                config_accumulative_counts=ow.get('accumulative_counts', 1))
    ow['accumulative_counts'] = 1
    if precision == 'fp32':
        ow['type'] = 'OptimWrapper'
        for key in ('loss_scale', 'dtype', 'use_fsdp'):
            ow.pop(key, None)
    else:
        ow['type'] = 'AmpOptimWrapper'
        ow['dtype'] = 'bfloat16' if precision == 'bf16' else 'float16'
        ow['loss_scale'] = 'dynamic'  # as mmengine's --amp
    backbone = cfg.model.backbone
    wanted = {}
    if channels_last:
        wanted['channels_last'] = True
    if not sdpa:
        wanted['use_sdpa'] = False
    if with_cp:
        wanted['with_cp'] = True
    applied, skipped = {}, []
    for key, value in wanted.items():
        if _accepts(backbone['type'], key):
            backbone[key] = value
            applied[key] = value
        else:
            skipped.append(key)
    info.update(backbone_options=applied, skipped_options=skipped)
    return info
