from .hooks import *  # noqa: F401,F403
from .device import adapt_cfg_to_device  # noqa: F401
