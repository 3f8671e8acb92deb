"""Continued pre-training from an imported full checkpoint.

A tiny model is pre-trained a few iterations with the real Runner, its
weights are written in a published layout (openmixup's A2MIM ViT and
ConvNeXt, microsoft/SimMIM's), imported with ``import_checkpoint`` and used as ``load_from`` of
the same pre-training config: the first reconstruction loss equals that of
the source model on the same batch (the decoder came along), and is below the
first loss from the imported backbone alone (a random decoder).
"""
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

from helpers import TINY_CONFIGS, load_tool
from mim_plugins.checkpoints import import_checkpoint
train_tool = load_tool('train')

SRC_ITERS = 6


def _cfg(name, data, work_dir, iters, load_from=None):
    cfg = Config.fromfile(TINY_CONFIGS[name])
    cfg.train_dataloader.dataset.data_root = data
    cfg.train_dataloader.batch_size = 4
    cfg.train_cfg.max_iters = iters
    cfg.param_scheduler = []  # constant lr
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = str(work_dir)
    cfg.load_from, cfg.resume = load_from, False
    return train_tool.adapt_cfg_to_device(cfg)


def _train(cfg) -> float:
    """Train; the loss of the last iteration."""
    runner = train_tool.build_runner(cfg)
    runner.train()
    return runner.message_hub.get_scalar('train/loss').current()


def to_openmixup_a2mim(state):
    """Our A2MIM state dict -> openmixup's full checkpoint (A2MIM's
    NonLinearMIMNeck keeps the linear decoder in neck.decoder_pred.0)."""
    out = {k.replace('neck.decoder.0.', 'neck.decoder_pred.0.'): v
           for k, v in state.items()}
    return dict(meta=dict(epoch=1, iter=SRC_ITERS), state_dict=out)


def to_microsoft_simmim(state):
    """Our SimMIM ViT state dict -> microsoft/SimMIM's ``{'model': ...}``
    (encoder.* in BEiT names, decoder.0.*)."""
    names = [(r'^backbone\.patch_embed\.projection\.',
              'encoder.patch_embed.proj.'),
             (r'^backbone\.layers\.(\d+)\.ln1\.', r'encoder.blocks.\1.norm1.'),
             (r'^backbone\.layers\.(\d+)\.ln2\.', r'encoder.blocks.\1.norm2.'),
             (r'^backbone\.layers\.(\d+)\.ffn\.layers\.0\.0\.',
              r'encoder.blocks.\1.mlp.fc1.'),
             (r'^backbone\.layers\.(\d+)\.ffn\.layers\.1\.',
              r'encoder.blocks.\1.mlp.fc2.'),
             (r'^backbone\.layers\.', 'encoder.blocks.'),
             (r'^backbone\.ln1\.', 'encoder.norm.'),
             (r'^backbone\.', 'encoder.'),
             (r'^neck\.decoder\.', 'decoder.')]
    out = {}
    for key, value in state.items():
        for pattern, repl in names:
            new = re.sub(pattern, repl, key)
            if new != key:
                out[new] = value
                break
        else:
            raise KeyError(key)
    return dict(model=out, epoch=1)


@pytest.mark.parametrize('name,to_source,layout', [
    ('a2mim_vit', to_openmixup_a2mim, 'openmixup'),
    ('a2mim_convnext', to_openmixup_a2mim, 'openmixup'),
    ('simmim_vit', to_microsoft_simmim, 'simmim'),
])
def test_continued_pretraining_resumes_the_loss(name, to_source, layout,
                                                demo_data, tmp_path):
    src_loss = _train(_cfg(name, demo_data, tmp_path / 'src', SRC_ITERS))
    ours = osp.join(tmp_path, 'src', f'iter_{SRC_ITERS}.pth')
    state = torch.load(ours, map_location='cpu')['state_dict']
    published = str(tmp_path / 'published.pth')
    torch.save(to_source(state), published)
    result = import_checkpoint(published, str(tmp_path / 'imported.pth'))
    assert result.format == layout
    assert result.conversion.neck is not None
    # the same weights without the decoder: what a backbone-only import gives
    full = torch.load(result.path)
    backbone_only = str(tmp_path / 'backbone_only.pth')
    torch.save(dict(state_dict={k: v for k, v in full['state_dict'].items()
                                if k.startswith('backbone.')}), backbone_only)

    def first_loss(load_from, tag):
        return _train(_cfg(name, demo_data, tmp_path / tag, 1, load_from))

    resumed = first_loss(result.path, 'resumed')
    reference = first_loss(ours, 'reference')  # the source model itself
    no_decoder = first_loss(backbone_only, 'no_decoder')
    assert resumed == pytest.approx(reference, rel=1e-5, abs=1e-7)
    assert resumed < no_decoder
    print(f'{name}: source last {src_loss:.4f}, resumed first '
          f'{resumed:.4f} (source model on that batch {reference:.4f}), '
          f'random decoder {no_decoder:.4f}')
