from .clip_convert import clip_teacher_config, convert_clip_visual
from .clip_teacher import CLIPViTTeacher

__all__ = ['CLIPViTTeacher', 'clip_teacher_config', 'convert_clip_visual']
