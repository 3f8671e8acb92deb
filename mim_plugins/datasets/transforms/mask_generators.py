"""Random block masks for SimMIM-style masked image modeling."""
import numpy as np

from mmpretrain.datasets.transforms import SimMIMMaskGenerator
from mmpretrain.registry import TRANSFORMS


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
        if input_size % mask_patch_size:
            raise ValueError(
                f'BlockwiseMaskGenerator: input_size={input_size} is not a '
                f'multiple of mask_patch_size={mask_patch_size}; use e.g. '
                f'input_size={input_size // mask_patch_size * mask_patch_size}'
                f' or a mask_patch_size that divides it.')
        if mask_patch_size % model_patch_size:
            raise ValueError(
                f'BlockwiseMaskGenerator: mask_patch_size={mask_patch_size} '
                f'is not a multiple of model_patch_size={model_patch_size} '
                f'(the stride of the masked feature map).')
        if not 0 < mask_ratio < 1:
            raise ValueError(f'BlockwiseMaskGenerator: mask_ratio={mask_ratio}'
                             f' must be in (0, 1).')
        super().__init__(input_size=input_size,
                         mask_patch_size=mask_patch_size,
                         model_patch_size=model_patch_size,
                         mask_ratio=mask_ratio)
        self._block = np.ones((self.scale, self.scale), dtype=np.int64)

    def transform(self, results: dict) -> dict:
        """Add ``results['mask']`` of shape (grid, grid)."""
        if 'img_shape' in results:
            h, w = results['img_shape'][:2]
            if (h, w) != (self.input_size, self.input_size):
                raise ValueError(
                    f'BlockwiseMaskGenerator: the image is {h}x{w} but '
                    f'input_size={self.input_size}; crop or resize the image '
                    f'to {self.input_size} px before the mask generator.')
        flat = np.zeros(self.token_count, dtype=np.int64)
        flat[np.random.permutation(self.token_count)[:self.mask_count]] = 1
        results['mask'] = np.kron(
            flat.reshape(self.rand_size, self.rand_size), self._block)
        return results
