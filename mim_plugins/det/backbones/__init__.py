from .any_size_beit_vit import AnySizeBEiTViT
from .deep_resnet import DeepResNet

__all__ = ['AnySizeBEiTViT', 'DeepResNet']
