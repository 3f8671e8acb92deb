"""Random block masks for SimMIM-style masked image modeling."""
import math

import numpy as np

from mmpretrain.datasets.transforms import SimMIMMaskGenerator
from mmpretrain.registry import TRANSFORMS


#: the deepest output stride of the backbones (ResNet, Swin, ConvNeXt): an
#: input size that must change is suggested as a multiple of it
DEEPEST_STRIDE = 32


def _lcm(a: int, b: int) -> int:
    return a * b // math.gcd(a, b)


def blockwise_size_error(input_size: int, mask_patch_size: int,
                         model_patch_size: int) -> str:
    """The message for sizes that do not fit, with one fix for all of them.

    The rules: ``input_size % mask_patch_size == 0`` (whole blocks) and
    ``mask_patch_size % model_patch_size == 0`` (a block covers whole cells
    of the masked feature map). ``model_patch_size`` is the backbone's stride
    at the masked stage and is kept. The fix keeps ``input_size`` too (the
    crop, and a ViT's ``img_size``) with the multiples of
    ``model_patch_size`` that divide it (nearest ``mask_patch_size``
    first); only if there is none, it names input sizes that are multiples
    of the block and of :data:`DEEPEST_STRIDE` as well.
    """
    model = model_patch_size
    problems = []
    if mask_patch_size % model:
        problems.append(f'mask_patch_size={mask_patch_size} is not a '
                        f'multiple of model_patch_size={model}')
    if input_size % mask_patch_size:
        problems.append(f'input_size={input_size} is not a multiple of '
                        f'mask_patch_size={mask_patch_size}')
    blocks = sorted(range(model, input_size // 2 + 1, model),
                    key=lambda m: (abs(m - mask_patch_size), -m))
    blocks = [m for m in blocks if input_size % m == 0]
    stride = f'model_patch_size={model} (the backbone\'s stride at the ' \
        f'masked stage)'
    if blocks:
        more = f' (or {", ".join(map(str, blocks[1:4]))})' \
            if blocks[1:] else ''
        fix = (f'Use mask_patch_size={blocks[0]}{more}, a multiple of {model} '
               f'that divides {input_size}, keeping input_size={input_size} '
               f'and {stride}.')
    else:
        block = max(model, round(mask_patch_size / model) * model)
        step = _lcm(block, DEEPEST_STRIDE)
        low = input_size // step * step
        sizes = ' or '.join(str(s) for s in (low, low + step) if s > block)
        why = f'is not a multiple of {stride}' if input_size % model else \
            f'is less than 2 blocks of {stride}'
        fix = (f'No block size fits input_size={input_size}: it {why}. Use '
               f'input_size={sizes} with mask_patch_size={block}, and crop '
               f'the images (and set a ViT\'s img_size) to that size.')
    return f'BlockwiseMaskGenerator: {" and ".join(problems)}. {fix}'


@TRANSFORMS.register_module()
class BlockwiseMaskGenerator(SimMIMMaskGenerator):
    """mmpretrain's ``SimMIMMaskGenerator`` with checked sizes.

    Masks ``ceil(ratio * n)`` of the ``n = (input_size / mask_patch_size)^2``
    blocks at random and writes ``results['mask']``, an int array at the
    model's patch resolution: ``input_size / model_patch_size`` squared. For
    A2MIM/SimMIM at 224 px: 32-px blocks, ratio 0.6 (30 of 49), model patch
    16 (a ViT/16, or the stride-16 input of ResNet stage 4).

    Args:
        input_size (int): Image size; must match the crop. Defaults to 192.
        mask_patch_size (int): Block size in pixels. Defaults to 32.
        model_patch_size (int): Stride of the masked feature map.
            Defaults to 4.
        mask_ratio (float): Fraction of masked blocks. Defaults to 0.6.
    """

    def __init__(self,
                 input_size: int = 192,
                 mask_patch_size: int = 32,
                 model_patch_size: int = 4,
                 mask_ratio: float = 0.6) -> None:
        sizes = dict(input_size=input_size, mask_patch_size=mask_patch_size,
                     model_patch_size=model_patch_size)
        for key, value in sizes.items():
            if not isinstance(value, (int, np.integer)) \
                    or isinstance(value, bool) or value < 1:
                raise ValueError(f'BlockwiseMaskGenerator: {key}={value!r} '
                                 f'must be a positive int (pixels).')
        if input_size % mask_patch_size or mask_patch_size % model_patch_size:
            raise ValueError(blockwise_size_error(
                input_size, mask_patch_size, model_patch_size))
        if not 0 < mask_ratio < 1:
            raise ValueError(f'BlockwiseMaskGenerator: mask_ratio={mask_ratio}'
                             f' must be in (0, 1).')
        super().__init__(input_size=input_size,
                         mask_patch_size=mask_patch_size,
                         model_patch_size=model_patch_size,
                         mask_ratio=mask_ratio)

    def transform(self, results: dict) -> dict:
        """Add ``results['mask']`` of shape (grid, grid)."""
        if 'img_shape' in results:
            h, w = results['img_shape'][:2]
            if (h, w) != (self.input_size, self.input_size):
                raise ValueError(
                    f'BlockwiseMaskGenerator: the image is {h}x{w} but '
                    f'input_size={self.input_size}; crop or resize the image '
                    f'to {self.input_size} px before the mask generator.')
        # the parent's masks (numpy's global RNG, repeat: ~4x faster than
        # np.kron)
        return super().transform(results)


# --------------------------------------------------------------------------
# BEiT block-wise masking, fast
# --------------------------------------------------------------------------
from typing import List, Optional, Sequence, Union  # noqa: E402

from mmpretrain.datasets.transforms import BEiTMaskGenerator  # noqa: E402


@TRANSFORMS.register_module()
class FastBEiTMaskGenerator(BEiTMaskGenerator):
    """mmpretrain's ``BEiTMaskGenerator`` with checked arguments, ~8x faster.

    Same arguments, same output (``results['mask']``, an int array of shape
    ``input_size`` with exactly ``num_masking_patches`` ones) and the same
    sampler: attempts draw a target area ``U(min_num_patches, m)``, with
    ``m = min(remaining, max_num_patches)``, and a log-uniform aspect ratio,
    round them to an ``h x w`` block, and, if ``h < height`` and
    ``w < width``, a top-left corner ``top ~ randint(0, height - h)``,
    ``left ~ randint(0, width - w)`` (so, as in BEiT, the last row and column
    are never masked). An attempt is kept iff it masks between 1 and ``m``
    new patches; attempts are repeated until ``num_masking_patches`` patches
    are masked. The parent's grouping of attempts in rounds of 10 does not
    change the state between rounds, so it is not repeated here.

    What is faster: the uniforms of many attempts come from one numpy call
    (numpy's global RNG, so ``np.random.seed`` and the dataloader's worker
    seeding still apply; nothing is buffered between calls), the mask is a
    Python integer bit field while sampling (a block's overlap is one
    ``&`` and a popcount), and the output array is filled by slicing, once
    per kept block. Corners are drawn as ``int(u * n)`` from a 53-bit
    uniform ``u`` instead of ``randint(0, n)`` (a difference of order
    ``2**-53`` in probability).

    Args:
        input_size (int | tuple[int, int]): Mask height and width, in
            patches.
        num_masking_patches (int): Patches masked per mask.
        min_num_patches (int): Smallest target area of a block.
            Defaults to 4.
        max_num_patches (int, optional): Largest target area of a block;
            ``None`` for ``num_masking_patches``. Defaults to None.
        min_aspect (float): Smallest block aspect ratio (h / w).
            Defaults to 0.3.
        max_aspect (float, optional): Largest aspect ratio; ``None`` for
            ``1 / min_aspect``. Defaults to None.
    """

    #: uniforms are drawn for this many attempts at first, then for twice
    #: as many each time they run out (mean ~17 attempts per 14x14 mask
    #: with MaskDistill's settings, 99th percentile ~80)
    first_draw = 32
    #: an error instead of the parent's endless loop after this many
    #: attempts in a row that mask nothing (an unsatisfiable setting)
    max_failed_attempts = 1_000_000
    #: corners drawn in [0, height - h] (BEiT's and BEiT v2's
    #: ``random.randint``) instead of mmpretrain's [0, height - h)
    corners_inclusive = False
    #: if set, stop drawing blocks after this many attempts in a row that
    #: mask nothing, and mask the patches still missing uniformly at random
    #: among the unmasked ones (BEiT v2's ``MaskingGenerator.__call__``);
    #: None: draw until the count is reached (mmpretrain)
    attempts_per_round: Optional[int] = None

    def __init__(self,
                 input_size: Union[int, Sequence[int]],
                 num_masking_patches: int,
                 min_num_patches: int = 4,
                 max_num_patches: Optional[int] = None,
                 min_aspect: float = 0.3,
                 max_aspect: Optional[float] = None) -> None:
        name = type(self).__name__

        def is_int(x) -> bool:
            return isinstance(x, (int, np.integer)) and not isinstance(
                x, (bool, np.bool_))

        if is_int(input_size):
            input_size = (int(input_size), ) * 2
        elif (isinstance(input_size, (tuple, list)) and len(input_size) == 2
              and all(is_int(s) for s in input_size)):
            input_size = tuple(int(s) for s in input_size)
        else:
            raise ValueError(
                f'{name}: input_size={input_size!r} must be an int or a '
                f'(height, width) pair of ints, in patches.')
        height, width = input_size
        if height < 2 or width < 2:
            raise ValueError(
                f'{name}: input_size={input_size} is too small; blocks must '
                f'be smaller than the grid, so it needs at least 2x2 patches.')
        num_patches = height * width
        # with corners drawn in [0, height - h), blocks never reach the last
        # row or column
        reachable = num_patches if self.corners_inclusive else (
            height - 1) * (width - 1)
        if not is_int(num_masking_patches) or num_masking_patches < 1:
            raise ValueError(
                f'{name}: num_masking_patches={num_masking_patches!r} must be '
                f'a positive int.')
        if num_masking_patches > num_patches:
            raise ValueError(
                f'{name}: num_masking_patches={num_masking_patches} is more '
                f'than the {height}x{width}={num_patches} patches of '
                f'input_size={input_size}.')
        if num_masking_patches > reachable:
            raise ValueError(
                f'{name}: num_masking_patches={num_masking_patches} cannot be '
                f'reached: BEiT blocks never cover the last row or column, '
                f'so at most ({height}-1)x({width}-1)={reachable} patches of '
                f'input_size={input_size} can be masked (mmpretrain\'s '
                f'BEiTMaskGenerator would loop forever).')
        if not is_int(min_num_patches) or min_num_patches < 1:
            raise ValueError(
                f'{name}: min_num_patches={min_num_patches!r} must be a '
                f'positive int.')
        if min_num_patches > num_masking_patches:
            raise ValueError(
                f'{name}: min_num_patches={min_num_patches} is more than '
                f'num_masking_patches={num_masking_patches}; use '
                f'min_num_patches <= {num_masking_patches}.')
        if max_num_patches is not None:
            if not is_int(max_num_patches):
                raise ValueError(
                    f'{name}: max_num_patches={max_num_patches!r} must be an '
                    f'int or None.')
            if max_num_patches < min_num_patches:
                raise ValueError(
                    f'{name}: max_num_patches={max_num_patches} is less than '
                    f'min_num_patches={min_num_patches}.')
        if not min_aspect > 0:
            raise ValueError(
                f'{name}: min_aspect={min_aspect!r} must be positive.')
        if max_aspect is not None and not max_aspect >= min_aspect:
            raise ValueError(
                f'{name}: max_aspect={max_aspect!r} must be None (for '
                f'1 / min_aspect) or at least min_aspect={min_aspect}.')
        super().__init__(input_size=input_size,
                         num_masking_patches=int(num_masking_patches),
                         min_num_patches=int(min_num_patches),
                         max_num_patches=None if max_num_patches is None else
                         int(max_num_patches),
                         min_aspect=min_aspect,
                         max_aspect=max_aspect)
        # bit (i * width + j) is patch (i, j): a row of w ones starting at
        # column `left` is _row_bits[w] << left; _repeat[h] copies a row to
        # h consecutive rows (no carries: a row has fewer than width bits)
        self._row_bits = [(1 << w) - 1 for w in range(width + 1)]
        self._repeat = [
            sum(1 << (i * width) for i in range(h)) for h in range(height + 1)
        ]

    def _draw_uniforms(self, attempts: int) -> List[float]:
        """``4 * attempts`` uniforms in [0, 1): area, log-aspect, top and
        left of each attempt, from numpy's global RNG."""
        return np.random.random_sample(4 * attempts).tolist()

    def transform(self, results: dict) -> dict:
        """Add ``results['mask']``, an int array of shape (height, width)."""
        height, width = self.height, self.width
        row_bits, repeat = self._row_bits, self._repeat
        min_area = self.min_num_patches
        max_area = self.max_num_patches
        log_lo, log_hi = self.log_aspect_ratio
        log_span = log_hi - log_lo
        sqrt, exp = math.sqrt, math.exp

        mask = np.zeros((height, width), dtype=int)
        bits = 0  # the mask as a bit field
        remaining = self.num_masking_patches
        incl = int(self.corners_inclusive)
        per_round = self.attempts_per_round
        draw = self.first_draw
        u = self._draw_uniforms(draw)
        k, end = 0, len(u)
        failed = start = 0  # attempts since the last kept block: failed
        # in earlier draws, plus those from index `start` of this one
        while remaining:
            max_mask = remaining if remaining < max_area else max_area
            span = max_mask - min_area  # np.random.uniform's (high - low)
            kept = False
            while True:
                if per_round and failed + (k - start) // 4 == per_round:
                    break  # a whole round masked nothing
                if k == end:
                    failed += (end - start) // 4
                    if failed >= self.max_failed_attempts:
                        raise RuntimeError(
                            f'{type(self).__name__}: {failed} attempts in a '
                            f'row masked nothing ({remaining} of '
                            f'{self.num_masking_patches} patches left to '
                            f'mask); the settings cannot be satisfied: '
                            f'{self!r}')
                    draw = min(2 * draw, 4096)
                    u = self._draw_uniforms(draw)
                    k, start, end = 0, 0, len(u)
                target_area = min_area + span * u[k]
                aspect_ratio = exp(log_lo + log_span * u[k + 1])
                h = round(sqrt(target_area * aspect_ratio))
                w = round(sqrt(target_area / aspect_ratio))
                if w < width and h < height:
                    top = int(u[k + 2] * (height - h + incl))
                    left = int(u[k + 3] * (width - w + incl))
                    block = (row_bits[w] << left) * repeat[h] << (top * width)
                    new = h * w - (bits & block).bit_count()
                    if 0 < new <= max_mask:
                        k += 4
                        kept = True
                        break
                k += 4
            if not kept:
                # BEiT v2: the rest uniformly among the unmasked patches
                free = np.flatnonzero(mask == 0)
                mask.flat[np.random.choice(free, remaining,
                                           replace=False)] = 1
                break
            bits |= block
            mask[top:top + h, left:left + w] = 1
            remaining -= new
            failed, start = 0, k
        results['mask'] = mask
        return results


@TRANSFORMS.register_module()
class BEiTv2MaskGenerator(FastBEiTMaskGenerator):
    """BEiT v2's block-wise masking (microsoft/unilm
    ``beit2/masking_generator.py``), MaskDistill's masking.

    The sampler of :class:`FastBEiTMaskGenerator` with BEiT v2's two
    differences from mmpretrain's ``BEiTMaskGenerator``:

    - block corners are drawn with the inclusive ``random.randint(0,
      height - h)``, so blocks reach the last row and column (mmpretrain's
      exclusive ``np.random.randint`` never masks them);
    - blocks are drawn in rounds of 10 attempts; when a whole round masks
      nothing, drawing stops and the patches still missing are masked
      uniformly at random among the unmasked ones, so every mask has exactly
      ``num_masking_patches`` ones.

    Same arguments as :class:`FastBEiTMaskGenerator`; numpy's global RNG
    instead of Python's ``random`` (the same distribution).
    """

    corners_inclusive = True
    attempts_per_round = 10
