"""mmseg's ResNet with the ResNet-200 depth."""
from mmseg.models.backbones import ResNet
from mmseg.models.backbones.resnet import Bottleneck
from mmseg.registry import MODELS

from mim_plugins.models.backbones.deep_resnet import RESNET200_BLOCKS


@MODELS.register_module()
class DeepResNet(ResNet):
    """mmseg's ``ResNet`` that also builds ``depth=200``
    (``200: (Bottleneck, (3, 24, 36, 3))``), for a ResNet-200 pre-trained by
    ``A2MIMResNet`` / ``SimMIMResNet``; otherwise the same class and keys.

    Args:
        **kwargs: Arguments of mmseg's ``ResNet``.
    """

    arch_settings = {**ResNet.arch_settings,
                     200: (Bottleneck, RESNET200_BLOCKS)}
