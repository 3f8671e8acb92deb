# The runtime of the pre-training recipes: mmpretrain's, with a checkpoint
# every 10 epochs (the last 3 kept), the NaN guard and seed 0, different on
# every rank.
_base_ = 'mmpretrain::_base_/default_runtime.py'

default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
custom_hooks = [dict(type='StopOnInvalidLossHook')]
randomness = dict(seed=0, diff_rank_seed=True)
