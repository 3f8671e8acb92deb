"""FastBEiTMaskGenerator: mmpretrain's BEiT block masking, faster.

Two kinds of checks against mmpretrain's ``BEiTMaskGenerator``:

- exact: fed the same uniforms for every attempt (area, aspect, top, left),
  both produce the same masks, mask for mask;
- statistical: with numpy's RNG, the MaskDistill settings, 2000 masks each,
  fixed seeds: masked counts, connected components, row/column occupancy
  and per-patch frequencies agree within ~5 standard deviations.

No timing here; ``masks/s`` are measured outside the tests.
"""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from scipy import ndimage

from mmpretrain.datasets.transforms import BEiTMaskGenerator
from mmpretrain.registry import TRANSFORMS

from helpers import ROOT
from mim_plugins.datasets.transforms import FastBEiTMaskGenerator

#: MaskDistill's (and BEiT's) settings: 75 of 14x14 patches
MASKDISTILL = dict(input_size=(14, 14), num_masking_patches=75,
                   min_num_patches=16, max_num_patches=None,
                   min_aspect=0.3, max_aspect=1 / 0.3)
CONFIGS = osp.join(ROOT, 'configs/pretrain/maskdistill')


class AttemptStream:
    """Uniforms in [0, 1) by attempt: four per attempt (target area,
    log-aspect, top, left); a lazily extended flat list."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.buf = []

    def __getitem__(self, i: int) -> float:
        while i >= len(self.buf):
            self.buf.extend(self.rng.random(4096).tolist())
        return self.buf[i]


class StreamedParent:
    """Stands in for ``np.random`` in mmpretrain's sampler: attempt ``a``
    reads ``stream[4a:4a+4]``, ``uniform`` the first two (an attempt whose
    block does not fit stops there), ``randint`` the last two, computed as
    ``FastBEiTMaskGenerator`` does."""

    def __init__(self, stream: AttemptStream) -> None:
        self.stream, self.attempt, self.col = stream, 0, 0

    def uniform(self, low, high):
        if self.col >= 2:  # the last attempt's block did not fit
            self.attempt, self.col = self.attempt + 1, 0
        x = self.stream[4 * self.attempt + self.col]
        self.col += 1
        return low + (high - low) * x

    def randint(self, low, high):
        x = self.stream[4 * self.attempt + self.col]
        self.col += 1
        if self.col == 4:
            self.attempt, self.col = self.attempt + 1, 0
        return low + int(x * (high - low))


@pytest.mark.parametrize('kwargs', [
    MASKDISTILL,
    dict(input_size=8, num_masking_patches=26, min_num_patches=4,
         max_num_patches=26),  # the tiny demo config
    dict(input_size=(10, 16), num_masking_patches=60, min_num_patches=6,
         max_num_patches=20, min_aspect=0.5, max_aspect=3.0),
])
def test_same_masks_as_parent_given_the_same_attempts(kwargs, monkeypatch):
    parent = BEiTMaskGenerator(**kwargs)
    fast = FastBEiTMaskGenerator(**kwargs)
    for seed in range(200):
        stream = AttemptStream(seed)
        pos = [0]

        def draw(attempts, stream=stream, pos=pos):
            out = [stream[pos[0] + i] for i in range(4 * attempts)]
            pos[0] += 4 * attempts
            return out

        fast._draw_uniforms = draw
        ours = fast.transform({})['mask']
        fake = StreamedParent(stream)
        with monkeypatch.context() as m:
            m.setattr(np.random, 'uniform', fake.uniform)
            m.setattr(np.random, 'randint', fake.randint)
            ref = parent.transform({})['mask']
        assert ours.dtype == ref.dtype and ours.shape == ref.shape
        np.testing.assert_array_equal(ours, ref, err_msg=f'seed {seed}')


def sample(gen, seed: int, n: int = 2000) -> np.ndarray:
    np.random.seed(seed)
    return np.stack([gen.transform({})['mask'] for _ in range(n)])


@pytest.fixture(scope='module')
def masks():
    return (sample(BEiTMaskGenerator(**MASKDISTILL), 0),
            sample(FastBEiTMaskGenerator(**MASKDISTILL), 1))


def test_counts_and_bounds_match_parent(masks):
    ref, ours = masks
    assert ours.dtype == ref.dtype and ours.shape == ref.shape == (2000, 14,
                                                                   14)
    assert set(np.unique(ours)) == set(np.unique(ref)) == {0, 1}
    counts, ref_counts = ours.sum((1, 2)), ref.sum((1, 2))
    # the parent masks exactly num_masking_patches every time
    assert ref_counts.min() == ref_counts.max() == 75
    assert counts.min() == counts.max() == 75
    assert counts.mean() == ref_counts.mean()
    # BEiT's corners are randint(0, size - h): last row/column never masked
    for m in (ref, ours):
        assert not m[:, -1, :].any() and not m[:, :, -1].any()


def test_block_shapes_match_parent(masks):
    ref, ours = masks

    def components(m):
        return np.array([ndimage.label(x)[1] for x in m])

    c_ref, c_ours = components(ref), components(ours)
    # tolerances: ~5 standard deviations of the difference of two samples
    assert abs(c_ours.mean() - c_ref.mean()) < 0.08  # ~1.37 components
    assert abs((c_ours == 1).mean() - (c_ref == 1).mean()) < 0.07  # ~0.67
    assert c_ours.max() <= c_ref.max() + 2
    for axis in (1, 2):  # rows, columns touched (~10.6 of 14)
        occ_ref = ref.any(axis).sum(1)
        occ_ours = ours.any(axis).sum(1)
        assert abs(occ_ours.mean() - occ_ref.mean()) < 0.2
        assert abs(occ_ours.std() - occ_ref.std()) < 0.2
    # per-patch masking frequency (centre ~0.8, corners ~0.06)
    diff = np.abs(ours.mean(0) - ref.mean(0))
    assert diff.mean() < 0.02 and diff.max() < 0.08


def test_numpy_seed_gives_reproducible_masks():
    gen = FastBEiTMaskGenerator(**MASKDISTILL)
    a, b, c = sample(gen, 3, 5), sample(gen, 3, 5), sample(gen, 4, 5)
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


def test_registered_and_built_from_the_maskdistill_configs():
    assert TRANSFORMS.get('FastBEiTMaskGenerator') is FastBEiTMaskGenerator
    assert issubclass(FastBEiTMaskGenerator, BEiTMaskGenerator)
    for name, shape, count in [
            ('maskdistill_vit-base-p16_8xb256-coslr-300e_in1k.py', (14, 14),
             75), ('maskdistill_vit-tiny_1xb16-20i_demo.py', (8, 8), 26)]:
        cfg = Config.fromfile(osp.join(CONFIGS, name))
        gens = [t for t in cfg.train_dataloader.dataset.pipeline
                if t.type.endswith('MaskGenerator')]
        gen = TRANSFORMS.build(gens[0])
        assert isinstance(gen, FastBEiTMaskGenerator)
        mask = gen({})['mask']
        assert mask.shape == shape and mask.sum() == count


def test_accepts_parent_input_forms():
    for size in (14, (14, 14), [14, 14], np.int64(14)):
        gen = FastBEiTMaskGenerator(size, 75, min_num_patches=16)
        assert (gen.height, gen.width, gen.max_num_patches) == (14, 14, 75)
    gen = FastBEiTMaskGenerator((6, 9), 20, max_num_patches=8)
    mask = gen({})['mask']
    assert mask.shape == (6, 9) and mask.sum() == 20
    assert repr(gen).startswith('FastBEiTMaskGenerator(height=6, width=9')


@pytest.mark.parametrize('kwargs, match', [
    (dict(input_size=14, num_masking_patches=197), r'more than the 14x14=196'),
    (dict(input_size=14, num_masking_patches=170), r'at most \(14-1\)x\(14-1'),
    (dict(input_size=14, num_masking_patches=0), r'positive int'),
    (dict(input_size=14, num_masking_patches=75, min_num_patches=76),
     r'min_num_patches=76 is more than num_masking_patches=75'),
    (dict(input_size=14, num_masking_patches=75, min_num_patches=0),
     r'min_num_patches=0'),
    (dict(input_size=14, num_masking_patches=75, min_num_patches=16,
          max_num_patches=8), r'max_num_patches=8 is less than'),
    (dict(input_size=14, num_masking_patches=75, min_aspect=0),
     r'min_aspect=0 must be positive'),
    (dict(input_size=14, num_masking_patches=75, min_aspect=0.5,
          max_aspect=0.4), r'max_aspect=0.4'),
    (dict(input_size=(14, 14, 3), num_masking_patches=75), r'input_size'),
    (dict(input_size=14.0, num_masking_patches=75), r'input_size'),
    (dict(input_size=1, num_masking_patches=1, min_num_patches=1),
     r'at least 2x2'),
])
def test_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FastBEiTMaskGenerator(**kwargs)


def test_unsatisfiable_setting_raises_instead_of_looping():
    # 3x3 blocks only (area 10, aspect 1) on a 2-row grid: never fit; the
    # parent would loop forever
    gen = FastBEiTMaskGenerator((2, 40), 10, min_num_patches=10,
                                max_num_patches=10, min_aspect=1.0,
                                max_aspect=1.0)
    gen.max_failed_attempts = 1000
    with pytest.raises(RuntimeError, match='cannot be satisfied'):
        gen({})


# --------------------------------------------------------------------------
# BEiT v2's masking (MaskDistill): microsoft/unilm beit2/masking_generator.py
# --------------------------------------------------------------------------
from mim_plugins.datasets.transforms import BEiTv2MaskGenerator  # noqa: E402


def beitv2_reference(height, width, num_masking_patches, min_num_patches=4,
                     max_num_patches=None, min_aspect=0.3, max_aspect=None,
                     rand=None):
    """BEiT v2's ``MaskingGenerator.__call__``, written here from
    beit2/masking_generator.py: rounds of at most 10 attempts (``_mask``,
    lines 52-73), each drawing ``random.uniform`` area and log-aspect and
    inclusive ``random.randint(0, size - h)`` corners (lines 60-61); a round
    that masks nothing ends the drawing (lines 79-86) and the missing
    patches are masked uniformly among the unmasked ones with
    ``np.random.choice`` (lines 95-99). ``rand`` stands in for ``random``.
    Returns the mask and whether the random fill was used."""
    import random
    rand = rand or random
    max_num_patches = max_num_patches or num_masking_patches
    max_aspect = max_aspect or 1 / min_aspect
    log_lo, log_hi = np.log(min_aspect), np.log(max_aspect)
    mask = np.zeros((height, width), dtype=int)
    count = 0
    while count < num_masking_patches:
        max_mask = min(num_masking_patches - count, max_num_patches)
        delta = 0
        for _ in range(10):
            area = rand.uniform(min_num_patches, max_mask)
            aspect = np.exp(rand.uniform(log_lo, log_hi))
            h = int(round(np.sqrt(area * aspect)))
            w = int(round(np.sqrt(area / aspect)))
            if w < width and h < height:
                top = rand.randint(0, height - h)
                left = rand.randint(0, width - w)
                block = mask[top:top + h, left:left + w]
                new = h * w - block.sum()
                if 0 < new <= max_mask:
                    block[...] = 1
                    delta += new
            if delta > 0:
                break
        if delta == 0:
            break
        count += delta
    if count < num_masking_patches:
        rows, cols = (mask == 0).nonzero()
        pick = np.random.choice(rows.shape[0], num_masking_patches - count,
                                replace=False)
        mask[rows[pick], cols[pick]] = 1
    return mask, count < num_masking_patches


class StreamedRandom(StreamedParent):
    """``random`` for the reference: Python's inclusive ``randint``."""

    def randint(self, low, high):
        return super().randint(low, high + 1)


@pytest.mark.parametrize('kwargs', [
    MASKDISTILL,
    dict(input_size=8, num_masking_patches=26, min_num_patches=4),
    # blocks of area >= 12 on a 5x5 grid: rounds fail, the rest is random
    dict(input_size=5, num_masking_patches=20, min_num_patches=12),
])
def test_beitv2_same_masks_as_official_given_the_same_draws(kwargs):
    gen = BEiTv2MaskGenerator(**kwargs)
    ref_kwargs = dict(kwargs)
    size = ref_kwargs.pop('input_size')
    h, w = (size, size) if isinstance(size, int) else size
    filled = 0
    for seed in range(200):
        stream = AttemptStream(seed)
        pos = [0]

        def draw(attempts, stream=stream, pos=pos):
            out = [stream[pos[0] + i] for i in range(4 * attempts)]
            pos[0] += 4 * attempts
            return out

        gen._draw_uniforms = draw
        np.random.seed(seed)
        ours = gen.transform({})['mask']
        np.random.seed(seed)
        ref, used_fill = beitv2_reference(
            h, w, rand=StreamedRandom(stream), **ref_kwargs)
        np.testing.assert_array_equal(ours, ref, err_msg=f'seed {seed}')
        assert ours.sum() == kwargs['num_masking_patches']
        filled += used_fill
    if kwargs['input_size'] == 5:  # the random fill was exercised
        assert filled > 20


def test_beitv2_distribution_matches_official_and_reaches_the_border():
    """Per-position masking frequency over 3000 masks: ours against the
    reference with Python's own ``random``; mmpretrain's never masks the
    last row and column, BEiT v2's does (~0.14 of the time)."""
    import random
    random.seed(0)
    np.random.seed(0)
    ref = np.stack([beitv2_reference(14, 14, 75, min_num_patches=16)[0]
                    for _ in range(3000)])
    ours = sample(BEiTv2MaskGenerator(**MASKDISTILL), 1, 3000)
    assert (ours.sum((1, 2)) == 75).all() and (ref.sum((1, 2)) == 75).all()
    f_ref, f_ours = ref.mean(0), ours.mean(0)
    # one position's frequency over 3000 masks: sd <= 0.009 per sample
    assert np.abs(f_ours - f_ref).max() < 0.05
    assert np.abs(f_ours - f_ref).mean() < 0.012
    for f in (f_ref, f_ours):
        border = np.concatenate([f[-1, :], f[:, -1]]).mean()
        assert 0.08 < border < 0.22, border
    parent = sample(BEiTMaskGenerator(**MASKDISTILL), 2, 300)
    assert not parent[:, -1, :].any() and not parent[:, :, -1].any()


def test_maskdistill_configs_use_beitv2_masking():
    for name in ('maskdistill_vit-base-p16_8xb256-coslr-300e_in1k.py',
                 'maskdistill_vit-tiny_1xb16-20i_demo.py'):
        cfg = Config.fromfile(osp.join(CONFIGS, name))
        gens = [t.type for t in cfg.train_dataloader.dataset.pipeline
                if t.type.endswith('MaskGenerator')]
        assert gens == ['BEiTv2MaskGenerator'], (name, gens)
