from .a2mim_resnet import A2MIMResNet
from .a2mim_vit import A2MIMViT

__all__ = ['A2MIMResNet', 'A2MIMViT']
