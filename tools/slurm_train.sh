#!/usr/bin/env bash
# Training on a SLURM cluster: one task per GPU, mmengine's slurm launcher.
# Usage: GPUS=16 GPUS_PER_NODE=8 bash tools/slurm_train.sh PARTITION JOB \
#            CONFIG WORK_DIR [train.py options]
# e.g.   GPUS=16 bash tools/slurm_train.sh gpu sugar configs/sugar_ntu60.py \
#            work_dirs/sugar_ntu60 --resume
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}

PYTHONPATH="$(dirname "$0")/..${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "${PARTITION}" \
    --job-name="${JOB_NAME}" \
    --gres=gpu:"${GPUS_PER_NODE}" \
    --ntasks="${GPUS}" \
    --ntasks-per-node="${GPUS_PER_NODE}" \
    --cpus-per-task="${CPUS_PER_TASK}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    python -u "$(dirname "$0")/train.py" "${CONFIG}" \
    --work-dir="${WORK_DIR}" --launcher slurm "${@:5}"
