from .deep_resnet import DeepResNet
from .mim_convnext import A2MIMConvNeXt, MIMConvNeXt, SimMIMConvNeXt
from .mim_resnet import A2MIMResNet, MIMResNet, SimMIMResNet
from .mim_swin import A2MIMSwin, MIMSwinTransformer
from .mim_vit import A2MIMViT, MaskDistillViT, MIMViT, SimMIMViT

__all__ = ['A2MIMConvNeXt', 'A2MIMResNet', 'A2MIMSwin', 'A2MIMViT',
           'DeepResNet', 'MaskDistillViT', 'MIMConvNeXt', 'MIMResNet',
           'MIMSwinTransformer', 'MIMViT', 'SimMIMConvNeXt', 'SimMIMResNet',
           'SimMIMViT']
