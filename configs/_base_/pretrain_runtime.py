# The runtime of the pre-training recipes: mmpretrain's, run by MIMRunner
# (atomic checkpoints, exact resume, the divergence guard), with a
# checkpoint every 10 epochs (the last 3 kept) and seed 0, different on
# every rank.
_base_ = 'mmpretrain::_base_/default_runtime.py'

runner_type = 'MIMRunner'

default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
randomness = dict(seed=0, diff_rank_seed=True)
