"""Synthetic training batches, as the config's data loader makes them."""
from typing import List, Optional

import numpy as np
from mmengine.config import Config

MASK_GENERATORS = ('BlockwiseMaskGenerator', 'SimMIMMaskGenerator',
                   'BEiTMaskGenerator')


def crop_size(cfg: Config) -> int:
    """Training crop: the pipeline's RandomResizedCrop scale (else the mask
    generator's ``input_size``)."""
    pipeline = cfg.train_dataloader.dataset.pipeline
    for t in pipeline:
        if t['type'] == 'RandomResizedCrop':
            scale = t['scale']
            return int(scale if isinstance(scale, int) else scale[0])
    for t in pipeline:
        if t['type'] in ('SimMIMMaskGenerator', 'BlockwiseMaskGenerator'):
            return int(t['input_size'])
    raise ValueError('No RandomResizedCrop or mask generator in the train '
                     'pipeline: cannot tell the crop size.')


def mask_generator_cfg(cfg: Config) -> Optional[dict]:
    """The pipeline's mask generator config; None if the model masks."""
    for t in cfg.train_dataloader.dataset.pipeline:
        if t['type'] in MASK_GENERATORS or t['type'].endswith(
                'MaskGenerator'):
            return t.to_dict() if hasattr(t, 'to_dict') else dict(t)
    return None


def make_batches(cfg: Config, n: int, batch_size: int,
                 seed: int = 0) -> List[dict]:
    """``n`` collated batches of random uint8 images at the crop size, each
    sample with a fresh mask from the config's mask generator, packed by
    ``PackInputs`` and collated by the config's ``collate_fn``."""
    from mmengine.registry import FUNCTIONS
    from mmpretrain.registry import TRANSFORMS
    size = crop_size(cfg)
    gen_cfg = mask_generator_cfg(cfg)
    gen = TRANSFORMS.build(gen_cfg) if gen_cfg else None
    pack = TRANSFORMS.build(dict(type='PackInputs'))
    collate_cfg = dict(cfg.train_dataloader.get(
        'collate_fn', dict(type='default_collate')))
    collate_cfg.pop('_scope_', None)
    collate = FUNCTIONS.get(collate_cfg.pop('type'))
    rng = np.random.default_rng(seed)
    np.random.seed(seed)
    batches = []
    for _ in range(n):
        samples = []
        for _ in range(batch_size):
            img = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            results = dict(img=img, img_shape=(size, size),
                           ori_shape=(size, size))
            if gen is not None:
                results = gen(results)
            samples.append(pack(results))
        batches.append(collate(samples, **collate_cfg))
    return batches
