#!/usr/bin/env bash
# The main job: sets up the machine (scripts/setup.sh), then runs the engine's runtime on real
# models: the labeled MNIST CNN over the first 1000 MNIST test images (accuracy printed), and
# the PP-OCRv4 text detector from the asset kit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SHRINK_ASSETS="${SHRINK_ASSETS:-$HOME/.cache/shrink-assets}"
work="${SHRINK_DEMO_DIR:-build/demo}"
mkdir -p "$work"
bin=build/bin

echo "== MNIST eval subset -> $work/mnist_eval.npz"
"$bin/shrink-data" idx --images "$SHRINK_ASSETS/data/mnist/t10k-images-idx3-ubyte" \
  --labels "$SHRINK_ASSETS/data/mnist/t10k-labels-idx1-ubyte" --count 1000 \
  --layout nchw --input-name input --out "$work/mnist_eval.npz"

echo "== shrink infer mnist_cnn.onnx (engine runtime)"
"$bin/shrink" infer ../shared/models/mnist_cnn.onnx --input "$work/mnist_eval.npz" \
  --out "$work/mnist_cnn_logits.npz"
"$bin/shrink-data" accuracy --logits "$work/mnist_cnn_logits.npz" --output logits \
  --labels "$SHRINK_ASSETS/data/mnist/t10k-labels-idx1-ubyte" --count 1000

echo "== shrink infer PP-OCRv4 detector on a 1x3x320x320 input"
"$bin/shrink-data" random --shape "x=1x3x320x320" --seed 42 --out "$work/ocr_input.npz"
"$bin/shrink" infer "$SHRINK_ASSETS/models/ppocrv4_det/ch_PP-OCRv4_det_infer.onnx" \
  --input "$work/ocr_input.npz" --out "$work/ocr_output.npz" --threads 2
echo "demo finished: outputs in $work"
