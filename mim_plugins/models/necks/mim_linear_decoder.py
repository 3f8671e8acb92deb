"""The linear MIM decoder, initialised as openmixup's."""
import copy
from typing import Optional, Union

from mmpretrain.models.necks import SimMIMLinearDecoder
from mmpretrain.registry import MODELS

#: openmixup's NonLinearMIMNeck / SimMIMNeck ``init_weights``
#: (``openmixup/models/necks/mim_neck.py``): trunc-normal(0.02), zero bias
OPENMIXUP_INIT = dict(type='TruncNormal', layer='Conv2d', std=0.02, bias=0.)


@MODELS.register_module()
class MIMLinearDecoder(SimMIMLinearDecoder):
    """mmpretrain's ``SimMIMLinearDecoder`` (Conv1x1 to ``stride^2 * 3``
    channels + PixelShuffle) that takes an ``init_cfg``.

    mmpretrain's decoder keeps PyTorch's default conv init, which is what
    microsoft/SimMIM's decoder has (``models/simmim.py``); openmixup's
    decoders (``NonLinearMIMNeck`` for A2MIM, ``SimMIMNeck`` for its SimMIM
    baselines) draw the conv weight trunc-normal(0.02) with a zero bias:
    that is this class's default. Same modules and checkpoint keys
    (``decoder.0.*``) as ``SimMIMLinearDecoder``.

    Args:
        in_channels (int): Channels of the feature map.
        encoder_stride (int): Total stride of the encoder.
        init_cfg (dict | list[dict], optional): Defaults to openmixup's
            initialisation.
    """

    def __init__(self,
                 in_channels: int,
                 encoder_stride: int,
                 init_cfg: Optional[Union[dict, list]] = OPENMIXUP_INIT
                 ) -> None:
        super().__init__(in_channels=in_channels,
                         encoder_stride=encoder_stride)
        self.init_cfg = copy.deepcopy(init_cfg)
