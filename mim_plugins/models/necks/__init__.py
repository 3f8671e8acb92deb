from .mim_linear_decoder import MIMLinearDecoder

__all__ = ['MIMLinearDecoder']
