#!/usr/bin/env bash
# Builds calibration and evaluation sets (the CLI's DATA format) for every dev-set ONNX model of
# the asset kit, from the kit's own speech WAVs and MNIST / Fashion-MNIST tiles (see
# tests/tools/speech_data.h and image_data.h for what each sample is):
#
#   silero_vad_v5/{calib,eval}        16 kHz, 512 samples + 64 context, recorded LSTM state, sr
#   silero_vad_v5/{calib,eval}-stream the same chunks without state (fed back by the consumer)
#   silero_vad_v5/{calib-8k,eval-8k}  8 kHz, 256 + 32 (the model's other If branch)
#   oww_melspectrogram/{calib,eval}   16 kHz, 1280 + 480 samples at int16 scale
#   oww_embedding/{calib,eval}        76x32 mel windows every 8 frames (openWakeWord x/10 + 2)
#   ppocrv4_det/{calib,eval}          synthetic documents, 4 sizes (multiples of 32), ImageNet norm
#   blazeface_front_128/{calib,eval}.npz  colour scenes with Fashion-MNIST objects, NHWC [-1, 1]
#
# Calibration and evaluation sets are disjoint: speech sets take every 8th WAV (sorted) from
# different offsets, image sets use MNIST train vs t10k tiles and different seeds.
# Idempotent: a set is rebuilt only when its recipe (the command line plus DATA_VERSION) changed
# or it is missing. Then every evaluation set is run through `shrink infer` and summarised
# (--no-verify skips that).
#
# Usage: scripts/make-dev-data.sh [--out DIR] [--assets DIR] [--build DIR] [--no-verify]
#   defaults: --out ~/.cache/shrink-data  --assets $SHRINK_ASSETS or ~/.cache/shrink-assets
#             --build build (needs build/bin/shrink-data and build/bin/shrink)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
DATA_VERSION=1  # bump when shrink-data's output for the same flags changes
out=${SHRINK_DATA_DIR:-$HOME/.cache/shrink-data}
assets=${SHRINK_ASSETS:-$HOME/.cache/shrink-assets}
build=$repo/build
verify=1
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --assets) assets=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --no-verify) verify=0; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "make-dev-data: unknown argument $1" >&2; exit 1 ;;
  esac
done
tool=$build/bin/shrink-data
shrink=$build/bin/shrink
for binary in "$tool" "$shrink"; do
  [ -x "$binary" ] ||
    { echo "make-dev-data: $binary not built (ninja -C $build shrink shrink-data)" >&2; exit 1; }
done
models=$assets/models
speech=$assets/data/speech
[ -d "$speech" ] && [ -d "$models" ] ||
  { echo "make-dev-data: no asset kit at $assets" >&2; exit 1; }
silero=$models/silero_vad_v5/silero_vad_v5.onnx
mel=$models/oww_melspectrogram/melspectrogram.onnx
embedding=$models/oww_embedding/embedding_model.onnx
ppocr=$models/ppocrv4_det/ch_PP-OCRv4_det_infer.onnx
blazeface=$models/blazeface_front_128/face_detection_front_128x128_barracuda.onnx
mkdir -p "$out"

# make_set TARGET FUNCTION ARGS...: runs FUNCTION ARGS with $target_tmp as its output path, then
# moves it into place, unless TARGET exists with the same recipe.
make_set() {
  local target=$out/$1; shift
  local recipe="v$DATA_VERSION $* $assets"
  if [ -e "$target" ] && [ "$(cat "$target.recipe" 2>/dev/null)" = "$recipe" ]; then
    echo "up to date: $target"
    return
  fi
  rm -rf "$target" "$target.recipe" "$target.tmp"
  mkdir -p "$(dirname "$target")"
  target_tmp=$target.tmp
  "$@"
  mv "$target_tmp" "$target"
  echo "$recipe" >"$target.recipe"
  echo "made: $target"
}

# speech_set SKIP RATE CHUNK CONTEXT EXTRA...: every 8th WAV from SKIP.
speech_set() {
  local skip=$1 rate=$2 chunk=$3 context=$4; shift 4
  "$tool" speech --dir "$speech" --every 8 --skip "$skip" --rate "$rate" --chunk "$chunk" \
    --context "$context" --out "$target_tmp" "$@"
}
silero_set() { speech_set "$@" --input-name input --sr-name sr --state-model "$silero"; }
# Without the recorded state: for calibration/evaluation that carries `stateN` -> `state` itself.
silero_stream_set() { speech_set "$@" --input-name input --sr-name sr; }
mel_set() { speech_set "$1" 16000 1280 480 --scale int16 --input-name input; }
embedding_set() {
  speech_set "$1" 16000 1280 480 --scale int16 --mel-model "$mel" --input-name input_1
}
# ppocr_set SPLIT SEED: one batch file per size (the directory form of DATA).
ppocr_set() {
  local split=$1 seed=$2 spec
  mkdir -p "$target_tmp"
  for spec in 384x384:8 320x576:8 576x320:8 640x640:4; do
    "$tool" images --source mnist --split "$split" --layout nchw --size "${spec%:*}" \
      --channels 3 --count "${spec#*:}" --seed "$seed" --kind document --normalize imagenet \
      --input-name x --out "$target_tmp/${spec%:*}.npz"
    seed=$((seed + 1))
  done
}
blazeface_set() {
  "$tool" images --source fashion --split "$1" --layout nhwc --size 128x128 --channels 3 \
    --count 64 --seed "$2" --kind scene --normalize minus1to1 --input-name input:0 \
    --out "$target_tmp"
}

make_set silero_vad_v5/calib silero_set 0 16000 512 64
make_set silero_vad_v5/eval silero_set 4 16000 512 64
make_set silero_vad_v5/calib-stream silero_stream_set 0 16000 512 64
make_set silero_vad_v5/eval-stream silero_stream_set 4 16000 512 64
make_set silero_vad_v5/calib-8k silero_set 2 8000 256 32
make_set silero_vad_v5/eval-8k silero_set 6 8000 256 32
make_set oww_melspectrogram/calib mel_set 1
make_set oww_melspectrogram/eval mel_set 5
make_set oww_embedding/calib embedding_set 1
make_set oww_embedding/eval embedding_set 5
make_set ppocrv4_det/calib ppocr_set train 11
make_set ppocrv4_det/eval ppocr_set t10k 21
make_set blazeface_front_128/calib.npz blazeface_set train 31
make_set blazeface_front_128/eval.npz blazeface_set t10k 41

echo "== sets in $out"
for set in "$out"/*/*; do
  case $set in *.recipe|*.tmp) continue ;; esac
  if [ -d "$set" ]; then
    echo "  ${set#$out/}: $(ls "$set" | grep -c '\.npz$') .npz files, $(du -sh "$set" | cut -f1)"
  else
    echo "  ${set#$out/}: $(du -sh "$set" | cut -f1)"
  fi
done
[ "$verify" = 1 ] || exit 0

# Each evaluation set through the engine's runtime, with the figure that shows it drives the model.
check() {
  local model=$1 data=$2 array=$3 above=$4 what=$5 result
  result=$(mktemp "${TMPDIR:-/tmp}/make-dev-data-XXXXXX.npz")
  "$shrink" infer "$model" --input "$data" --out "$result" 2>/dev/null ||
    { echo "make-dev-data: shrink infer $model --input $data failed" >&2; rm -f "$result"; exit 1; }
  echo "  ${data#$out/} ($what): $("$tool" stats --npz "$result" --array "$array" --above "$above")"
  rm -f "$result"
}
echo "== verification (shrink infer on the evaluation sets)"
check "$silero" "$out/silero_vad_v5/eval" output 0.5 "share > 0.5 = speech chunks"
check "$silero" "$out/silero_vad_v5/eval-8k" output 0.5 "share > 0.5 = speech chunks"
check "$mel" "$out/oww_melspectrogram/eval" output 0 "mel dB"
check "$embedding" "$out/oww_embedding/eval" conv2d_19 0 "embedding"
for part in "$out"/ppocrv4_det/eval/*.npz; do
  check "$ppocr" "$part" sigmoid_0.tmp_0 0.3 "share > 0.3 = text pixels"
done
check "$blazeface" "$out/blazeface_front_128/eval.npz" Identity:0 0 "face logits, no faces"
