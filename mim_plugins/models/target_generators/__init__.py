from .clip_convert import convert_clip_visual
from .clip_teacher import CLIPViTTeacher

__all__ = ['CLIPViTTeacher', 'convert_clip_visual']
