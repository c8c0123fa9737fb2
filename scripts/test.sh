#!/usr/bin/env bash
# Sets up the machine (scripts/setup.sh) and runs every test with ctest. Long chaos loops,
# fuzzing and benches are separate: scripts/fuzz.sh, build/bin/shrink-bench.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cd build
status=0
ctest --output-on-failure -j 2 --timeout 900 "$@" || status=$?
if [ -f node-tests-report.txt ]; then
  echo "== ONNX backend node tests (build/node-tests-report.txt)"
  grep -E '^node tests' node-tests-report.txt
fi
exit $status
