#!/usr/bin/env bash
# The main job on the embedded default, from a fresh clone:
#   1. install the pinned stack into .venv (tools/setup_env.sh),
#   2. generate the embedded SynthNTU dataset (data/synth_ntu),
#   3. train the default model with the stock mmengine runner: SUGAR on
#      SynthNTU, stage 2 (ST-GCN + text supervision) then stage 3 (TQP +
#      the bundled SmolLM2 with LoRA), one tools/train.py call,
#   4. test its final checkpoint and print top-1 / top-5, then let the LLM
#      name and describe a few test clips.
# Usage: bash tools/quickstart.sh [CONFIG] [extra tools/train.py options]
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:-configs/sugar_synthntu.py}
WORK_DIR=${WORK_DIR:-work_dirs/quickstart/$(basename "${CONFIG%.py}")}
PY=.venv/bin/python
export PYTHONWARNINGS=${PYTHONWARNINGS:-ignore}

bash tools/setup_env.sh
if [ ! -f data/synth_ntu/synth_ntu_3d.pkl ]; then
  "$PY" tools/data/generate_synth_ntu.py --out-dir data/synth_ntu
fi
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" --seed 0 "${@:2}"
last_stage=$(ls -d "$WORK_DIR"/stage*/ 2>/dev/null | sort | tail -n 1)
if [ -n "$last_stage" ] && [ -f "$last_stage/stage_done.json" ]; then
  best=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))\
['checkpoint'])" "$last_stage/stage_done.json")
else
  best=$(ls -t "$WORK_DIR"/best_*.pth 2>/dev/null | head -n 1)
  if [ -z "$best" ]; then
    best="$WORK_DIR/$(cat "$WORK_DIR/last_checkpoint" | xargs basename)"
  fi
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
if grep -q "LLMHead\|stages" "$CONFIG"; then
  # the LLM names and describes a few test clips (greedy generation)
  "$PY" tools/test.py "$CONFIG" "$best" --work-dir "$WORK_DIR/describe" \
    --dump "$WORK_DIR/describe/predictions.pkl" --cfg-options \
    model.cls_head.generate=True test_dataloader.dataset.indices=4 \
    > "$WORK_DIR/describe.log" 2>&1
  "$PY" - "$WORK_DIR/describe/predictions.pkl" "$CONFIG" <<'PYEOF'
import pickle, sys
from mmaction_sugar.datasets import ActionKnowledge
names = ActionKnowledge.load('synth_ntu').class_names
print('\n=== generated answers (ground truth -> LLM) ===')
for p in pickle.load(open(sys.argv[1], 'rb')):
    print('[%s] -> %s' % (names[int(p['gt_label'])], p['pred_text']))
PYEOF
fi
