from .deep_resnet import DeepResNet

__all__ = ['DeepResNet']
