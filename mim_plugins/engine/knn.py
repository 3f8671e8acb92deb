"""k-nearest-neighbour probe of a backbone's frozen features.

The weighted k-NN of InstDisc/DINO (and openmixup's ``SSLMetricHook``,
solo-learn's online k-NN): L2-normalised features, the ``k`` most similar
training features vote for their label with weight ``exp(sim / T)``.
Feature extraction is correct under DDP: each rank embeds its shard of the
data set and the features are gathered, in data-set order, on every rank.
"""
import inspect
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import is_model_wrapper


@torch.no_grad()
def knn_top1(train_feats: torch.Tensor, train_labels: torch.Tensor,
             val_feats: torch.Tensor, val_labels: torch.Tensor, k: int = 20,
             temperature: float = 0.07, num_classes: Optional[int] = None,
             chunk: int = 1024) -> float:
    """Top-1 accuracy (%) of the weighted k-NN classifier.

    Args:
        train_feats (Tensor): (N, C) features of the labelled memory bank.
        train_labels (Tensor): (N, ) integer labels.
        val_feats (Tensor): (M, C) features to classify.
        val_labels (Tensor): (M, ) their labels.
        k (int): Neighbours; capped at N. Defaults to 20.
        temperature (float): Of the vote weights. Defaults to 0.07.
        num_classes (int, optional): Defaults to max label + 1.
        chunk (int): Queries per similarity block. Defaults to 1024.
    """
    if len(train_feats) == 0 or len(val_feats) == 0:
        raise ValueError('k-NN needs at least one training and one query '
                         f'feature; got {len(train_feats)} and '
                         f'{len(val_feats)}.')
    train_feats = F.normalize(train_feats.float(), dim=1)
    val_feats = F.normalize(val_feats.float(), dim=1)
    train_labels = train_labels.long()
    num_classes = num_classes or int(
        max(train_labels.max(), val_labels.max())) + 1
    k = min(k, len(train_feats))
    correct = 0
    for i in range(0, len(val_feats), chunk):
        sim = val_feats[i:i + chunk] @ train_feats.T
        top, idx = sim.topk(k, dim=1)
        votes = torch.zeros(len(sim), num_classes, dtype=sim.dtype)
        votes.scatter_add_(1, train_labels[idx], (top / temperature).exp())
        correct += (votes.argmax(1) == val_labels[i:i + chunk].long()).sum()
    return 100.0 * float(correct) / len(val_feats)


def pool_features(out) -> torch.Tensor:
    """(B, C) features from a backbone's last output: the spatial mean of a
    (B, C, H, W) map, the mean of a (B, N, C) token sequence (patch tokens
    only: pass the extra tokens' count as ``out = (tokens, num_extra)``), or
    a (B, C) vector as it is."""
    num_extra = 0
    if isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], int):
        out, num_extra = out
    if out.dim() == 4:
        return out.mean(dim=(2, 3))
    if out.dim() == 3:
        return out[:, num_extra:].mean(dim=1)
    if out.dim() == 2:
        return out
    raise ValueError(f'Cannot pool a backbone output of shape '
                     f'{tuple(out.shape)} into one feature per image.')


def backbone_features(model, inputs: torch.Tensor) -> torch.Tensor:
    """Pooled features of ``model.backbone`` without a mask (the plain
    backbone: every MIM backbone here, and mmpretrain's SimMIM Swin, is
    exactly its downstream backbone when the mask is None)."""
    backbone = model.backbone
    params = inspect.signature(backbone.forward).parameters
    outs = backbone(inputs, None) if 'mask' in params else backbone(inputs)
    last = outs[-1] if isinstance(outs, (tuple, list)) else outs
    if isinstance(last, (tuple, list)):  # e.g. (patch tokens, cls token)
        last = last[0]
    if last.dim() == 3:
        last = (last, int(getattr(backbone, 'num_extra_tokens', 0)))
    return pool_features(last)


@torch.no_grad()
def extract_features(model, dataloader) -> Tuple[torch.Tensor, torch.Tensor]:
    """Features and labels of a whole data set, in data-set order, on every
    rank. ``dataloader`` shards the set over the ranks (mmengine's
    ``DefaultSampler``, shuffle off); its padding duplicates are dropped."""
    from mmengine.dist import all_gather, get_world_size
    model = model.module if is_model_wrapper(model) else model
    was_training = model.training
    model.eval()
    feats, indices = [], []
    order = iter(list(iter(dataloader.sampler)))
    try:
        for data in dataloader:
            inputs = model.data_preprocessor(data, False)['inputs']
            if isinstance(inputs, (list, tuple)):  # one batch per view
                inputs = inputs[0] if len(inputs) == 1 or inputs[0].dim() == 4 \
                    else torch.stack(inputs)
            f = backbone_features(model, inputs)
            feats.append(f.float().cpu())
            indices.append(torch.tensor(
                [next(order) for _ in range(len(f))], dtype=torch.long))
    finally:
        model.train(was_training)
    feats = torch.cat(feats) if feats else torch.zeros(0, 0)
    indices = torch.cat(indices) if indices else torch.zeros(0).long()
    if get_world_size() > 1:
        device = next(model.parameters()).device
        feats = torch.cat([t.cpu() for t in all_gather(feats.to(device))])
        indices = torch.cat([t.cpu() for t in all_gather(indices.to(device))])
    dataset = dataloader.dataset
    n = len(dataset)
    keep = torch.zeros(n, dtype=torch.bool)
    out = torch.zeros(n, feats.shape[1])
    for j, i in enumerate(indices.tolist()):  # the first copy of each sample
        if not keep[i]:
            keep[i] = True
            out[i] = feats[j]
    if not bool(keep.all()):
        raise RuntimeError(f'k-NN features cover {int(keep.sum())} of the '
                           f'{n} samples: the sampler must visit them all.')
    labels = torch.as_tensor(
        [int(dataset.get_data_info(i)['gt_label']) for i in range(n)])
    return out, labels
