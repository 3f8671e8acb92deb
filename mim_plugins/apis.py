"""Small helpers to build models from configs and load checkpoints."""
import os.path as osp
from typing import Union

from mmengine.config import Config
from mmengine.runner import load_checkpoint


def build_model_from_cfg(cfg: Union[str, Config]):
    """Build ``cfg.model`` in the config's default scope (mmpretrain, mmdet
    or mmseg), with its data preprocessor merged in as the Runner does."""
    import mim_plugins  # noqa: F401  registers our modules
    from mmengine.registry import MODELS, init_default_scope
    if isinstance(cfg, str):
        cfg = Config.fromfile(cfg)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    return MODELS.build(model_cfg)


def load_pretrain_model(cfg: Union[str, Config], checkpoint: str,
                        device: str = 'cpu'):
    """Build a pre-training model and load all of its weights strictly."""
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'Checkpoint {checkpoint} does not exist.')
    model = build_model_from_cfg(cfg)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.to(device).eval()
