from .mim_resnet import A2MIMResNet, MIMResNet, SimMIMResNet
from .mim_vit import A2MIMViT, MaskDistillViT, MIMViT, SimMIMViT

__all__ = ['A2MIMResNet', 'A2MIMViT', 'MaskDistillViT', 'MIMResNet',
           'MIMViT', 'SimMIMResNet', 'SimMIMViT']
