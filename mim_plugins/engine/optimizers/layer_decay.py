"""Layer-wise lr decay for any model whose backbone knows its layer depths."""
from typing import Callable, List, Optional

import torch.nn as nn
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS

from mmpretrain.engine.optimizers import \
    LearningRateDecayOptimWrapperConstructor


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class BackboneLayerDecayOptimWrapperConstructor(
        LearningRateDecayOptimWrapperConstructor):
    """mmpretrain's layer-decay constructor for detectors and segmentors.

    mmpretrain's constructor asks the top-level model for
    ``get_layer_depth``, which ``MaskRCNN`` and ``EncoderDecoder`` lack. This
    one asks ``model.backbone`` (mmpretrain's ``BEiTViT``,
    ``VisionTransformer``, ``SwinTransformer``, ``ResNet``, ... implement
    it) for the backbone's parameters, and gives every other parameter
    (necks, heads) the depth of the last layer, i.e. the full lr. Same
    ``paramwise_cfg`` as mmpretrain (``layer_decay_rate``, ``custom_keys``,
    ``*_decay_mult``). Registered in mmengine's root registry, so mmdet and
    mmseg configs can use it.
    """

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   get_layer_depth: Optional[Callable] = None,
                   **kwargs) -> None:
        if get_layer_depth is None and not hasattr(module, 'get_layer_depth'):
            backbone = getattr(module, 'backbone', None)
            if backbone is None or not hasattr(backbone, 'get_layer_depth'):
                raise NotImplementedError(
                    f'Layer-wise lr decay needs {type(module).__name__} or '
                    f'its backbone to implement get_layer_depth; '
                    f'{type(backbone).__name__} does not.')
            _, num_layers = backbone.get_layer_depth('__not_a_backbone_key__')

            def get_layer_depth(name: str):
                if name.startswith('backbone.'):
                    return backbone.get_layer_depth(name[len('backbone.'):])
                return num_layers - 1, num_layers

        super().add_params(params, module, prefix, get_layer_depth, **kwargs)
