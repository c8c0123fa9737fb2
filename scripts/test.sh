#!/usr/bin/env bash
# Sets up the machine (scripts/setup.sh) and runs every test with ctest. Long chaos loops,
# fuzzing and benches are separate: scripts/fuzz.sh, build/bin/shrink-bench.
# The ONNX node-test table (pass counts per op) is written to build/node-tests-report.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cd build
ctest --output-on-failure -j 2 --timeout 900 "$@"
