#!/bin/sh
# ctest data_tool_smoke: runs `shrink-data speech` and `shrink-data images` on a few kit files
# and feeds every result to `shrink infer` with the matching dev-set model (DataReader ->
# engine::ReadNpz -> Executor), then checks that the data drives the model:
#   - silero_vad_v5 on speech prompts flags some chunks as speech (score > 0.5) and not all
#     (the prompts start and end with pauses);
#   - ppocrv4_det finds text on document images: more than 2% of the map > 0.3 (the dev sets
#     give 10-15%; uniform noise gives 0%).
# Usage: data_tool_smoke.sh SHRINK_DATA SHRINK ASSETS_DIR. Exits 77 (skip) without the kit.
set -eu
data_tool=$1 shrink=$2 assets=$3
models=$assets/models speech=$assets/data/speech
for f in "$models/silero_vad_v5/silero_vad_v5.onnx" \
         "$models/ppocrv4_det/ch_PP-OCRv4_det_infer.onnx" \
         "$models/oww_melspectrogram/melspectrogram.onnx" \
         "$models/oww_embedding/embedding_model.onnx" \
         "$models/blazeface_front_128/face_detection_front_128x128_barracuda.onnx" \
         "$assets/data/mnist" "$assets/data/fashion-mnist" "$speech"; do
  [ -e "$f" ] || { echo "SKIP: $f is missing (asset kit not fetched)"; exit 77; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/data-tool-smoke-XXXXXX")
trap 'rm -rf "$work"' EXIT

# Prints `shrink-data stats` and keeps its fraction ("...; 0.1234 of N values > T") in $share.
stats() { line=$("$data_tool" stats --npz "$1" --array "$2" --above "$3"); echo "$line"
          share=$(echo "$line" | sed -n 's/.*; \([0-9.]*\) of .*/\1/p'); }
infer() { "$shrink" infer "$1" --input "$2" --out "$3" --threads 2 2>"$work/infer.log" ||
          { cat "$work/infer.log"; echo "FAIL: shrink infer $1 --input $2"; exit 1; }; }

echo "== silero_vad_v5: 16 kHz chunks 512 + 64 context, recorded state"
"$data_tool" speech --dir "$speech" --rate 16000 --chunk 512 --context 64 --input-name input \
  --sr-name sr --state-model "$models/silero_vad_v5/silero_vad_v5.onnx" --skip 1 --files 3 \
  --out "$work/silero"
infer "$models/silero_vad_v5/silero_vad_v5.onnx" "$work/silero" "$work/silero.npz"
stats "$work/silero.npz" output 0.5
awk -v f="$share" 'BEGIN { exit !(f > 0.2 && f < 1) }' ||
  { echo "FAIL: silero speech share $share not in (0.2, 1)"; exit 1; }

echo "== oww_melspectrogram: 1280 + 480 samples at int16 scale"
"$data_tool" speech --dir "$speech" --rate 16000 --chunk 1280 --context 480 --scale int16 \
  --input-name input --files 2 --out "$work/mel"
infer "$models/oww_melspectrogram/melspectrogram.onnx" "$work/mel" "$work/mel.npz"
stats "$work/mel.npz" output 0

echo "== oww_embedding: 76-frame mel windows"
"$data_tool" speech --dir "$speech" --rate 16000 --chunk 1280 --context 480 --scale int16 \
  --mel-model "$models/oww_melspectrogram/melspectrogram.onnx" --input-name input_1 \
  --files 3 --out "$work/emb"
infer "$models/oww_embedding/embedding_model.onnx" "$work/emb" "$work/emb.npz"
stats "$work/emb.npz" conv2d_19 0

echo "== ppocrv4_det: document images"
"$data_tool" images --source mnist --split t10k --layout nchw --size 128x160 --count 2 --seed 5 \
  --kind document --normalize imagenet --input-name x --out "$work/doc.npz"
infer "$models/ppocrv4_det/ch_PP-OCRv4_det_infer.onnx" "$work/doc.npz" "$work/doc_out.npz"
stats "$work/doc_out.npz" sigmoid_0.tmp_0 0.3
awk -v f="$share" 'BEGIN { exit !(f > 0.02) }' ||
  { echo "FAIL: ppocr text share $share <= 0.02"; exit 1; }

echo "== blazeface_front_128: scenes, NHWC in [-1, 1]"
"$data_tool" images --source fashion --split t10k --layout nhwc --size 128x128 --count 2 \
  --seed 5 --kind scene --normalize minus1to1 --input-name input:0 --out "$work/scene.npz"
infer "$models/blazeface_front_128/face_detection_front_128x128_barracuda.onnx" \
  "$work/scene.npz" "$work/scene_out.npz"
stats "$work/scene_out.npz" Identity:0 0

echo "== a WAV that is not PCM 16-bit mono is refused with a message"
mkdir "$work/bad"
# A 32-bit float WAV header (format tag 3) with an empty data chunk.
printf 'RIFF\044\0\0\0WAVEfmt \020\0\0\0\003\0\001\0\100\037\0\0\0\175\0\0' >"$work/bad/float.wav"
printf '\004\0\040\0data\0\0\0\0' >>"$work/bad/float.wav"
if "$data_tool" speech --dir "$work/bad" --out "$work/bad-out" 2>"$work/err.txt"; then
  echo "FAIL: a float WAV was accepted"; exit 1
fi
grep -q "only PCM 16-bit mono" "$work/err.txt" || { cat "$work/err.txt"; exit 1; }
echo "PASS"
