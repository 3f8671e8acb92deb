"""What the command-line tools and the reproduction share: building models
and runners from configs, loading checkpoints, drawing reconstructions."""
import itertools
import os
import os.path as osp
from typing import List, Union

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


#: runners built by :func:`build_runner` in this process
_RUNS = itertools.count()


def build_runner(cfg: Config):
    """An mmengine Runner from a config, as mmpretrain's ``tools/train.py``
    builds it (``runner_type`` honoured; a config without one gets
    :class:`~mim_plugins.engine.MIMRunner`). With ``compile=True`` it adds
    :class:`~mim_plugins.engine.PlainParamGroupsHook`: TorchDynamo cannot
    trace the optimizer step over mmengine's ConfigDict param groups.

    mmengine names a run's logger, message hub and visualizer (global
    instances) after its config file and the second it starts, so a second
    run of one config in one process, started within that second, would
    share them and write its scalars into the first run's work dir. From
    the second runner of a process on, a config without ``experiment_name``
    gets ``<config>_run<n>``."""
    import mim_plugins  # noqa: F401  registers our modules
    n = next(_RUNS)
    if n and cfg.get('experiment_name') is None:
        stem = osp.splitext(osp.basename(cfg.filename or 'config'))[0]
        cfg.experiment_name = f'{stem}_run{n}'
    if cfg.get('compile') and not any(
            h.get('type') == 'PlainParamGroupsHook'
            for h in cfg.get('custom_hooks', [])):
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
            dict(type='PlainParamGroupsHook')]
    if 'runner_type' not in cfg:
        from .engine import MIMRunner
        return MIMRunner.from_cfg(cfg)
    from mmengine.registry import RUNNERS
    return RUNNERS.build(cfg)


def find_mask_generator(cfg: Config) -> dict:
    """The mask generator transform of a pre-training config's pipeline."""
    for t in cfg.train_dataloader.dataset.get('pipeline', []):
        if 'MaskGenerator' in t.get('type', ''):
            return t
    return dict(input_size=224, mask_patch_size=32)


def list_images(path: str, num: int) -> List[str]:
    """``path`` itself, or ``num`` images spread over the folder ``path``
    (e.g. one per class of an ImageNet-layout folder)."""
    import numpy as np
    if osp.isfile(path):
        return [path]
    files = []
    for root, _, names in sorted(os.walk(path)):
        files += [osp.join(root, n) for n in sorted(names)
                  if n.lower().endswith(('.png', '.jpg', '.jpeg', '.bmp'))]
    if not files:
        raise FileNotFoundError(f'No images under {path}.')
    idx = np.linspace(0, len(files) - 1, num).round().astype(int)
    return [files[i] for i in idx]


def visualize_reconstruction(cfg: Union[str, Config], checkpoint: str,
                             images: str, out: str, num: int = 4,
                             seed: int = 0) -> str:
    """Save a PNG grid of original / masked input / reconstruction (and, for
    A2MIM, the frequency-domain error) of ``num`` images; returns ``out``.

    Images are resized to the mask generator's input size; the mask is drawn
    with the config's block size on the backbone's masked grid.
    """
    import numpy as np
    from PIL import Image
    from .visualization import reconstruct_batch, save_reconstruction_grid
    if isinstance(cfg, str):
        cfg = Config.fromfile(cfg)
    gen = find_mask_generator(cfg)
    size = gen['input_size']
    model = load_pretrain_model(cfg, checkpoint)
    arrays = [
        np.asarray(Image.open(f).convert('RGB').resize((size, size),
                                                       Image.BICUBIC))
        for f in list_images(images, num)
    ]
    result = reconstruct_batch(
        model, arrays, mask_patch_size=gen['mask_patch_size'], seed=seed)
    title = f'{cfg.model.type} {cfg.model.backbone.type}: ' + \
        osp.basename(checkpoint)
    save_reconstruction_grid(result, out, title=title,
                             with_frequency=cfg.model.type == 'A2MIM')
    return out


def close_distributed() -> None:
    """Wait for every rank, then tear the process group down: a process that
    exits with a live gloo group can abort in its threads' destructors
    ('terminate called without an active exception')."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
