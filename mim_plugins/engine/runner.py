"""mmengine's Runner with nothing lost when training goes wrong."""
import copy
import os
import os.path as osp
import time
from typing import Dict, Optional

from mmengine.dist import get_dist_info, is_distributed
from mmengine.hooks import Hook
from mmengine.registry import RUNNERS
from mmengine.runner import IterBasedTrainLoop, Runner
from torch.utils.data import DataLoader

from . import random_state
from .checkpoint_files import damage, newest_intact, partial_name
from .config_check import check_config

#: seconds a collective may wait for the other ranks (torch's default for
#: gloo), set with ``env_cfg.dist_cfg.timeout``
DEFAULT_DIST_TIMEOUT = 1800


@RUNNERS.register_module()
class MIMRunner(Runner):
    """The :class:`~mmengine.runner.Runner` of mim_plugins configs
    (``runner_type = 'MIMRunner'``); a drop-in for mmengine's, so
    mmpretrain's, mmdet's and mmseg's train scripts use it too.

    What it adds, so that nothing written is lost and nothing fails
    silently:

    - **Checkpoints.** Each file is written under a temporary name and
      renamed when complete; ``default_hooks.checkpoint`` of type
      ``CheckpointHook`` becomes :class:`SafeCheckpointHook` (old files are
      deleted after the new one is safe, the random state of every rank is
      stored, a diverged model is not saved).
    - **Resume.** ``resume=True`` takes the newest *intact* checkpoint of
      the work dir and names, in a warning, each newer one it passed over
      (truncated, damaged, deleted); ``resume_lr_factor`` scales the
      resumed learning rates (optimizer and schedules); the random states
      are restored where the interrupted run had them, so the resumed run
      draws what the uninterrupted one would (drop path, masks, data).
    - **Divergence.** :class:`DivergenceHook` is a default hook
      (``default_hooks.divergence``; ``None`` turns it off).
    - **Data.** Pipeline errors name the sample's files;
      ``<split>_dataloader.skip_unreadable=True`` skips unreadable images
      in training with a logged count; a data set that is empty after
      filtering says why when it is built.
    - **Config.** An image size the backbone or mask grid cannot take
      stops the build; top-level keys that nothing reads are warned about.
    - **Distributed.** Process groups get a timeout
      (``env_cfg.dist_cfg.timeout``, seconds, default 1800); when a
      collective times out, the error names the ranks that stopped
      responding and the last iteration each finished.
    - Validation draws do not change the training's random state.
    """

    def __init__(self, *args, **kwargs):
        #: multiplies the learning rates of a resumed run (top-level config
        #: key ``resume_lr_factor``, ``tools/train.py --lr-factor``)
        self.resume_lr_factor = None
        self._resumed_random_states = None
        super().__init__(*args, **kwargs)

    @classmethod
    def from_cfg(cls, cfg) -> 'MIMRunner':
        cfg, factor = runner_cfg(cfg)
        runner = super().from_cfg(cfg)
        runner.resume_lr_factor = factor
        return runner

    # hooks -----------------------------------------------------------------

    def register_default_hooks(self, hooks=None) -> None:
        super().register_default_hooks(
            guarded_default_hooks(hooks, 'SafeCheckpointHook'))
        self.register_hook(_RunGuardHook())

    # checkpoints -----------------------------------------------------------

    def save_checkpoint(self, out_dir, filename, file_client_args=None,
                        save_optimizer=True, save_param_scheduler=True,
                        meta=None, by_epoch=True, backend_args=None):
        """mmengine's ``save_checkpoint``, written to a temporary file that
        is renamed when complete (local folders; other backends write in
        one request). A write that fails (a full disk) removes the partial
        file and says that the previous checkpoints are intact."""
        from mmengine.dist import is_main_process
        if not is_main_process():
            return
        meta = dict(meta or {})
        meta.setdefault('random_states', [random_state.capture()])
        local = (file_client_args is None and backend_args is None
                 and '://' not in str(out_dir))
        if not local:
            return super().save_checkpoint(
                out_dir, filename, file_client_args, save_optimizer,
                save_param_scheduler, meta, by_epoch, backend_args)
        final = osp.join(out_dir, filename)
        partial = partial_name(final)
        try:
            super().save_checkpoint(
                out_dir, osp.basename(partial), None, save_optimizer,
                save_param_scheduler, meta, by_epoch, None)
            os.replace(partial, final)
        except BaseException as e:
            if osp.exists(partial):
                os.remove(partial)
            if isinstance(e, OSError):
                raise OSError(
                    e.errno, f'Could not write the checkpoint {final} '
                    f'({e.strerror or e}). Nothing was replaced: the '
                    f'checkpoints already in {out_dir} are intact and '
                    f'--resume continues from the newest. Free space (or '
                    f'set default_hooks.checkpoint.max_keep_ckpts), then '
                    f'resume.') from e
            raise

    def load_checkpoint(self, filename, map_location='cpu', strict=False,
                        revise_keys=[(r'^module.', '')]):
        checkpoint = super().load_checkpoint(
            filename, map_location=map_location, strict=strict,
            revise_keys=revise_keys)
        self._resumed_random_states = (checkpoint.get('meta') or {}).get(
            'random_states')
        return checkpoint

    def load_or_resume(self) -> None:
        if self._has_loaded:
            return None
        resuming = bool(self._resume)
        if self._resume and self._load_from is None:
            self._load_from = self._newest_intact_checkpoint()
            if self._load_from is None:
                self._resume = False  # nothing to resume: start afresh
        elif self._resume:
            why = damage(self._load_from) if '://' not in str(
                self._load_from) else None
            if why is not None:
                raise FileNotFoundError(
                    f'Cannot resume from {self._load_from}: {why}. Resume '
                    f'from the newest intact checkpoint of the work dir with '
                    f'--resume and no path, or name another checkpoint.')
        super().load_or_resume()
        if resuming and self._has_loaded:
            self._continue_random_states()
            if self.resume_lr_factor is not None:
                self._scale_resumed_lr(self.resume_lr_factor)

    def _newest_intact_checkpoint(self) -> Optional[str]:
        path, skipped = newest_intact(self.work_dir)
        for bad, why in skipped:
            self.logger.warning(
                f'Not resuming from {bad}: {why}. '
                + ('Resuming from the older ' + path + ' instead.'
                   if path else ''))
        if path is None and skipped:
            raise FileNotFoundError(
                f'No intact checkpoint to resume from in {self.work_dir}: '
                + '; '.join(f'{p}: {w}' for p, w in skipped)
                + '. Remove these files to start afresh, or name a '
                'checkpoint with --resume PATH.')
        if path is None:
            self.logger.info(f'No checkpoint in {self.work_dir} to resume '
                             f'from: training from the start.')
        return path

    def _continue_random_states(self) -> None:
        """Restore this rank's random state from the resumed checkpoint
        where the interrupted run had it: after the data an iteration-based
        loop skips (mmengine replays it through the pipeline), else now."""
        states = self._resumed_random_states
        if not states:
            self.logger.warning(
                'The resumed checkpoint holds no random state (not written '
                'by MIMRunner): the resumed run draws other random numbers '
                'than the interrupted one would have.')
            return
        rank, world = get_dist_info()
        if len(states) != world:
            self.logger.warning(
                f'The resumed checkpoint holds the random states of '
                f'{len(states)} ranks, this run has {world}: they are not '
                f'restored.')
            return
        state = states[rank]
        loop = self._train_loop
        if isinstance(loop, IterBasedTrainLoop) and loop._iter > 0:
            loop.dataloader_iterator = _RestoreAfterSkip(
                loop.dataloader_iterator, loop._iter, state)
        else:
            random_state.restore(state)

    def _scale_resumed_lr(self, factor: float) -> None:
        """Multiply the resumed learning rates by ``factor``: each param
        group's lr (and initial_lr) and each lr schedule's base and minimum
        values, so the schedule goes on from the lower lr."""
        groups = self.optim_wrapper.param_groups
        before = [g['lr'] for g in groups]
        for group in groups:
            group['lr'] *= factor
            if 'initial_lr' in group:
                group['initial_lr'] *= factor
        schedulers = self.param_schedulers or []
        if isinstance(schedulers, dict):
            schedulers = [s for v in schedulers.values() for s in v]
        for s in schedulers:
            if getattr(s, 'param_name', None) != 'lr':
                continue
            s.base_values = [v * factor for v in s.base_values]
            if hasattr(s, '_last_value'):
                s._last_value = [v * factor for v in s._last_value]
            if getattr(s, 'eta_min', None):
                s.eta_min *= factor
        self.logger.info(
            f'resume_lr_factor={factor}: learning rates '
            f'{[round(v, 10) for v in before]} -> '
            f'{[round(g["lr"], 10) for g in groups]}.')

    # data ------------------------------------------------------------------

    @staticmethod
    def build_dataloader(dataloader, seed=None, diff_rank_seed=False):
        """mmengine's ``build_dataloader``, plus ``skip_unreadable`` in the
        dataloader config, sample-naming pipeline errors and an
        explanation when the data set is empty."""
        from ..datasets.checks import (EmptyDatasetError, explain_empty,
                                       name_sample_errors)
        if isinstance(dataloader, DataLoader):
            return dataloader
        cfg = copy.deepcopy(dataloader)
        skip = bool(cfg.pop('skip_unreadable', False))
        try:
            loader = Runner.build_dataloader(cfg, seed=seed,
                                             diff_rank_seed=diff_rank_seed)
        except ValueError as e:
            if 'need at least one array to concatenate' in str(e):
                raise EmptyDatasetError(explain_empty(cfg['dataset'])) from e
            raise
        if isinstance(cfg.get('dataset'), dict) and len(loader.dataset) == 0:
            raise EmptyDatasetError(explain_empty(cfg['dataset']))
        name_sample_errors(loader.dataset, skip)
        return loader

    # distributed -----------------------------------------------------------

    def train(self):
        try:
            return super().train()
        except RuntimeError as e:
            if is_distributed() and _is_timeout(e):
                raise RuntimeError(_stuck_ranks(self, e)) from e
            raise


def runner_cfg(cfg):
    """A copy of ``cfg`` for a MIM runner, checked (:func:`check_config`)
    and with the process-group timeout set, and its ``resume_lr_factor``."""
    check_config(cfg)
    cfg = copy.deepcopy(cfg)
    cfg.setdefault('env_cfg', dict(dist_cfg=dict(backend='nccl')))
    cfg.env_cfg.setdefault('dist_cfg', {}).setdefault(
        'timeout', DEFAULT_DIST_TIMEOUT)
    factor = cfg.get('resume_lr_factor')
    if factor is not None and not float(factor) > 0:
        raise ValueError(f'resume_lr_factor must be positive, got {factor}.')
    return cfg, factor


def guarded_default_hooks(hooks, checkpoint_type: str,
                          replaced=('CheckpointHook',
                                    'mmengine.CheckpointHook')) -> dict:
    """``default_hooks`` with mmengine's checkpoint hook (a type in
    ``replaced``) as ``checkpoint_type`` and the divergence guard added
    (``divergence=None`` removes it)."""
    hooks = dict(hooks or {})
    checkpoint = hooks.get('checkpoint', dict(interval=1))
    if isinstance(checkpoint, dict) and checkpoint.get(
            'type', 'CheckpointHook') in replaced:
        hooks['checkpoint'] = dict(checkpoint, type=checkpoint_type)
    divergence = hooks.get('divergence', {})
    if isinstance(divergence, dict):
        hooks['divergence'] = dict(dict(type='DivergenceHook'), **divergence)
    elif divergence is None:
        hooks.pop('divergence')
    return hooks


class _RestoreAfterSkip:
    """The train loop's data iterator, restoring a random state just before
    the first batch after the ``skip`` batches a resumed loop replays."""

    def __init__(self, iterator, skip: int, state: Dict):
        self._iterator, self._left, self._state = iterator, skip, state

    def __iter__(self):
        return self

    def __next__(self):
        if self._left == 0 and self._state is not None:
            random_state.restore(self._state)
            self._state = None
        self._left -= 1
        return next(self._iterator)

    def __getattr__(self, name):
        return getattr(self._iterator, name)


class _RunGuardHook(Hook):
    """Keeps validation out of the training's random draws and records, in
    the process group's store, the last iteration each rank finished."""

    priority = 'VERY_LOW'

    def before_val(self, runner) -> None:
        self._fork = random_state.fork().__enter__()

    def after_val(self, runner) -> None:
        fork = getattr(self, '_fork', None)
        if fork is not None:
            fork.__exit__(None, None, None)
            self._fork = None

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        store = _store()
        if store is not None:
            store.set(f'mim_plugins/done/{runner.rank}',
                      f'{runner.iter + 1} {time.time():.0f}')


def _store():
    import torch.distributed as dist
    if not is_distributed():
        return None
    try:
        return dist.distributed_c10d._get_default_store()
    except Exception:  # noqa: BLE001  private API; the report degrades
        return None


def _is_timeout(error: Exception) -> bool:
    text = str(error).lower()
    return 'timed out' in text or 'timeout' in text


def _stuck_ranks(runner, error: Exception) -> str:
    """The message for a collective that timed out: which ranks did not
    reach it, and the last iteration each rank finished."""
    import datetime
    rank, world = get_dist_info()
    timeout = (runner.cfg.get('env_cfg') or {}).get('dist_cfg', {}).get(
        'timeout', DEFAULT_DIST_TIMEOUT)
    head = (f'Rank {rank} waited {timeout} s (env_cfg.dist_cfg.timeout) '
            f'for the other ranks in a collective operation at iteration '
            f'{runner.iter + 1}, and they did not come')
    store = _store()
    if store is None:
        return head + f' ({error}).'
    try:
        store.set_timeout(datetime.timedelta(seconds=10))
        store.set(f'mim_plugins/timed_out/{rank}', str(runner.iter + 1))
        time.sleep(min(5., max(1., float(timeout) / 10)))
        waiting, finished = [], {}
        for r in range(world):
            if store.check([f'mim_plugins/timed_out/{r}']):
                waiting.append(r)
            if store.check([f'mim_plugins/done/{r}']):
                it, at = store.get(f'mim_plugins/done/{r}').decode().split()
                finished[r] = (int(it), time.time() - float(at))
    except Exception as e:  # noqa: BLE001  the store may be gone too
        return head + f' ({error}; the store could not be read: {e}).'
    stuck = [r for r in range(world) if r not in waiting]
    parts = []
    for r in stuck:
        it, ago = finished.get(r, (0, None))
        parts.append(f'rank {r} last finished iteration {it}' + (
            f' {ago:.0f} s ago' if ago is not None else ''))
    return (head + ': ' + ('; '.join(parts) or 'every rank timed out')
            + f'. Stopped responding: rank(s) {stuck or "unknown"} (a hang '
            f'in data loading, a deadlock, a dead node: see their logs). If '
            f'a step legitimately takes longer (e.g. saving a large '
            f'checkpoint), raise env_cfg.dist_cfg.timeout. ({error})')
