"""Config mistakes caught before anything is built: top-level keys nothing
reads, and an image size that the backbone or the mask grid cannot take."""
import difflib
import inspect
import warnings
from typing import List, Optional, Tuple

#: top-level keys that OpenMMLab 2.x tools read besides the Runner arguments
_READ_KEYS = {
    '_base_', 'custom_imports', 'default_scope', 'runner_type', 'launcher',
    'work_dir', 'resume', 'load_from', 'resume_lr_factor', 'compile',
    'strategy', 'find_unused_parameters', 'activation_checkpointing',
    'efficient_conv_bn_eval', 'model_wrapper_cfg', 'gpu_ids', 'tta_model',
    'tta_pipeline', 'vis_backends', 'visualizer', 'data_preprocessor',
    'train_pipeline', 'test_pipeline', 'val_pipeline', 'dataset_type',
    'data_root', 'backend_args', 'file_client_args', 'metainfo',
}

#: mmcv 1.x keys (openmixup, mmpretrain 0.x, mmdet 2.x) that mmengine
#: ignores, and what replaced them
_MMCV1_KEYS = {
    'optimizer_config': 'optim_wrapper (clip_grad, accumulative_counts)',
    'lr_config': 'param_scheduler',
    'momentum_config': 'param_scheduler',
    'runner': 'train_cfg',
    'total_epochs': 'train_cfg.max_epochs',
    'checkpoint_config': 'default_hooks.checkpoint',
    'log_config': 'default_hooks.logger',
    'evaluation': 'val_cfg, val_evaluator and train_cfg.val_interval',
    'workflow': 'train_cfg',
    'dist_params': 'env_cfg.dist_cfg',
    'fp16': "optim_wrapper.type='AmpOptimWrapper'",
}


def _runner_keys() -> set:
    from mmengine.runner import Runner
    return set(inspect.signature(Runner.__init__).parameters) - {'self'}


def unread_keys(cfg) -> List[str]:
    """Warnings for top-level keys that look like a misspelled or mmcv-1.x
    key (variables such as ``data_root`` or ``train_pipeline`` are fine)."""
    known = _runner_keys() | _READ_KEYS
    found = []
    for key in cfg.keys():
        if key in known:
            continue
        if key in _MMCV1_KEYS:
            found.append(f"top-level key '{key}' is an mmcv 1.x setting that "
                         f'nothing reads in OpenMMLab 2.x: use '
                         f'{_MMCV1_KEYS[key]}')
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1,
                                          cutoff=0.8)
        if close:
            found.append(f"top-level key '{key}' is read by nothing: did you "
                         f"mean '{close[0]}'?")
    if 'optimizer' in cfg and 'optim_wrapper' not in cfg:
        found.append("top-level key 'optimizer' is read by nothing in "
                     'OpenMMLab 2.x: put it in optim_wrapper.optimizer')
    return found


def _size(value) -> Optional[Tuple[int, int]]:
    """An (h, w) size from an int or a pair (mmcv's (w, h) order is square
    in every pipeline this is used on)."""
    if isinstance(value, int):
        return value, value
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, int) for v in value):
        return int(value[1]), int(value[0])
    return None


def _train_pipeline(cfg) -> list:
    dataset = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    while 'pipeline' not in dataset and isinstance(dataset.get('dataset'),
                                                   dict):
        dataset = dataset['dataset']  # RepeatDataset and friends
    return list(dataset.get('pipeline') or [])


def pipeline_output_size(pipeline: list) -> Tuple[Optional[Tuple[int, int]],
                                                  Optional[str]]:
    """The fixed (h, w) the transforms crop or resize every image to, and
    the transform that sets it; ``None`` where the size varies."""
    size, where = None, None
    for i, t in enumerate(pipeline):
        kind = t.get('type', '')
        kind = kind.split('.')[-1] if isinstance(kind, str) else ''
        if kind == 'RandomResizedCrop':
            size, where = _size(t.get('scale', t.get('size'))), \
                f'pipeline[{i}] RandomResizedCrop scale={t.get("scale")}'
        elif kind == 'CenterCrop':
            size, where = _size(t.get('crop_size')), \
                f'pipeline[{i}] CenterCrop crop_size={t.get("crop_size")}'
        elif kind == 'Resize' and t.get('keep_ratio') is False:
            size, where = _size(t.get('scale')), \
                f'pipeline[{i}] Resize scale={t.get("scale")}'
        elif kind in ('RandomResize', 'RandomChoiceResize', 'RandomCrop',
                      'ResizeEdge', 'RandomShortestEdge', 'Resize'):
            size, where = None, None  # sizes vary; padded later
    return size, where


def _vit_default_img_size(kind) -> Optional[int]:
    """The default ``img_size`` of a ViT backbone type (mmpretrain's
    ``VisionTransformer``, ``BEiTViT`` and their subclasses, whose position
    embeddings are built for it); None for other types."""
    if not isinstance(kind, str):
        return None
    from mmpretrain.models import BEiTViT, VisionTransformer
    from mmpretrain.registry import MODELS
    try:
        cls = MODELS.get(kind)
    except Exception:  # noqa: BLE001  unknown or unimportable: not ours
        return None
    if not (inspect.isclass(cls)
            and issubclass(cls, (VisionTransformer, BEiTViT))):
        return None
    for klass in cls.__mro__:  # subclasses often pass it in **kwargs
        param = inspect.signature(klass.__init__).parameters.get('img_size')
        if param is not None and isinstance(param.default, int):
            return param.default
    return None


def image_size_errors(cfg) -> List[str]:
    """Mismatches between the image size the training pipeline produces,
    the backbone's ``img_size`` and the mask generator's grid."""
    pipeline = _train_pipeline(cfg)
    size, where = pipeline_output_size(pipeline)
    if size is None:
        return []
    errors = []
    backbone = (cfg.get('model') or {}).get('backbone') or {}
    if 'img_size' in backbone:
        img_size, said = _size(backbone['img_size']), backbone['img_size']
    else:
        default = _vit_default_img_size(backbone.get('type'))
        img_size = _size(default)
        said = f'not set: {default}, the default of {backbone.get("type")}'
    if img_size is not None and img_size != size:
        errors.append(
            f'the training pipeline makes {size[1]}x{size[0]} images '
            f'({where}) but model.backbone.img_size is {said}: the '
            f'backbone\'s position '
            f'embedding and attention are built for that size. Set both to '
            f'the same size.')
    for i, t in enumerate(pipeline):
        kind = str(t.get('type', '')).split('.')[-1]
        if kind == 'BlockwiseMaskGenerator' or kind == 'SimMIMMaskGenerator':
            gen = _size(t.get('input_size'))
            if gen is not None and gen != size:
                errors.append(
                    f'pipeline[{i}] {kind} input_size={t.get("input_size")} '
                    f'but the images are {size[1]}x{size[0]} ({where}): the '
                    f'mask grid would not cover the image. Set input_size '
                    f'to {size[1]}.')
        elif kind == 'BEiTv2MaskGenerator':
            grid = _size(t.get('input_size'))
            patch = _size(backbone.get('patch_size', 16))
            if grid is not None and patch is not None and (
                    grid[0] * patch[0], grid[1] * patch[1]) != size:
                want = (size[0] // patch[0], size[1] // patch[1])
                errors.append(
                    f'pipeline[{i}] BEiTv2MaskGenerator input_size='
                    f'{t.get("input_size")} is a {grid[0]}x{grid[1]} patch '
                    f'grid, but {size[1]}x{size[0]} images in '
                    f'{patch[0]}-px patches make {want[0]}x{want[1]}. Set '
                    f'input_size={want}.')
    return errors


def check_config(cfg) -> None:
    """Raise on an image size the model cannot take; warn about top-level
    keys that nothing reads."""
    errors = image_size_errors(cfg)
    if errors:
        raise ValueError('Config ' + (cfg.filename or '') + ': ' +
                         ' '.join(errors))
    for message in unread_keys(cfg):
        warnings.warn(f'Config {cfg.filename or ""}: {message}.')
