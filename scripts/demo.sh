#!/usr/bin/env bash
# The main job: sets up the machine (scripts/setup.sh), then runs shrink as a service:
#   1. `shrink serve` with 2 local workers on an embedded SQLite file (port picked at start);
#   2. submits mnist_cnn -> int8 (calibrated on 500 MNIST training images) and the PP-OCRv4
#      text detector from the asset kit -> int8 (calibrated on synthetic documents), watches
#      them with progress, fetches the artifacts and reports, prints each job's summary;
#   3. checks the int8 MNIST model's accuracy on 1000 test images next to the float model's;
#   4. stops the server cleanly (SIGTERM: workers drain, then it exits).
# Every artifact was loaded and run by ONNX Runtime on the worker before it was accepted.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SHRINK_ASSETS="${SHRINK_ASSETS:-$HOME/.cache/shrink-assets}"
work="${SHRINK_DEMO_DIR:-build/demo}"
mkdir -p "$work"
bin=build/bin
mnist="$SHRINK_ASSETS/data/mnist"
data="${SHRINK_DATA:-$HOME/.cache/shrink-data}"

echo "== MNIST calibration (train 0..499) and evaluation (test 0..999) sets"
"$bin/shrink-data" idx --images "$mnist/train-images-idx3-ubyte" \
  --labels "$mnist/train-labels-idx1-ubyte" --count 500 --layout nchw --input-name input \
  --out "$work/mnist_calib.npz"
"$bin/shrink-data" idx --images "$mnist/t10k-images-idx3-ubyte" \
  --labels "$mnist/t10k-labels-idx1-ubyte" --count 1000 --layout nchw --input-name input \
  --out "$work/mnist_eval.npz"
echo "== synthetic documents for the text detector"
bash scripts/make-dev-data.sh --no-verify --out "$data" >/dev/null

echo "== shrink serve: 2 local workers, database $work/shrink.db"
rm -f "$work/port"
"$bin/shrink" serve --listen 127.0.0.1:0 --db "$work/shrink.db" --workers 2 \
  --metrics-listen 127.0.0.1:0 --port-file "$work/port" &
server=$!
stop_server() {
  if kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server"
    wait "$server" || true
  fi
}
trap stop_server EXIT
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "the server did not start" >&2; exit 1; }
export SHRINK_SERVER="127.0.0.1:$(cat "$work/port")"
export SHRINK_TOKEN_FILE="$work/shrink.db.admin-token"

echo "== shrink submit mnist_cnn.onnx --preset int8 (queued; watched below)"
mnist_job=$("$bin/shrink" submit ../shared/models/mnist_cnn.onnx --preset int8 \
  --calib "$work/mnist_calib.npz" --idempotency-key "demo-mnist-$(date +%s)")
echo "== shrink submit ch_PP-OCRv4_det_infer.onnx --preset int8 --wait"
"$bin/shrink" submit "$SHRINK_ASSETS/models/ppocrv4_det/ch_PP-OCRv4_det_infer.onnx" \
  --preset int8 --calib "$data/ppocrv4_det/calib" --wait \
  --out "$work/ppocrv4_det.int8.onnx" --report "$work/ppocrv4_det.int8.report.json"
echo "== shrink watch $mnist_job, then fetch"
"$bin/shrink" watch "$mnist_job"
"$bin/shrink" fetch "$mnist_job" --out "$work/mnist_cnn.int8.onnx" \
  --report "$work/mnist_cnn.int8.report.json"
"$bin/shrink" status "$mnist_job"

for model in ../shared/models/mnist_cnn.onnx "$work/mnist_cnn.int8.onnx"; do
  echo "-- accuracy of $(basename "$model") on 1000 MNIST test images"
  "$bin/shrink" infer "$model" --input "$work/mnist_eval.npz" --out "$work/logits.npz"
  "$bin/shrink-data" accuracy --logits "$work/logits.npz" --output logits \
    --labels "$mnist/t10k-labels-idx1-ubyte" --count 1000
done

echo "== stopping the server"
stop_server
trap - EXIT
echo "demo finished: models and reports in $work (jobs stay in $work/shrink.db)"
