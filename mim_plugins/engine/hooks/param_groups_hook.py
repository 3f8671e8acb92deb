"""Plain-dict optimizer parameter groups, for ``compile=True``."""
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class PlainParamGroupsHook(Hook):
    """Turn the optimizer's parameter groups into plain dicts before
    training.

    mmengine's optimizer wrapper constructors build the optimizer from a
    config, so with ``paramwise_cfg`` (every recipe here) its param groups
    are ``ConfigDict`` objects. TorchDynamo fails on them when it traces the
    optimizer step of a compiled ``train_step`` (``compile=True``):
    ``InternalTorchDynamoError: 'UserDefinedDictVariable' object has no
    attribute 'items'``. Same keys and values, same parameters, the
    optimizer state untouched. ``tools/train.py`` adds this hook when the
    config sets ``compile``; with another launcher add
    ``custom_hooks = [dict(type='PlainParamGroupsHook')]``.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        wrappers = runner.optim_wrapper
        # an OptimWrapperDict holds several
        for wrapper in getattr(wrappers, 'optim_wrappers',
                               {'': wrappers}).values():
            groups = wrapper.optimizer.param_groups
            groups[:] = [dict(g) for g in groups]
