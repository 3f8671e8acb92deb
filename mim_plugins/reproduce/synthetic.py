"""A small, seeded synthetic image world for demos and tests.

Images of simple shapes (the class) with random colours, positions, sizes and
textured backgrounds, written as PNGs in the ImageNet folder layout
``ROOT/{train,val}/CLASS/NNNN.png`` that mmpretrain's ``CustomDataset`` and
``ImageNet`` read. Deterministic for a given seed.
"""
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ('circle', 'square', 'triangle', 'cross')


def _background(rng: np.random.Generator, size: int,
                texture: float = 1.0) -> np.ndarray:
    """Smooth colour gradient plus, with probability ``texture``, stripes or
    noise (half each)."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    t = (xx * rng.uniform(-1, 1) + yy * rng.uniform(-1, 1))[..., None]
    img = c0 + (c1 - c0) * (t - t.min()) / (np.ptp(t) + 1e-6)
    if rng.random() >= texture:
        return img
    if rng.random() < 0.5:
        period = rng.uniform(4, 12)
        img += 25 * np.sin(2 * np.pi * (xx + yy) * size / period)[..., None]
    else:
        img += rng.normal(0, 12, img.shape)
    return img


def draw_shape(draw: ImageDraw.ImageDraw, shape: str, cx: float, cy: float,
               r: float, color: tuple) -> None:
    """Draw one filled shape of radius ``r`` centred at (cx, cy)."""
    if shape == 'circle':
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=color)
    elif shape == 'square':
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=color)
    elif shape == 'triangle':
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)],
                     fill=color)
    elif shape == 'cross':
        w = r / 3
        draw.rectangle([cx - r, cy - w, cx + r, cy + w], fill=color)
        draw.rectangle([cx - w, cy - r, cx + w, cy + r], fill=color)
    else:
        raise ValueError(f'Unknown shape {shape!r}; use one of {CLASSES}.')


#: each class's fill pattern: stripes of an orientation, or a checkerboard
PATTERNS = dict(circle='horizontal', square='vertical', triangle='diagonal',
                cross='checker')


def _pattern(rng: np.random.Generator, size: int, kind: str) -> np.ndarray:
    """A (size, size) pattern in [-1, 1] with a random period and phase."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    period, phase = rng.uniform(4, 7), rng.uniform(0, 2 * np.pi)
    w = 2 * np.pi / period
    if kind == 'horizontal':
        return np.sin(w * yy + phase)
    if kind == 'vertical':
        return np.sin(w * xx + phase)
    if kind == 'diagonal':
        return np.sin(w * (xx + yy) / np.sqrt(2) + phase)
    return np.sign(np.sin(w * xx + phase) * np.sin(w * yy + phase))


def paint_shape(img: Image.Image, rng: np.random.Generator, shape: str,
                cx: float, cy: float, r: float, pattern: float = 0.,
                polygon: Optional[list] = None,
                label: Optional[Image.Image] = None,
                value: int = 0) -> None:
    """Paint one shape of a random colour on ``img`` (in place).

    With ``pattern > 0`` the fill carries the class's texture
    (:data:`PATTERNS`) with that amplitude (0-255 scale): the classes are
    then shape and texture classes, which a patch-based model (a ViT) can
    tell apart from a single patch, as a CNN does from edges. ``polygon``
    (flat x, y list) replaces the drawn shape's outline; ``label`` gets the
    same region painted with ``value``.
    """
    def draw(canvas, fill):
        if polygon is None:
            draw_shape(ImageDraw.Draw(canvas), shape, cx, cy, r, fill)
        else:
            ImageDraw.Draw(canvas).polygon(
                list(zip(polygon[0::2], polygon[1::2])), fill=fill)

    color = rng.integers(0, 256, 3)
    if label is not None:
        draw(label, value)
    if pattern <= 0:
        draw(img, tuple(int(c) for c in color))
        return
    mask = Image.new('L', img.size, 0)
    draw(mask, 255)
    # keep the pattern visible on very dark/bright colours
    base = np.clip(color, pattern, 255 - pattern)
    fill = base + pattern * _pattern(rng, img.size[0], PATTERNS[shape])[
        ..., None]
    img.paste(Image.fromarray(np.clip(fill, 0, 255).astype(np.uint8)),
              (0, 0), mask)


def make_image(rng: np.random.Generator, shape: str, size: int,
               texture: float = 1.0, pattern: float = 0.) -> Image.Image:
    """One RGB image with a single shape on a (textured) background."""
    img = Image.fromarray(
        np.clip(_background(rng, size, texture), 0, 255).astype(np.uint8))
    r = rng.uniform(0.2, 0.35) * size
    cx, cy = rng.uniform(r, size - r, 2)
    paint_shape(img, rng, shape, cx, cy, r, pattern)
    return img


def make_classification_folder(root: str,
                               num_train: int = 32,
                               num_val: int = 8,
                               size: int = 64,
                               classes: Sequence[str] = CLASSES,
                               seed: int = 0,
                               texture: float = 1.0,
                               pattern: float = 0.) -> str:
    """Write ``num_train``/``num_val`` images per class under ``root``.

    ``texture`` is the probability of stripes or noise on a background,
    ``pattern`` the amplitude of the class's fill texture (see
    :func:`paint_shape`; 0: plain fills, shape classes only).
    Returns ``root``. An existing complete folder is left as it is.
    """
    stamp = osp.join(root, f'.complete-{num_train}-{num_val}-{size}-{seed}'
                     f'-{texture}-{pattern}')
    if osp.exists(stamp):
        return root
    rng = np.random.default_rng(seed)
    for split, count in (('train', num_train), ('val', num_val)):
        for cls in classes:
            folder = osp.join(root, split, cls)
            os.makedirs(folder, exist_ok=True)
            for i in range(count):
                make_image(rng, cls, size, texture, pattern).save(
                    osp.join(folder, f'{i:04d}.png'))
    open(stamp, 'w').close()
    return root


def make_segmentation_folder(root: str,
                             num_train: int = 16,
                             num_val: int = 4,
                             size: int = 64,
                             classes: Sequence[str] = CLASSES,
                             max_shapes: int = 3,
                             seed: int = 0,
                             pattern: float = 0.) -> str:
    """Write an ADE20K-layout semantic segmentation set under ``root``.

    ``images/{training,validation}/NNNN.png`` and
    ``annotations/{training,validation}/NNNN.png`` whose pixel values are 0
    for the background and ``k + 1`` for class ``k`` (ADE20K's convention,
    read with ``reduce_zero_label=True``). Several shapes per image, later
    ones on top; ``pattern``: the fill textures of :func:`paint_shape`. An
    existing complete folder is left as it is.
    """
    stamp = osp.join(root, f'.complete-{num_train}-{num_val}-{size}-{seed}'
                     f'-{pattern}')
    if osp.exists(stamp):
        return root
    rng = np.random.default_rng(seed)
    for split, count in (('training', num_train), ('validation', num_val)):
        os.makedirs(osp.join(root, 'images', split), exist_ok=True)
        os.makedirs(osp.join(root, 'annotations', split), exist_ok=True)
        for i in range(count):
            img = Image.fromarray(
                np.clip(_background(rng, size), 0, 255).astype(np.uint8))
            label = Image.new('L', (size, size), 0)
            for _ in range(rng.integers(1, max_shapes + 1)):
                k = int(rng.integers(len(classes)))
                r = rng.uniform(0.12, 0.25) * size
                cx, cy = rng.uniform(r, size - r, 2)
                paint_shape(img, rng, classes[k], cx, cy, r, pattern,
                            label=label, value=k + 1)
            img.save(osp.join(root, 'images', split, f'{i:04d}.png'))
            label.save(osp.join(root, 'annotations', split, f'{i:04d}.png'))
    open(stamp, 'w').close()
    return root


def shape_polygon(shape: str, cx: float, cy: float, r: float) -> list:
    """The outline of a shape as a flat [x1, y1, x2, y2, ...] polygon."""
    if shape == 'circle':
        t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        pts = np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1)
    elif shape == 'square':
        pts = np.array([[cx - r, cy - r], [cx + r, cy - r], [cx + r, cy + r],
                        [cx - r, cy + r]])
    elif shape == 'triangle':
        pts = np.array([[cx, cy - r], [cx + r, cy + r], [cx - r, cy + r]])
    elif shape == 'cross':
        w = r / 3
        pts = np.array([[cx - w, cy - r], [cx + w, cy - r], [cx + w, cy - w],
                        [cx + r, cy - w], [cx + r, cy + w], [cx + w, cy + w],
                        [cx + w, cy + r], [cx - w, cy + r], [cx - w, cy + w],
                        [cx - r, cy + w], [cx - r, cy - w], [cx - w, cy - w]])
    else:
        raise ValueError(f'Unknown shape {shape!r}; use one of {CLASSES}.')
    return [float(v) for v in pts.reshape(-1)]


def make_coco_instances(root: str,
                        num_train: int = 16,
                        num_val: int = 4,
                        size: int = 128,
                        classes: Sequence[str] = CLASSES,
                        max_shapes: int = 3,
                        seed: int = 0,
                        pattern: float = 0.) -> str:
    """Write a COCO-format instance segmentation set under ``root``.

    ``{train,val}/NNNN.png`` and ``annotations/instances_{train,val}.json``
    with one polygon, box and area per shape (category ids from 1). Shapes do
    not overlap, so every mask is exactly its polygon; ``pattern``: the fill
    textures of :func:`paint_shape`. An existing complete
    folder is left as it is.
    """
    import json
    stamp = osp.join(root, f'.complete-{num_train}-{num_val}-{size}-{seed}'
                     f'-{pattern}')
    if osp.exists(stamp):
        return root
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    categories = [dict(id=i + 1, name=c) for i, c in enumerate(classes)]
    ann_id = 1
    for split, count in (('train', num_train), ('val', num_val)):
        os.makedirs(osp.join(root, split), exist_ok=True)
        images, annotations = [], []
        for i in range(count):
            img = Image.fromarray(
                np.clip(_background(rng, size), 0, 255).astype(np.uint8))
            placed = []
            for _ in range(int(rng.integers(1, max_shapes + 1))):
                r = rng.uniform(0.1, 0.2) * size
                cx, cy = rng.uniform(r + 1, size - r - 1, 2)
                if any(np.hypot(cx - x, cy - y) < 1.5 * (r + q)
                       for x, y, q in placed):
                    continue
                placed.append((cx, cy, r))
                k = int(rng.integers(len(classes)))
                poly = shape_polygon(classes[k], cx, cy, r)
                paint_shape(img, rng, classes[k], cx, cy, r, pattern,
                            polygon=poly)
                xs, ys = poly[0::2], poly[1::2]
                x0, y0 = min(xs), min(ys)
                area = 0.5 * abs(np.dot(xs, np.roll(ys, 1)) -
                                 np.dot(ys, np.roll(xs, 1)))
                annotations.append(dict(
                    id=ann_id, image_id=i + 1, category_id=k + 1,
                    segmentation=[poly], area=float(area),
                    bbox=[x0, y0, max(xs) - x0, max(ys) - y0], iscrowd=0))
                ann_id += 1
            name = f'{i:04d}.png'
            img.save(osp.join(root, split, name))
            images.append(dict(id=i + 1, file_name=name, width=size,
                               height=size))
        with open(osp.join(root, 'annotations', f'instances_{split}.json'),
                  'w') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=categories), f)
    open(stamp, 'w').close()
    return root
