#!/usr/bin/env bash
# Sets up the machine (scripts/setup.sh) and runs every test with ctest. Long chaos loops,
# fuzzing and benches are separate: scripts/fuzz.sh, build/bin/shrink-bench.
# The ONNX node-test table (pass counts per op) is written to build/node-tests-report.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Test-only Debian packages (not needed to build or run shrink, so not in setup.sh): chromium
# renders the HTML report headless in the report_browser test; python3-yaml reads the rendered
# Kubernetes manifests and the compose file in the deploy tests.
test_packages=(chromium python3-yaml)
missing=()
for package in "${test_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[test] installing test-only Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y --no-install-recommends \
    "${missing[@]}"
fi
cd build
ctest --output-on-failure -j 2 --timeout 900 "$@"
