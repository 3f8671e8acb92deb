from .any_size_beit_vit import AnySizeBEiTViT

__all__ = ['AnySizeBEiTViT']
