# UperNet with a MaskDistill ViT-B on ADE20K (paper: about 53.8 mIoU; no
# official code). MaskDistill's authors build on BEiT v2, so this follows
# BEiT v2's ViT-B UperNet recipe (microsoft/unilm beit2/semantic_segmentation/
# configs/beit/upernet/upernet_beit_base_12_512_slide_160k_ade20k.py): AdamW
# 5e-5, weight decay 0.05, layer decay 0.75, drop path 0.15, 1500 warm-up
# iterations then poly decay to 0, 160k iterations at batch 16, 512x512
# crops, fp16, no gradient clipping, sliding-window test; no absolute
# position embedding, the pre-trained shared relative position bias copied
# into every layer. UperNet, auxiliary head and the weight-decay groups are
# the A2MIM ViT-B recipe's (the same as BEiT v2's constructor: 1-D
# parameters and biases without decay).
_base_ = '../simmim/upernet_vit-base-p16_simmim-pre_8xb2-amp-160k_ade20k-512x512.py'  # noqa

pretrained = '{{$PRETRAINED:work_dirs/maskdistill_vit-base-p16_8xb256-coslr-300e_in1k/epoch_300.pth}}'  # noqa
model = dict(
    backbone=dict(drop_path_rate=0.15, init_cfg=dict(checkpoint=pretrained)))
optim_wrapper = dict(
    optimizer=dict(lr=5e-5), paramwise_cfg=dict(layer_decay_rate=0.75))
