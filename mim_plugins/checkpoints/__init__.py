"""Published checkpoints in and out.

In: :func:`import_checkpoint` reads a published checkpoint (openmixup
A2MIM/SimMIM, microsoft/SimMIM, MAE, timm, torchvision, mmpretrain model zoo),
recognises its layout from the keys, converts it with that source's pure
``convert(state_dict) -> Conversion`` (one ``from_<source>`` module each: a
rename table applied by :mod:`.rename`, the tensor transforms that are not
renames, and the family's ``finish_*`` of :mod:`.resnet`, :mod:`.vit`,
:mod:`.swin`, :mod:`.convnext`), checks it strictly
(:mod:`.strict_load`) against the backbone it names or, with ``config``,
against the config's ``model.backbone`` (:mod:`.target`), and writes an
mmengine checkpoint with ``backbone.*`` and, where the source has them, the
mask token and the linear decoder (``neck.*``): one file for downstream
configs (``prefix='backbone.'``) and for continued pre-training
(``load_from``).

Out: :func:`export_timm` renames our ResNet / ViT / ConvNeXt backbones to
timm's ``ResNet`` / ``VisionTransformer`` / ``Beit`` / ``ConvNeXt``.

CLIs: ``tools/model_converters/import_checkpoint.py`` and
``export_checkpoint.py``.
"""
from .common import Conversion, LayoutError
from .convert import (FORMATS, SOURCES, ImportResult, convert_checkpoint,
                      import_checkpoint, known_formats, load_source,
                      save_checkpoint, verify_conversion)
from .export import Export, export_timm
from .fileformat import NotACheckpointError, checkpoint_format
from .strict_load import LoadReport, analyse_pretrained, check_strict

__all__ = [
    'Conversion', 'Export', 'FORMATS', 'ImportResult', 'LayoutError',
    'LoadReport', 'NotACheckpointError', 'SOURCES', 'analyse_pretrained',
    'check_strict', 'checkpoint_format',
    'convert_checkpoint', 'export_timm', 'import_checkpoint',
    'known_formats', 'load_source', 'save_checkpoint', 'verify_conversion'
]
