"""mmdet-only parts; import with custom_imports=['mim_plugins', 'mim_plugins.det']."""
from .necks import SimpleFPN  # noqa: F401
