#!/usr/bin/env bash
# Every method on the embedded demos, one after the other: the README's "Try another
# method" table. Run from the repository root after the README's first command:
#
#   bash benchmarks/demo_table.sh [runs/demo_table]
#
# Each run's full output is in <folder>/<method>.out; the lines the table is made
# of (mAP@all, code health, train time, whole-command seconds) are printed.
set -euo pipefail
out=${1:-runs/demo_table}
mkdir -p "$out"
export TF_CPP_MIN_LOG_LEVEL=2
run() {  # name config method
  rm -rf "$out/$1"
  local start=$SECONDS
  .venv/bin/tfhash-train --config="$2" --workdir="$out/$1" --config.method="$3" > "$out/$1.out" 2> "$out/$1.err"
  echo "== $1 ($((SECONDS - start)) s for the command)"
  grep -E "mAP@all|codes|train time" "$out/$1.out" | grep -v chance
}
for m in dsh dpsh dsah doh dagh; do run "$m" configs/demo.py "$m"; done
for m in dcmh hashgan; do run "crossmodal_$m" configs/demo_crossmodal.py "$m"; done
