# AdamW of the pre-training recipes, for a total batch of 2048: betas
# (0.9, 0.999), weight decay 0.05, none on norms and biases. Each recipe sets
# the lr, its schedule and the parameters (tokens, position tables, layer
# scales) kept free of weight decay.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', betas=(0.9, 0.999), weight_decay=0.05, eps=1e-8),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.))
auto_scale_lr = dict(base_batch_size=2048)
