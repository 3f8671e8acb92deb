from .hooks import *  # noqa: F401,F403
from .device import adapt_cfg_to_device  # noqa: F401
from .ema import StepEMA  # noqa: F401
from .pretrained_check import analyse_pretrained, check_pretrained  # noqa: F401
from .optimizers import *  # noqa: F401,F403
from .runner import MIMRunner  # noqa: F401
from .schedulers import *  # noqa: F401,F403
