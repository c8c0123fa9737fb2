#!/usr/bin/env bash
# Prepares this machine for shrink: installs the Debian packages that are missing, fetches the
# asset kit (cached), configures and builds into build/. Safe to run again: it only does what is
# missing. Used by scripts/demo.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build pkg-config ccache libgrpc++-dev protobuf-compiler-grpc
  libprotobuf-dev protobuf-compiler prometheus-cpp-dev libsqlite3-dev libboost-dev
  libboost-filesystem-dev libgtest-dev libgmock-dev libbenchmark-dev libonnx-dev
  python3-onnx python3-numpy libflatbuffers-dev flatbuffers-compiler libeigen3-dev
  libdnnl-dev ocl-icd-opencl-dev libzstd-dev zlib1g-dev zstd libonnx-testdata iproute2)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] installing ${#missing[@]} Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y --no-install-recommends "${missing[@]}"
fi

# Real models, data and the ONNX Runtime SDK (the judge); cached under $SHRINK_ASSETS.
export SHRINK_ASSETS="${SHRINK_ASSETS:-$HOME/.cache/shrink-assets}"
if [ ! -x ../shared/assets/fetch-assets.sh ] && [ ! -f ../shared/assets/fetch-assets.sh ]; then
  echo "[setup] ../shared/assets/fetch-assets.sh not found: shrink expects shared/ beside the repo" >&2
  exit 1
fi
bash ../shared/assets/fetch-assets.sh --dest "$SHRINK_ASSETS"

build_type="${SHRINK_BUILD_TYPE:-Release}"
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DSHRINK_ASSETS="$SHRINK_ASSETS"
fi
# Two compile jobs: the machines have 2 cores and 24 GiB.
cmake --build build -j "${SHRINK_JOBS:-2}"
echo "[setup] built into build/bin: $(ls build/bin | tr '\n' ' ')"
