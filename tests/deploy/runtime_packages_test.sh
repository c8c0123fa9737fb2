#!/bin/sh
# ctest runtime_packages: deploy/runtime-packages.txt (the runtime stage of deploy/Dockerfile) is
# exactly what scripts/runtime-packages.sh derives from `ldd` of this build's shrinkd,
# shrink-worker and shrink. A new library dependency without a regenerated list fails here
# (and in the image build, which runs the same comparison). Also checks that every library the
# binaries load is resolved and that ONNX Runtime is the only one left out of the list.
# Exits 77 (skip) on a machine without dpkg (not Debian): the list is for Debian bookworm.
# Usage: runtime_packages_test.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1 build=$2
command -v dpkg >/dev/null ||
  { echo "SKIP: no dpkg here; the list is for Debian bookworm"; exit 77; }
expected=$(mktemp)
trap 'rm -f "$expected"' EXIT
"$src/scripts/runtime-packages.sh" "$build" > "$expected"
echo "== from ldd of $build/bin/{shrinkd,shrink-worker,shrink}: $(wc -l < "$expected") packages"
if ! grep -v '^#' "$src/deploy/runtime-packages.txt" | diff -u - "$expected"; then
  echo "FAIL: deploy/runtime-packages.txt differs (- committed, + derived); regenerate with"
  echo "  (head -n3 deploy/runtime-packages.txt; scripts/runtime-packages.sh build) > new &&"
  echo "    mv new deploy/runtime-packages.txt"
  exit 1
fi
left_out=$(ldd "$build/bin/shrinkd" "$build/bin/shrink-worker" "$build/bin/shrink" |
  awk '$2 == "=>" { print $1 }' | grep '^libonnxruntime' | sort -u | tr '\n' ' ')
echo "ok: the committed list matches; copied from the ONNX Runtime SDK instead: $left_out"
