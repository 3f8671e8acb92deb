"""Save a reconstruction grid every N pre-training iterations."""
import os
import os.path as osp

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpretrain.registry import HOOKS
from ...visualization import (can_reconstruct, reconstruct_batch,
                              save_reconstruction_grid)


@HOOKS.register_module()
class ReconstructionVisHook(Hook):
    """Write ``{work_dir}/vis/reconstruction_iter_{N}.png`` every
    ``interval`` iterations and at the end of training: the first
    ``num_images`` images of the current batch, masked as they were trained,
    their reconstruction, and (A2MIM) the frequency-domain error.

    Draws ``A2MIM`` (its ``reconstruct(inputs, mask)``) and mmpretrain's
    ``SimMIM``; other models are skipped with one log line. Rank 0 only.

    Args:
        interval (int): Iterations between pictures. Defaults to 1000.
        num_images (int): Rows of the grid. Defaults to 4.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 1000, num_images: int = 4) -> None:
        self.interval = interval
        self.num_images = num_images
        self._last_batch = None

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self._last_batch = data_batch
        if self.every_n_train_iters(runner, self.interval):
            self._save(runner, data_batch, runner.iter + 1)

    def after_train(self, runner) -> None:
        # runner.iter is now the number of iterations done
        if self._last_batch is not None and runner.iter % self.interval:
            self._save(runner, self._last_batch, runner.iter)

    def _save(self, runner, data_batch, iteration: int) -> None:
        from mmengine.dist import is_main_process
        if not is_main_process() or data_batch is None:
            return
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        if not can_reconstruct(model):
            runner.logger.info('ReconstructionVisHook: the model has no '
                               'reconstruct(); no picture.')
            self.interval = float('inf')
            return
        n = self.num_images
        inputs = data_batch['inputs']
        inputs = inputs[0] if isinstance(inputs, list) and \
            isinstance(inputs[0], list) else inputs
        images = []
        for img in list(inputs)[:n]:
            arr = img.permute(1, 2, 0).cpu().numpy().astype(np.uint8)
            if getattr(model.data_preprocessor, '_channel_conversion', False):
                arr = arr[..., ::-1]  # loaded as BGR, the model sees RGB
            images.append(np.ascontiguousarray(arr))
        mask = torch.stack([s.mask for s in data_batch['data_samples'][:n]])
        result = reconstruct_batch(model, images, mask=mask)
        out_dir = osp.join(runner.work_dir, 'vis')
        os.makedirs(out_dir, exist_ok=True)
        path = osp.join(out_dir, f'reconstruction_iter_{iteration}.png')
        save_reconstruction_grid(
            result, path, title=f'{type(model).__name__} iteration '
            f'{iteration}',
            with_frequency=type(model).__name__ == 'A2MIM')
