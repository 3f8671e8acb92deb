"""mmpretrain's ResNet with the ResNet-200 depth (openmixup's layout)."""
from mmpretrain.models.backbones import ResNet
from mmpretrain.models.backbones.resnet import Bottleneck
from mmpretrain.registry import MODELS

#: blocks per stage of ResNet-200 (Bottleneck), as openmixup's ResNet and
#: He et al., "Identity Mappings in Deep Residual Networks"
RESNET200_BLOCKS = (3, 24, 36, 3)


@MODELS.register_module()
class DeepResNet(ResNet):
    """mmpretrain's ``ResNet`` that also builds ``depth=200``.

    mmpretrain's ``ResNet`` stops at depth 152; this adds
    ``200: (Bottleneck, (3, 24, 36, 3))`` and is otherwise the same class,
    with the same checkpoint keys. It is the downstream backbone of a
    ResNet-200 pre-trained by ``A2MIMResNet`` / ``SimMIMResNet``
    (``mim_plugins.det`` and ``mim_plugins.seg`` register the mmdet and
    mmseg counterparts under the same name).

    Args:
        **kwargs: Arguments of mmpretrain's ``ResNet``.
    """

    arch_settings = {**ResNet.arch_settings,
                     200: (Bottleneck, RESNET200_BLOCKS)}
