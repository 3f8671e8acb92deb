#!/usr/bin/env bash
# The GPU checks in one run, for a machine with CUDA (never in CI):
#   tools/device_check.sh [OUT]        (OUT: default $OUT, else work_dirs/device_check)
#
#   1. tools/benchmark.py in fp32 and in bf16 (step times, FLOPs, MFU against
#      mmpretrain's own algorithms)          -> OUT/bench_{fp32,bf16}.{json,txt}
#   2. ITERS iterations of the A2MIM ViT-B pre-training recipe (full model,
#      BATCH images per step) under AMP fp16 and under AMP bf16, on generated
#      224-px images                          -> OUT/amp_{fp16,bf16}/
#   3. the same job through tools/dist_train.sh with 2 processes (needs 2
#      GPUs: mmengine puts rank i on cuda:i) -> OUT/dist2/
#   4. sharded training: ITERS iterations of the MaskDistill ViT-B recipe
#      (random teacher) through tools/dist_train.sh with FSDP as
#      docs/usage.md sets it (an FSDP unit and an activation checkpoint per
#      ViT layer, bf16 AMP with FSDP's MixedPrecision), on 2 GPUs (1 on a
#      one-GPU machine; 2 gloo processes in fp32 on a CPU), then plain DDP
#      of the same steps from the same weights and data; the sharded
#      checkpoint must load strictly into the plain model
#      -> OUT/fsdp/, OUT/fsdp_ddp/
#   OUT/summary.txt: the device, then one line per step with its last log
#   line (step 4: its losses, their largest difference to DDP, peak memory).
#
# TINY=1 runs the same steps with the tiny models on 64-px images: a dry run
# of this script on a CPU (there AMP falls back to fp32 with a warning and
# the bf16 benchmark is skipped). Environment: PYTHON (default python),
# ITERS (30), BATCH (64; TINY: 8), STEPS and WARMUP (benchmark's defaults),
# ONLY (benchmark entries, space-separated; default all), CHECKS (the steps
# to run, space-separated; default "bench amp dist fsdp").
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-${OUT:-$ROOT/work_dirs/device_check}}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
PY="${PYTHON:-python}"
TINY="${TINY:-0}"
ITERS="${ITERS:-30}"
cd "$ROOT"

CHECKS=" ${CHECKS:-bench amp dist fsdp} "
wants() { [[ "$CHECKS" == *" $1 "* ]]; }
log() { echo "[device_check] $*" | tee -a "$OUT/summary.txt"; }
last_iter() { grep -h "Iter(train)" "$1"/*/*.log 2>/dev/null | tail -n 1 || true; }

: > "$OUT/summary.txt"
"$PY" -c "
import platform, torch
print('torch', torch.__version__, 'cuda', torch.version.cuda, 'python', platform.python_version())
n = torch.cuda.device_count()
print('gpus', n, *[torch.cuda.get_device_name(i) for i in range(n)])
" | tee -a "$OUT/summary.txt"
GPUS="$("$PY" -c 'import torch; print(torch.cuda.device_count())')"

# 1. benchmark
BENCH=()
if [ "$TINY" = 1 ]; then BENCH=(--tiny --device cpu); fi
if [ -n "${STEPS:-}" ]; then BENCH+=(--steps "$STEPS"); fi
if [ -n "${WARMUP:-}" ]; then BENCH+=(--warmup "$WARMUP"); fi
if [ -n "${ONLY:-}" ]; then read -r -a ENTRIES <<< "$ONLY"; BENCH+=(--only "${ENTRIES[@]}"); fi
for precision in fp32 bf16; do
    if ! wants bench; then break; fi
    if [ "$GPUS" = 0 ] && [ "$precision" != fp32 ]; then
        log "benchmark $precision: skipped (no CUDA)"
        continue
    fi
    "$PY" tools/benchmark.py "${BENCH[@]}" --precision "$precision" \
        --out "$OUT/bench_$precision.json" > "$OUT/bench_$precision.txt" 2>&1
    log "benchmark $precision: $OUT/bench_$precision.json"
done

# 2. A2MIM pre-training under AMP fp16 and bf16
if [ "$TINY" = 1 ]; then
    RECIPE="configs/pretrain/a2mim/a2mim_vit-tiny_1xb16-20i_demo.py"
    SIZE=64
    BATCH="${BATCH:-8}"
else
    RECIPE="configs/pretrain/a2mim/a2mim_vit-base_8xb128-accu2-step-800e_in1k.py"
    SIZE=224
    BATCH="${BATCH:-64}"
fi
"$PY" -c "
import sys
from mim_plugins.reproduce.synthetic import make_classification_folder
make_classification_folder(sys.argv[1], num_train=64, num_val=4, size=int(sys.argv[2]))
" "$OUT/data" "$SIZE"
cat > "$OUT/a2mim_check.py" <<EOF
# $RECIPE for $ITERS iterations at batch $BATCH on generated images
_base_ = '$ROOT/$RECIPE'
train_dataloader = dict(
    batch_size=$BATCH,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root='$OUT/data',
        data_prefix='train',
        with_label=False,
        pipeline=_base_.train_pipeline))
optim_wrapper = dict(accumulative_counts=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5)]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=$ITERS)
log_processor = dict(by_epoch=False)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=$(( ITERS < 5 ? ITERS : 5 ))),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=$ITERS))
EOF
for run in fp16:float16 bf16:bfloat16; do
    if ! wants amp; then break; fi
    name="amp_${run%%:*}"
    dtype="${run#*:}"
    "$PY" tools/train.py "$OUT/a2mim_check.py" --work-dir "$OUT/$name" --amp \
        --cfg-options optim_wrapper.dtype="$dtype" > "$OUT/$name.txt" 2>&1
    log "A2MIM $(basename "$RECIPE") AMP $dtype: $(last_iter "$OUT/$name")"
done

# 3. two processes through dist_train.sh
if ! wants dist; then
    :
elif [ "$GPUS" = 1 ]; then
    log "dist_train.sh 2: skipped (1 GPU; mmengine puts rank i on cuda:i)"
else
    PORT="${PORT:-29517}" PYTHON="$PY" tools/dist_train.sh "$OUT/a2mim_check.py" 2 \
        --work-dir "$OUT/dist2" --amp --cfg-options optim_wrapper.dtype=bfloat16 \
        > "$OUT/dist2.txt" 2>&1
    log "dist_train.sh 2 ($([ "$GPUS" = 0 ] && echo CPU, gloo || echo "$GPUS GPUs, nccl")): $(last_iter "$OUT/dist2")"
fi
# 4. sharded training (FSDP) against DDP of the same steps
if wants fsdp; then
    if [ "$TINY" = 1 ]; then
        MD_RECIPE="configs/pretrain/maskdistill/maskdistill_vit-tiny_1xb16-20i_demo.py"
    else
        MD_RECIPE="configs/pretrain/maskdistill/maskdistill_vit-base-p16_8xb256-coslr-300e_in1k.py"
    fi
    NPROC=$([ "$GPUS" = 1 ] && echo 1 || echo 2)
    # bf16 (AMP and FSDP's MixedPrecision); tools/train.py makes both fp32
    # on a CPU
    PRECISION=$([ "$GPUS" = 0 ] && echo fp32 || echo bf16)
    # one initial model and teacher for both runs; with num_workers=0,
    # ShardedProbeHook (tests/sharded_probe.py) gives both the same masks
    # and records the loss of every iteration
    "$PY" -c "
import sys, torch
from mmengine.config import Config
from mim_plugins.apis import build_model_from_cfg
cfg = Config.fromfile(sys.argv[1])
cfg.model.target_generator.update(checkpoint=None, random_init=True)
torch.manual_seed(0)
model = build_model_from_cfg(cfg)
model.init_weights()
torch.save(model.target_generator.state_dict(), sys.argv[2] + '/fsdp_teacher.pth')
torch.save(dict(state_dict=model.state_dict()), sys.argv[2] + '/fsdp_init.pth')
" "$ROOT/$MD_RECIPE" "$OUT"
    cat > "$OUT/fsdp_ddp_check.py" <<EOF
# $MD_RECIPE for $ITERS iterations at batch $BATCH per process, DDP
_base_ = '$ROOT/$MD_RECIPE'
custom_imports = dict(
    imports=['mim_plugins', 'mim_plugins.engine.strategies', 'sharded_probe'],
    allow_failed_imports=False)
train_dataloader = dict(
    batch_size=$BATCH,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root='$OUT/data',
        data_prefix='train',
        with_label=False,
        pipeline=_base_.train_pipeline))
model = dict(
    backbone=dict(drop_path_rate=0.),
    target_generator=dict(checkpoint='$OUT/fsdp_teacher.pth',
                          random_init=False))
load_from = '$OUT/fsdp_init.pth'
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5)]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=$ITERS)
log_processor = dict(by_epoch=False)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=$(( ITERS < 5 ? ITERS : 5 ))),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=$ITERS))
custom_hooks = [dict(type='ShardedProbeHook')]
EOF
    cat > "$OUT/fsdp_check.py" <<EOF
# the same, sharded (docs/usage.md, "Sharded training (FSDP)")
_base_ = './fsdp_ddp_check.py'
runner_type = 'MIMFlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    state_dict_cfg='full',
    model_wrapper=dict(
        auto_wrap_policy='vit_layer_wrap_policy',
        mixed_precision=dict(param_dtype='bfloat16', reduce_dtype='float32',
                             buffer_dtype='float32')),
    activation_checkpointing=dict(check_fn='is_vit_layer'))
EOF
    PROBE="$ROOT/tests${PYTHONPATH:+:$PYTHONPATH}"
    port="${PORT:-29517}"
    for name in fsdp fsdp_ddp; do
        port=$(( port + 1 ))
        PORT="$port" PYTHON="$PY" PYTHONPATH="$PROBE" \
            tools/dist_train.sh "$OUT/${name}_check.py" "$NPROC" \
            --work-dir "$OUT/$name" > "$OUT/$name.txt" 2>&1
    done
    RESULT="$(PYTHONPATH="$PROBE" "$PY" -c "
import json, re, sys
from mim_plugins.apis import load_pretrain_model
out, iters = sys.argv[1], int(sys.argv[2])
runs = {n: [json.loads(line) for line in open(f'{out}/{n}/probe.jsonl')]
        for n in ('fsdp', 'fsdp_ddp')}
rel = max(abs(a['loss'] - b['loss']) / abs(b['loss'])
          for a, b in zip(runs['fsdp'], runs['fsdp_ddp']))
load_pretrain_model(f'{out}/fsdp_check.py', f'{out}/fsdp/iter_{iters}.pth')
mem = [int(m) for m in re.findall(r'memory: (\d+)', open(f'{out}/fsdp.txt').read())]
print(f'loss {runs[\"fsdp\"][0][\"loss\"]:.4f} -> {runs[\"fsdp\"][-1][\"loss\"]:.4f} '
      f'in {len(runs[\"fsdp\"])} iterations, max relative difference to DDP '
      f'{rel:.1e}; peak memory {max(mem) if mem else \"n/a\"} MB; the '
      f'checkpoint loads strictly into the plain model')
" "$OUT" "$ITERS" | tail -n 1)"
    log "FSDP $(basename "$MD_RECIPE") ($NPROC process(es), $PRECISION, activation checkpointing): $RESULT"
fi

log "done: $OUT"
