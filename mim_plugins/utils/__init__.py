from .safe_load import mmengine_safe_globals, register_safe_globals

__all__ = ['mmengine_safe_globals', 'register_safe_globals']
