"""Refuse to train from a partially loaded pre-trained checkpoint."""
from typing import Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ..pretrained_check import check_loaded_values, check_pretrained


@HOOKS.register_module()
class PretrainedCheckHook(Hook):
    """Check every ``init_cfg=dict(type='Pretrained', ...)`` of the model.

    Before the weights are initialised (``before_run``), each such module's
    checkpoint is dry-loaded: a missing file, or any weight that would not
    come from the checkpoint (wrong prefix, wrong arch, wrong checkpoint),
    stops the run with a report of loaded / missing / unexpected /
    mis-shaped keys. After initialisation (``before_train``) the loaded
    weights must still equal the checkpoint's. Skipped when resuming (the
    run's own checkpoint then provides every weight).

    Registered in mmengine's root registry, so mmpretrain, mmdet and mmseg
    configs can all use it.

    Args:
        allow_missing (Sequence[str]): Regexes of keys that may legitimately
            be new (e.g. a classification-only norm). Derived buffers
            (relative position index, BN batch counters) are always allowed.
    """

    priority = 'VERY_HIGH'

    def __init__(self, allow_missing: Sequence[str] = ()) -> None:
        self.allow_missing = list(allow_missing)
        self.reports = {}

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) \
            else runner.model

    @staticmethod
    def _will_resume(runner) -> bool:
        """Whether load_or_resume will restore a checkpoint of this run."""
        if not runner._resume:
            return False
        if runner._load_from:
            return True
        from mmengine.runner.checkpoint import find_latest_checkpoint
        return find_latest_checkpoint(runner.work_dir) is not None

    def before_run(self, runner) -> None:
        if self._will_resume(runner):
            return
        self.reports = check_pretrained(self._model(runner),
                                        self.allow_missing, config=runner.cfg)
        for name, report in self.reports.items():
            runner.logger.info(
                f'PretrainedCheckHook: {name or "model"} loads all '
                f'{len(report.loaded)} weights from {report.checkpoint} '
                f'(unexpected keys ignored: {len(report.unexpected)}).')

    def before_train(self, runner) -> None:
        if self.reports and runner.iter == 0:
            check_loaded_values(self._model(runner), self.reports)
