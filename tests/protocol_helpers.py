"""What the paper-table tests share: the resolved configs and the values
that define a protocol (``test_paper_protocol.py``), and the checkpoint
each pre-training ends with (``test_paper_preset.py`` too)."""
import functools

from mmengine.config import Config

from helpers import load_config
from mim_plugins.reproduce import paper

GPUS = 8  # batches are totals on 8 GPUs, as in the configs' names


@functools.lru_cache(maxsize=None)
def _load(config: str) -> Config:
    """The resolved config, with its default checkpoint (no PRETRAINED)."""
    return load_config(config)


def _find(pipeline, kind):
    return next((t for t in pipeline if t['type'] == kind), None)


def _hook(cfg, kind):
    return next((h for h in cfg.get('custom_hooks', []) if h.type == kind),
                None)


def _scheduler(cfg, kind):
    return next((s for s in cfg.param_scheduler if s.type == kind), None)


def protocol(cfg: Config) -> dict:
    """The protocol-defining values of a resolved config."""
    out = {}
    ow = cfg.optim_wrapper
    opt = ow.get('optimizer', {})
    pw = ow.get('paramwise_cfg') or {}
    keys = pw.get('custom_keys', {})
    out['lr'] = opt.get('lr')
    out['optimizer'] = opt.get('type')
    out['weight_decay'] = opt.get('weight_decay')
    out['amp'] = ow.get('type') == 'AmpOptimWrapper'
    out['clip'] = (ow.get('clip_grad') or {}).get('max_norm')
    out['layer_decay'] = pw.get('layer_decay_rate')
    out['mask_token_lr'] = keys.get('mask_token', {}).get('lr_mult', 1.0)
    out['mask_token_decay'] = keys.get('mask_token', {}).get('decay_mult', 1.)
    out['mask_gamma_lr'] = keys.get('mask_gamma', {}).get('lr_mult', 1.0)
    loader = cfg.train_dataloader
    out['batch'] = loader.batch_size * GPUS * ow.get('accumulative_counts', 1)
    out['sampler'] = loader.sampler.type
    train_cfg = cfg.train_cfg
    out['epochs'] = train_cfg.get('max_epochs')
    out['iters'] = train_cfg.get('max_iters')
    warm = _scheduler(cfg, 'LinearLR')
    if warm is not None:
        if warm.get('by_epoch', True):
            out['warmup'] = warm.end
        else:
            out['warmup_iters'] = warm.end
    step = _scheduler(cfg, 'MultiStepLR')
    if step is not None:
        if len(step.milestones) == 1:  # counted from the scheduler's begin
            out['step'] = step.milestones[0] + step.get('begin', 0)
        out['milestones'] = list(step.milestones)
    ema = _hook(cfg, 'EMAHook')
    out['ema'] = ema.momentum if ema else None
    model = cfg.model
    bb = model.get('backbone', {})
    out['arch'] = bb.get('arch')
    out['depth'] = bb.get('depth')
    out['drop_path'] = bb.get('drop_path_rate', 0.)
    out['out_indices'] = tuple(bb.get('out_indices', ()))
    out['abs_pos'] = bb.get('use_abs_pos_emb')
    out['shared_rel_pos'] = bb.get('use_shared_rel_pos_bias')
    out['layer_scale'] = bb.get('layer_scale_init_value')
    out['pool'] = bb.get('out_type')
    out['replace'] = bb.get('replace')
    out['mask_layer'] = bb.get('mask_layer')
    out['mask_init'] = bb.get('mask_init', 0.)
    out['dilations'] = tuple(bb.get('dilations', ()))
    out['strides'] = tuple(bb.get('strides', ()))
    out['frozen_stages'] = bb.get('frozen_stages')
    out['norm'] = (bb.get('norm_cfg') or {}).get('type')
    window = (bb.get('stage_cfgs') or {}).get('block_cfgs', {})
    out['window'] = window.get('window_size')
    head = model.get('head') or {}
    out['fft_weight'] = head.get('fft_weight')
    out['fft_focal'] = head.get('fft_focal')
    augments = (model.get('train_cfg') or {}).get('augments') or []
    out['mixup'] = tuple(a.alpha for a in augments)
    pipeline = loader.dataset.get('dataset', loader.dataset).pipeline
    rrc = _find(pipeline, 'RandomResizedCrop')
    if rrc is not None:
        out['train_size'] = rrc.scale
        out['crop'] = tuple(rrc.get('crop_ratio_range', (0.08, 1.0)))
        out['interpolation'] = rrc.get('interpolation', 'bilinear')
    ra = _find(pipeline, 'RandAugment')
    out['rand_augment'] = ra.magnitude_level if ra else None
    val = cfg.get('val_dataloader')
    if val and 'pipeline' in val.dataset:
        edge = _find(val.dataset.pipeline, 'ResizeEdge')
        crop = _find(val.dataset.pipeline, 'CenterCrop')
        out['test_resize'] = edge.scale if edge else None
        out['test_crop'] = crop.crop_size if crop else None
    sizes = set()
    for t in pipeline:
        for choice in [t] + [x for group in t.get('transforms', [])
                             for x in group]:
            if choice['type'] == 'RandomChoiceResize':
                sizes |= {min(s) for s in choice.scales}
            if choice['type'] == 'RandomCrop' and 'crop_type' in choice:
                out['crop'] = tuple(choice.crop_size)
            if choice['type'] == 'RandomCrop' and 'cat_max_ratio' in choice:
                out['crop'] = tuple(choice.crop_size)
    out['min_sizes'] = tuple(sorted(sizes))
    necks = model.get('neck')
    if isinstance(necks, (list, tuple)):
        out['neck'] = tuple(n.type for n in necks)
        out['rescales'] = tuple(necks[0].get('rescales', ()))
    roi = model.get('roi_head') or {}
    if roi:
        bbox = roi.bbox_head
        out['bbox_head'] = bbox.type
        out['bbox_loss'] = (bbox.loss_bbox.type, bbox.loss_bbox.loss_weight)
        out['head_norm'] = (bbox.get('norm_cfg') or {}).get('type')
        out['shared_head'] = (roi.get('shared_head') or {}).get('type')
    out['decode_head'] = (model.get('decode_head') or {}).get('type')
    return out


def _checkpoint_of(pretrain_config: str) -> str:
    cfg = _load(pretrain_config)
    name = paper.work_dir_name(pretrain_config)
    return f'work_dirs/{name}/epoch_{cfg.train_cfg.max_epochs}.pth'
