"""Stop at the first non-finite loss, before a checkpoint can store it."""
import math

from mmengine.hooks import Hook

from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class StopOnInvalidLossHook(Hook):
    """Raise ``FloatingPointError`` when the training loss is NaN or infinite.

    Runs before the checkpoint hook of the same iteration (priority
    'ABOVE_NORMAL'), so no checkpoint with poisoned weights is written and
    the last good one can be resumed with ``--resume``.

    Args:
        interval (int): Check every ``interval`` iterations. Defaults to 1.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, interval: int = 1) -> None:
        self.interval = interval

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if not self.every_n_train_iters(runner, self.interval):
            return
        loss = outputs['loss']
        value = float(loss.detach() if hasattr(loss, 'detach') else loss)
        if not math.isfinite(value):
            raise FloatingPointError(
                f'The training loss is {value} at iteration {runner.iter + 1} '
                f'(work dir {runner.work_dir}). Resume from the last '
                f'checkpoint with --resume after lowering the learning rate, '
                f'enabling gradient clipping (optim_wrapper.clip_grad) or, '
                f'under fp16 AMP, switching to bf16 or fp32.')
