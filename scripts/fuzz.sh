#!/usr/bin/env bash
# Fuzzes the ONNX importer with libFuzzer (clang + ASan/UBSan) in build-fuzz/.
# usage: scripts/fuzz.sh [SECONDS]   (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
if ! command -v clang++ >/dev/null || ! dpkg -s libclang-rt-14-dev >/dev/null 2>&1; then
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get install -y --no-install-recommends clang libclang-rt-14-dev
fi
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DSHRINK_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
ninja -C build-fuzz onnx_import_fuzzer
corpus=build-fuzz/corpus/onnx_import
mkdir -p "$corpus"
# Seeds: the labeled models, the asset kit's ONNX models and a sample of the ONNX node tests.
cp -n ../shared/models/*.onnx "$corpus"/ 2>/dev/null || true
find "${SHRINK_ASSETS:-$HOME/.cache/shrink-assets}/models" -name '*.onnx' -size -3M \
  -exec cp -n {} "$corpus"/ \; 2>/dev/null || true
for t in /usr/share/libonnx-testdata/data/node/test_{conv,if,loop,lstm,gru,resize,scan}*; do
  [ -f "$t/model.onnx" ] && cp -n "$t/model.onnx" "$corpus/$(basename "$t").onnx"
done
build-fuzz/bin/onnx_import_fuzzer "$corpus" -max_total_time="$seconds" -rss_limit_mb=4096 \
  -max_len=4000000 -timeout=20
