#!/bin/sh
# ctest report_browser: the HTML report of a real job opened in headless Chromium.
#   1. `shrink run mnist_cnn.onnx` int8 with an accuracy budget, evaluation and latency, on a
#      64-image labeled npz (MNIST training images from the asset kit; random images and a
#      label-free SQNR budget without the kit), writes report.json with every section;
#   2. `shrink report report.json --html report.html` renders it (and a broken JSON exits 1
#      naming the file);
#   3. chromium --headless takes a 1200x2000 screenshot and dumps the DOM. Checks: exit 0, the PNG
#      is over 10 KB, every <h2> section heading of the page is in the rendered DOM (Summary,
#      Size, Per-node decisions and Stage timings at least), and Chromium logged no console
#      message (JavaScript errors and Content-Security-Policy violations are console messages).
# The screenshot stays in OUTDIR (printed). Exits 77 (skip) without chromium or the model.
# Usage: report_browser_test.sh SHRINK SHRINK_DATA SHARED_MODELS_DIR ASSETS_DIR OUTDIR
set -eu
shrink=$1 data_tool=$2 models=$3 assets=$4 out=$5
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] ||
  { echo "SKIP: chromium is not installed (scripts/test.sh installs it)"; exit 77; }
model=$models/mnist_cnn.onnx
[ -f "$model" ] || { echo "SKIP: $model is missing"; exit 77; }
rm -rf "$out" && mkdir -p "$out"
fail() { echo "FAIL: $*"; exit 1; }

echo "== calibration data"
if [ -f "$assets/data/mnist/train-images-idx3-ubyte" ]; then
  "$data_tool" idx --images "$assets/data/mnist/train-images-idx3-ubyte" \
    --labels "$assets/data/mnist/train-labels-idx1-ubyte" --count 64 \
    --layout nchw --input-name input --out "$out/calib.npz"
  budget='"maxAccuracyDrop": 2'
else
  echo "(no asset kit: random images)"
  "$data_tool" random --shape input=64x1x28x28 --seed 1 --out "$out/calib.npz"
  budget='"minSqnrDb": 20'
fi
echo "{\"preset\": \"int8\", \"budget\": {$budget}, \"evaluate\": {\"latency\": true}}" \
  > "$out/recipe.json"

echo "== shrink run (int8 with a budget, evaluation, latency), then shrink report --html"
"$shrink" run "$model" --recipe "$out/recipe.json" --calib "$out/calib.npz" \
  --eval "$out/calib.npz" --out "$out/mnist_cnn.int8.onnx" --report "$out/report.json" ||
  fail "shrink run"
"$shrink" report "$out/report.json" --html "$out/report.html" || fail "shrink report"
printf '{"schema": 1, ' > "$out/broken.json"
if "$shrink" report "$out/broken.json" --html "$out/broken.html" 2>"$out/broken.err"; then
  fail "shrink report accepted broken JSON"
else
  code=$?
fi
[ "$code" = 1 ] || fail "broken JSON exited $code, expected 1"
grep -q "broken.json" "$out/broken.err" ||
  fail "the error does not name the file: $(cat "$out/broken.err")"
grep -Eq 'https?://' "$out/report.html" && fail "report.html holds a URL"

# Console messages (JavaScript errors, CSP violations) reach stderr only with --enable-logging.
browse() {
  timeout 180 "$chromium" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
    --window-size=1200,2000 "$@" "file://$out/report.html"
}
echo "== chromium --screenshot"
browse --screenshot="$out/report.png" >"$out/screenshot.out" 2>"$out/screenshot.err" ||
  { rc=$?; cat "$out/screenshot.err"; fail "chromium --screenshot exited $rc"; }
echo "== chromium --dump-dom"
browse --dump-dom >"$out/dom.html" 2>"$out/dom.err" ||
  { rc=$?; cat "$out/dom.err"; fail "chromium --dump-dom exited $rc"; }

[ -f "$out/report.png" ] || fail "no screenshot"
png_bytes=$(wc -c <"$out/report.png")
[ "$png_bytes" -gt 10240 ] || fail "the screenshot is only $png_bytes bytes"
for heading in Summary Size Latency Evaluation "Layer sensitivity" "Auto-tune trajectory" \
    "Per-node decisions" "Stage timings"; do
  grep -q "<h2>$heading</h2>" "$out/report.html" || fail "report.html has no '$heading' section"
done
grep -o '<h2>[^<]*</h2>' "$out/report.html" > "$out/headings.txt"
while IFS= read -r heading; do
  grep -qF "$heading" "$out/dom.html" || fail "the rendered DOM lacks $heading"
done < "$out/headings.txt"
svgs=$(grep -o '<svg' "$out/dom.html" | wc -l)
[ "$svgs" -ge 5 ] ||
  fail "the rendered DOM has $svgs charts, expected size, latency, sensitivity, trajectory, timings"
if grep -E ':CONSOLE|Uncaught|SyntaxError' "$out/screenshot.err" "$out/dom.err"; then
  fail "Chromium logged console messages (above)"
fi
echo "sections rendered: $(tr '\n' ' ' < "$out/headings.txt" | sed 's/<[^>]*>//g')"
echo "screenshot: $out/report.png ($png_bytes bytes)"
echo "PASS"
