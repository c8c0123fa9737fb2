#!/usr/bin/env bash
# Prints the Debian packages that hold the shared libraries of the shipped binaries
# (BUILD_DIR/bin/{shrinkd,shrink-worker,shrink}), one per line, sorted: the runtime stage of
# deploy/Dockerfile installs exactly these (deploy/runtime-packages.txt, checked by the ctest
# runtime_packages). The libraries come from `ldd`, their packages from `dpkg -S`.
# ONNX Runtime (libonnxruntime*) is not a Debian package: the image copies it from the SDK.
# Exits 1 naming any library that no package owns (it would be missing from the image).
# Usage: scripts/runtime-packages.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: runtime-packages.sh BUILD_DIR}
binaries=("$build/bin/shrinkd" "$build/bin/shrink-worker" "$build/bin/shrink")
for binary in "${binaries[@]}"; do
  [ -x "$binary" ] || { echo "runtime-packages: $binary is not built" >&2; exit 1; }
done

# `ldd` lines: "libx.so.1 => /path/libx.so.1 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)".
libraries=$(for binary in "${binaries[@]}"; do
  ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u)
if ldd "${binaries[@]}" | grep -q "not found"; then
  echo "runtime-packages: unresolved libraries:" >&2
  ldd "${binaries[@]}" | grep "not found" >&2
  exit 1
fi

# dpkg knows a file under the path its package ships; with merged /usr that may be /usr/lib/...
# while the loader reports /lib/... (or the reverse), and a soname link may point elsewhere.
owner() {
  local path=$1 candidate
  for candidate in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
    local found
    if found=$(dpkg -S "$candidate" 2>/dev/null) && [ -n "$found" ]; then
      # "libfoo1:amd64: /usr/lib/x86_64-linux-gnu/libfoo.so.1" -> libfoo1
      echo "${found%%$'\n'*}" | cut -d: -f1
      return 0
    fi
  done
  return 1
}

packages=()
missing=0
for library in $libraries; do
  case $(basename "$library") in libonnxruntime*) continue ;; esac
  if package=$(owner "$library"); then
    packages+=("$package")
  else
    echo "runtime-packages: no Debian package owns $library" >&2
    missing=1
  fi
done
[ "$missing" = 0 ] || exit 1
printf '%s\n' "${packages[@]}" | sort -u
