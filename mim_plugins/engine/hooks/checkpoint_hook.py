"""mmengine's CheckpointHook, with nothing written lost."""
import os.path as osp

import torch
from mmengine.dist import all_gather_object, is_distributed, is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS

from .. import random_state
from ..checkpoint_files import write_text_atomic
from .divergence_hook import DivergenceError, resume_advice


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """:class:`~mmengine.hooks.CheckpointHook` that never loses a checkpoint.

    Same arguments and files as mmengine's hook, with three differences:

    - an old checkpoint beyond ``max_keep_ckpts`` is deleted only after the
      new one is written whole (mmengine deletes first, so a crash or a full
      disk while saving leaves nothing to resume from), and
      ``last_checkpoint`` is replaced atomically;
    - the random state of every rank is stored with the checkpoint
      (``meta['random_states']``), so a resumed run draws what the
      uninterrupted one would (:class:`~mim_plugins.engine.MIMRunner`
      restores it);
    - a model whose parameters are non-finite or above ``max_abs_weight``
      in magnitude, or whose buffers are non-finite, is not saved: the run
      stops with :class:`~mim_plugins.engine.hooks.DivergenceError`, and
      the last checkpoint stays the last good one.

    :class:`~mim_plugins.engine.MIMRunner` uses it in place of
    ``CheckpointHook`` and writes each file atomically.

    Args:
        max_abs_weight (float, optional): Largest parameter magnitude a
            healthy model has. Defaults to 1e6; ``None`` turns the check off.
        **kwargs: The arguments of mmengine's ``CheckpointHook``.
    """

    def __init__(self, *args, max_abs_weight: float = 1e6, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_abs_weight = max_abs_weight

    def _save_checkpoint_with_step(self, runner, step, meta):
        self._refuse_diverged(runner)
        stale = None
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        meta = dict(meta or {}, random_states=_all_random_states())
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        write_text_atomic(osp.join(runner.work_dir, 'last_checkpoint'),
                          self.last_ckpt)
        if stale is not None and stale != step:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(stale))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # DeepSpeed's checkpoints
                self.file_backend.rmtree(path)

    def _refuse_diverged(self, runner) -> None:
        """Stop before a diverged model becomes the last checkpoint. Every
        rank checks its own replica, so all stop together under DDP."""
        if self.max_abs_weight is None:
            return
        worst_name, worst, what = None, 0., None
        model = getattr(runner.model, 'module', runner.model)
        with torch.no_grad():
            for name, param in model.named_parameters():
                if param.numel() == 0:
                    continue
                peak = float(param.detach().abs().max())
                if peak != peak or peak > worst:  # NaN first
                    worst_name, worst = name, peak
                    if peak != peak:
                        break
            if worst == worst and worst > self.max_abs_weight:
                what = (f'its parameter {worst_name} reaches |w| = '
                        f'{worst:.4g} (max_abs_weight='
                        f'{self.max_abs_weight:g})')
            elif worst != worst:
                what = f'its parameter {worst_name} holds NaN'
            else:
                for name, buf in model.named_buffers():  # BN statistics
                    if buf.is_floating_point() and buf.numel() and \
                            not bool(torch.isfinite(buf).all()):
                        what = (f'its buffer {name} holds non-finite values '
                                f'(a normalisation statistic of a diverged '
                                f'forward pass)')
                        break
        if what is not None:
            raise DivergenceError(
                f'Not saving the checkpoint of iteration {runner.iter + 1}: '
                f'the model diverged, {what}. ' + resume_advice(runner))


def _all_random_states() -> list:
    """The random state of every rank, in rank order (on every rank)."""
    state = random_state.capture()
    if is_distributed():
        return all_gather_object(state)
    return [state]
