#!/usr/bin/env bash
# Distributed training on one or several machines with torchrun.
# Usage: bash tools/dist_train.sh CONFIG NUM_PROCS [train.py options]
# Several machines: set NNODES, NODE_RANK, MASTER_ADDR (and PORT) per node.
# On CPU the plugin uses gloo; on GPUs nccl (see mmaction_sugar/compat.py).
set -euo pipefail
CONFIG=$1
NPROCS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname "$0")/..${PYTHONPATH:+:$PYTHONPATH}" \
python -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --nproc_per_node="$NPROCS" \
    --master_port="$PORT" "$(dirname "$0")/train.py" "$CONFIG" \
    --launcher pytorch "${@:3}"
