# A2MIM ResNet-50, 300 epochs (official: Westlake-AI/openmixup
# configs/selfsup/a2mim/imagenet/r50_l3_sz224_init_8xb256_cos_ep300.py).
# As the 100-epoch recipe, but the official 300-epoch config gives only the
# mask token (not its gamma) lr x0.1 and no weight decay. Fine-tuned: RSB A2
# 80.4, RSB A3 78.9.
_base_ = './a2mim_resnet50_8xb256-coslr-100e_in1k.py'

optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys=dict(
            _delete_=True,
            mask_token=dict(decay_mult=0., lr_mult=0.1))))

max_epochs = 300
warmup_epochs = 10
# the cosine after the warm-up runs to the last epoch
param_scheduler = _base_.param_scheduler
param_scheduler[1].update(T_max=max_epochs - warmup_epochs, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs)
