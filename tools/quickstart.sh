#!/usr/bin/env bash
# The main job on the embedded default, from a fresh clone:
#   1. install the pinned stack into .venv (tools/setup_env.sh),
#   2. generate the embedded SynthNTU dataset (data/synth_ntu),
#   3. train the default model with the stock mmengine runner,
#   4. test its best checkpoint and print top-1 / top-5.
# Usage: bash tools/quickstart.sh [CONFIG] [extra tools/train.py options]
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:-configs/stgcn/stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py}
WORK_DIR=${WORK_DIR:-work_dirs/quickstart/$(basename "${CONFIG%.py}")}
PY=.venv/bin/python
export PYTHONWARNINGS=${PYTHONWARNINGS:-ignore}

bash tools/setup_env.sh
if [ ! -f data/synth_ntu/synth_ntu_3d.pkl ]; then
  "$PY" tools/data/generate_synth_ntu.py --out-dir data/synth_ntu
fi
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" --seed 0 "${@:2}"
best=$(ls -t "$WORK_DIR"/best_*.pth 2>/dev/null | head -n 1)
if [ -z "$best" ]; then
  best="$WORK_DIR/$(cat "$WORK_DIR/last_checkpoint" | xargs basename)"
fi
"$PY" tools/test.py "$CONFIG" "$best" --work-dir "$WORK_DIR/test" \
  | tee "$WORK_DIR/test.log"
"$PY" - "$WORK_DIR/test" <<'PYEOF'
import glob, json, os, sys
runs = sorted(glob.glob(os.path.join(sys.argv[1], '*', '*.json')))
metrics = json.load(open(runs[-1]))
print('\n=== quickstart result (%s) ===' % os.path.dirname(sys.argv[1]))
for key in ('acc/top1', 'acc/top5', 'acc/mean1'):
    if key in metrics:
        print('%-10s %.4f' % (key, metrics[key]))
PYEOF
