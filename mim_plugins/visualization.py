"""Pictures of what a MIM model sees and reconstructs."""
from typing import Optional, Sequence

import numpy as np
import torch


def _to_rgb(img: torch.Tensor, mean: torch.Tensor,
            std: torch.Tensor) -> np.ndarray:
    """Normalised (3, H, W) tensor -> uint8 (H, W, 3) RGB."""
    img = img.detach().float().cpu() * std.view(3, 1, 1) + mean.view(3, 1, 1)
    return img.clamp(0, 255).permute(1, 2, 0).numpy().astype(np.uint8)


@torch.no_grad()
def reconstruct_batch(model, images: Sequence[np.ndarray],
                      mask: Optional[torch.Tensor] = None,
                      mask_patch_size: int = 32,
                      seed: int = 0) -> dict:
    """Run a MIM model (e.g. ``A2MIM``) on RGB uint8 images of equal size.

    Returns a dict of uint8 RGB arrays (N, H, W, 3): ``original``,
    ``masked`` (the model's input), ``reconstruction`` (the decoder output
    everywhere), ``pasted`` (reconstruction on the masked pixels, original
    elsewhere), and ``mask`` (N, H, W) in {0, 1}.
    """
    was_training = model.training
    model.eval()
    try:
        return _reconstruct(model, images, mask, mask_patch_size, seed)
    finally:
        model.train(was_training)


def _reconstruct(model, images, mask, mask_patch_size, seed) -> dict:
    pre = model.data_preprocessor
    device = next(model.parameters()).device
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().to(device)
    mean, std = pre.mean.view(3).cpu(), pre.std.view(3).cpu()
    x = (x - pre.mean.view(1, 3, 1, 1)) / pre.std.view(1, 3, 1, 1)
    if mask is None:
        mask = random_block_mask(model, x.shape[0], x.shape[-2:],
                                 mask_patch_size=mask_patch_size, seed=seed)
    mask = mask.to(device)
    out = model_reconstruct(model, x, mask)
    from .models.utils import upsample_mask
    pix = upsample_mask(mask, x.shape[-2:]).float()
    pasted = out['pred'] * pix + x * (1 - pix)
    return dict(
        original=np.stack([_to_rgb(i, mean, std) for i in x]),
        masked=np.stack([_to_rgb(i, mean, std) for i in out['masked']]),
        reconstruction=np.stack([_to_rgb(i, mean, std) for i in out['pred']]),
        pasted=np.stack([_to_rgb(i, mean, std) for i in pasted]),
        mask=pix[:, 0].cpu().numpy().astype(np.uint8))


def can_reconstruct(model) -> bool:
    """Whether :func:`model_reconstruct` can draw this model."""
    return hasattr(model, 'reconstruct') or (
        type(model).__name__ == 'SimMIM' and hasattr(model, 'neck'))


def model_reconstruct(model, x: torch.Tensor, mask: torch.Tensor) -> dict:
    """``masked`` input and ``pred`` of a normalised batch: the model's own
    ``reconstruct`` (A2MIM), or for mmpretrain's ``SimMIM`` its backbone and
    decoder as its ``loss`` runs them (the mask token replaces the masked
    patches inside the backbone; they are drawn black)."""
    if hasattr(model, 'reconstruct'):
        return model.reconstruct(x, mask)
    if not can_reconstruct(model):
        raise TypeError(f'{type(model).__name__} has no reconstruct(); '
                        'reconstructions are drawn for A2MIM and SimMIM.')
    from .models.utils import upsample_mask
    latent = model.backbone(x, mask)
    pred = model.neck(latent[0])
    pix = upsample_mask(mask, x.shape[-2:]).to(x.dtype)
    return dict(masked=x * (1 - pix), pred=pred)


def random_block_mask(model, n: int, size: Sequence[int],
                      mask_patch_size: int = 32, mask_ratio: float = 0.6,
                      seed: int = 0) -> torch.Tensor:
    """Seeded random block mask on the backbone's masked grid, as
    ``BlockwiseMaskGenerator`` draws it (``mask_patch_size``-px blocks)."""
    stride = mask_stride(model.backbone)
    h, w = int(size[0]) // stride, int(size[1]) // stride
    cells = max(mask_patch_size // stride, 1)
    bh, bw = max(h // cells, 1), max(w // cells, 1)
    k = int(np.ceil(bh * bw * mask_ratio))
    gen = torch.Generator().manual_seed(seed)
    blocks = torch.zeros(n, bh * bw, dtype=torch.long)
    for i in range(n):
        blocks[i, torch.randperm(bh * bw, generator=gen)[:k]] = 1
    blocks = blocks.view(n, bh, bw)
    return blocks.repeat_interleave(h // bh, 1).repeat_interleave(w // bw, 2)


def mask_stride(backbone) -> int:
    """Stride (px) of the features the backbone masks: the input of stage
    ``mask_layer`` (0: the stem or patch-embedding output)."""
    k = getattr(backbone, 'mask_layer', 0)
    if hasattr(backbone, 'strides'):  # ResNet: stem + max-pool 4, stages
        return 4 * int(np.prod(backbone.strides[:k]))
    if hasattr(backbone, 'downsample_layers'):  # ConvNeXt: stem, then 2
        return int(backbone.downsample_layers[0][0].stride[0]) * 2**k
    patch = int(backbone.patch_embed.projection.stride[0])
    if hasattr(backbone, 'stages'):  # Swin: each patch merging halves
        return patch * 2**k
    return patch  # ViT: every layer sees the patch grid


def frequency_error(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """log(1 + |F(pred) - F(target)|) averaged over channels, centred."""
    fp = np.fft.fft2(pred.astype(np.float32) / 255., axes=(0, 1), norm='ortho')
    ft = np.fft.fft2(target.astype(np.float32) / 255., axes=(0, 1),
                     norm='ortho')
    err = np.log1p(np.abs(fp - ft)).mean(-1)
    return np.fft.fftshift(err)


def save_reconstruction_grid(result: dict, path: str,
                             title: Optional[str] = None,
                             with_frequency: bool = True,
                             row_labels: Optional[Sequence[str]] = None,
                             dpi: int = 100) -> str:
    """Save a PNG grid: one row per image (labelled by ``row_labels``);
    original, masked input, reconstruction, reconstruction pasted into the
    original and (optional) the frequency-domain error."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    cols = ['original', 'masked', 'reconstruction', 'pasted']
    names = ['target', 'masked input', 'reconstruction', 'recon. on mask']
    if with_frequency:
        names.append('|FFT error| (log)')
    n = len(result['original'])
    fig, axes = plt.subplots(n, len(names), figsize=(2.2 * len(names), 2.2 * n),
                             squeeze=False)
    for r in range(n):
        for c, name in enumerate(names):
            ax = axes[r, c]
            if c < len(cols):
                ax.imshow(result[cols[c]][r])
            else:
                ax.imshow(frequency_error(result['reconstruction'][r],
                                          result['original'][r]),
                          cmap='magma')
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(name, fontsize=9)
            if c == 0 and row_labels is not None:
                ax.set_ylabel(row_labels[r], fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
