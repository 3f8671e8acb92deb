# A2MIM Swin-T (window 6), 100 epochs at 192 px: the Swin-B recipe with the
# tiny arch (openmixup configs/selfsup/_base_/models/a2mim/swin_tiny.py).
_base_ = './a2mim_swin-base-w6_8xb128-accu2-coslr-100e_in1k-192px.py'

model = dict(backbone=dict(arch='tiny'), neck=dict(in_channels=768))
