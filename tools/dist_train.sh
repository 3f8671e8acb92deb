#!/usr/bin/env bash
# Distributed training with torchrun, as in mmpretrain/mmdet/mmseg:
#   tools/dist_train.sh CONFIG GPUS [train.py args]
# Several machines: NNODES, NODE_RANK, MASTER_ADDR and PORT on each of them.
# On a machine without CUDA the GPUS processes train on the CPU with gloo.
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
TOOLS="$(dirname "$0")"

PYTHONPATH="$TOOLS/..":$PYTHONPATH \
"${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$TOOLS/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
