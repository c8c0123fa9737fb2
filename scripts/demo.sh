#!/usr/bin/env bash
# The main job: sets up the machine (scripts/setup.sh), then optimizes real models end to end
# in-process with `shrink run` (the server arrives with a later issue):
#   1. mnist_cnn -> int8 (calibrated on 500 MNIST training images), its accuracy on the first
#      1000 test images next to the float model's, in the engine's runtime;
#   2. the PP-OCRv4 text detector from the asset kit -> int8, calibrated on synthetic documents
#      (scripts/make-dev-data.sh), with the report written next to it.
# Every written model is loaded and run by ONNX Runtime before it is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SHRINK_ASSETS="${SHRINK_ASSETS:-$HOME/.cache/shrink-assets}"
work="${SHRINK_DEMO_DIR:-build/demo}"
mkdir -p "$work"
bin=build/bin
mnist="$SHRINK_ASSETS/data/mnist"

echo "== MNIST calibration (train 0..499) and evaluation (test 0..999) sets"
"$bin/shrink-data" idx --images "$mnist/train-images-idx3-ubyte" \
  --labels "$mnist/train-labels-idx1-ubyte" --count 500 --layout nchw --input-name input \
  --out "$work/mnist_calib.npz"
"$bin/shrink-data" idx --images "$mnist/t10k-images-idx3-ubyte" \
  --labels "$mnist/t10k-labels-idx1-ubyte" --count 1000 --layout nchw --input-name input \
  --out "$work/mnist_eval.npz"

echo "== shrink run mnist_cnn.onnx --preset int8"
"$bin/shrink" run ../shared/models/mnist_cnn.onnx --preset int8 --calib "$work/mnist_calib.npz" \
  --out "$work/mnist_cnn.int8.onnx" --report "$work/mnist_cnn.int8.report.json"
for model in ../shared/models/mnist_cnn.onnx "$work/mnist_cnn.int8.onnx"; do
  echo "-- accuracy of $(basename "$model")"
  "$bin/shrink" infer "$model" --input "$work/mnist_eval.npz" --out "$work/logits.npz"
  "$bin/shrink-data" accuracy --logits "$work/logits.npz" --output logits \
    --labels "$mnist/t10k-labels-idx1-ubyte" --count 1000
done

echo "== PP-OCRv4 detector -> int8 on synthetic documents"
bash scripts/make-dev-data.sh --no-verify --out "${SHRINK_DATA:-$HOME/.cache/shrink-data}" >/dev/null
"$bin/shrink" run "$SHRINK_ASSETS/models/ppocrv4_det/ch_PP-OCRv4_det_infer.onnx" --preset int8 \
  --calib "${SHRINK_DATA:-$HOME/.cache/shrink-data}/ppocrv4_det/calib" \
  --out "$work/ppocrv4_det.int8.onnx" --report "$work/ppocrv4_det.int8.report.json"
echo "demo finished: models and reports in $work"
