from .package import MIM_DIR, mim_path, shown_path
from .safe_load import mmengine_safe_globals, register_safe_globals

__all__ = ['MIM_DIR', 'mim_path', 'mmengine_safe_globals',
           'register_safe_globals', 'shown_path']
