"""What a full-scale run costs: training FLOPs per image from the
benchmark's counter (:func:`~mim_plugins.benchmark.flops.count_flops`) on
the config's own model at its own image size, times the images the run
sees, over the GPUs' dense peak at an assumed model FLOPs utilisation.

An estimate to plan with, not a measurement: the MFU is an assumption
(state it beside the hours), and data loading, evaluation and checkpoint
writes are not counted.
"""
import copy
from typing import Dict, Optional

import torch
from mmengine.config import Config

from .data import make_batches
from .flops import count_flops, peak_tflops

#: images in ImageNet-1k's training split
IMAGENET_TRAIN = 1_281_167


def _images_seen(cfg: Config, gpus: int) -> int:
    """Images of the whole run: epochs x ImageNet-1k, or iterations x the
    batch of ``gpus`` GPUs (accumulated steps are iterations too)."""
    loop = cfg.train_cfg
    if loop.get('max_epochs'):
        return int(loop.max_epochs) * IMAGENET_TRAIN
    return int(loop.max_iters) * cfg.train_dataloader.batch_size * gpus


def _crop(cfg: Config) -> int:
    """The training crop size (first fixed-size crop of the pipeline)."""
    from ..engine.config_check import pipeline_output_size
    dataset = cfg.train_dataloader.dataset
    while 'pipeline' not in dataset and 'dataset' in dataset:
        dataset = dataset.dataset
    size, _ = pipeline_output_size(dataset.pipeline)
    if size is None:  # random resize + crop (segmentation): the crop
        for t in dataset.pipeline:
            if 'crop_size' in t:
                return int(t['crop_size'][0])
        raise ValueError(f'{cfg.filename}: no fixed training size')
    return size[0]


def _batch(cfg: Config, size: int) -> dict:
    """Two synthetic training samples as the config's data loader makes
    them (random labels where the model needs them)."""
    if cfg.model.type == 'EncoderDecoder':
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        samples = []
        for _ in range(2):
            s = SegDataSample(metainfo=dict(img_shape=(size, size),
                                            pad_shape=(size, size),
                                            ori_shape=(size, size)))
            s.gt_sem_seg = PixelData(data=torch.randint(
                0, 150, (1, size, size)))
            samples.append(s)
        return dict(inputs=[torch.randint(0, 256, (3, size, size),
                                          dtype=torch.uint8)
                            for _ in samples], data_samples=samples)
    batch = make_batches(cfg, 1, 2)[0]
    if cfg.model.type == 'ImageClassifier':
        for sample in batch['data_samples']:
            sample.set_gt_label(0)
    return batch


def _build(cfg: Config):
    from ..apis import build_model_from_cfg
    cfg = copy.deepcopy(cfg)
    teacher = cfg.model.get('target_generator')
    if teacher is not None and teacher.get('type') == 'CLIPViTTeacher':
        teacher.update(checkpoint=None, random_init=True)
    cfg.model.backbone.pop('init_cfg', None)
    cfg.model.backbone.pop('frozen_stages', None)
    return build_model_from_cfg(cfg)


def run_cost(config: str, gpus: int = 8, mfu: float = 0.4,
             device_name: str = 'H100', precision: str = 'bf16'
             ) -> Dict[str, Optional[float]]:
    """Training FLOPs per image of ``config``'s model at its crop, and the
    GPU hours of the whole run on ``gpus`` GPUs named ``device_name`` at the
    model FLOPs utilisation ``mfu``."""
    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    size = _crop(cfg)
    model = _build(cfg).eval()
    flops = count_flops(model, _batch(cfg, size), max_images=1)
    per_image = flops['train_flops_per_image']
    images = _images_seen(cfg, gpus)
    peak = peak_tflops(device_name, precision) * 1e12
    seconds = per_image * images / (gpus * peak * mfu)
    return dict(config=config, crop=size,
                train_gflops_per_image=per_image / 1e9,
                images=images, gpus=gpus, mfu=mfu,
                wall_hours=seconds / 3600,
                gpu_hours=gpus * seconds / 3600)
