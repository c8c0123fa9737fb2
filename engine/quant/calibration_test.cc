#include "engine/quant/calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <set>

#include "common/file_util.h"
#include "engine/io/npy.h"
#include "engine/io/onnx_import.h"
#include "engine/kernels/kernel_test_util.h"
#include "engine/quant/histogram.h"

namespace shrink::engine::quant {
namespace {

using engine::testing::AddTestNode;
using engine::testing::EmptyModel;
using engine::testing::TensorInfo;

std::vector<float> Gaussian(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = normal(rng);
  return v;
}

std::vector<float> Uniform(int64_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = uniform(rng);
  return v;
}

// Feeds in batches, as calibration does.
void ObserveAll(RangeCollector* collector, const std::vector<float>& v, int64_t batch = 10000) {
  for (int64_t i = 0; i < int64_t(v.size()); i += batch) {
    collector->Observe(v.data() + i, std::min<int64_t>(batch, int64_t(v.size()) - i));
  }
}

CalibrationOptions Options(Calibrator method, bool symmetric = false,
                           QuantType type = QuantType::kUint8) {
  CalibrationOptions options;
  options.method = method;
  options.symmetric = symmetric;
  options.target_type = type;
  return options;
}

TensorRange Collect(const CalibrationOptions& options, const std::vector<float>& v) {
  auto collector = MakeRangeCollector(options);
  ObserveAll(collector.get(), v);
  EXPECT_FALSE(collector->empty());
  return collector->Compute();
}

TEST(HistogramTest, MemoryDoesNotGrowWithObservations) {
  StreamingHistogram histogram(2048, false);
  std::vector<float> batch(1000);
  // 1e6 values whose range keeps growing: the bin count never changes, only the width.
  for (int b = 0; b < 1000; ++b) {
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i] = float(i) / 1000.0f * (1 + b) - 0.3f * float(b);
    }
    histogram.Add(batch.data(), int64_t(batch.size()));
    ASSERT_EQ(histogram.bins(), 2048);
    ASSERT_EQ(histogram.counts().size(), 2048u);
  }
  EXPECT_EQ(histogram.total(), 1000000);
  EXPECT_GT(histogram.widenings(), 5);
  // Each re-binning picks the least factor fitting the data in bins - 1 bins, so the data
  // spans at least (bins - 1) / (2 bins) of the range, and more as it grows.
  double range = 2048 * histogram.width();
  EXPECT_GE(histogram.data_max() - histogram.data_min(), range * 2047 / 4096);
  // Values already inside never widen it again.
  int64_t widenings = histogram.widenings();
  for (int b = 0; b < 10; ++b) histogram.Add(batch.data(), int64_t(batch.size()));
  EXPECT_EQ(histogram.widenings(), widenings);
  uint64_t sum = 0;
  for (uint64_t c : histogram.counts()) sum += c;
  EXPECT_EQ(sum, 1010000u);
  EXPECT_LE(histogram.lo(), histogram.data_min());
  EXPECT_GE(histogram.lo() + 2048 * histogram.width(), histogram.data_max());
}

TEST(HistogramTest, SkipsNonFiniteAndHandlesConstantStart) {
  StreamingHistogram histogram(16, false);
  std::vector<float> zeros(100, 0.0f);
  histogram.Add(zeros.data(), 100);
  EXPECT_TRUE(histogram.degenerate());
  std::vector<float> mixed = {1.0f, NAN, INFINITY, -INFINITY, 2.0f};
  histogram.Add(mixed.data(), int64_t(mixed.size()));
  EXPECT_EQ(histogram.total(), 102);
  EXPECT_EQ(histogram.data_min(), 0.0f);
  EXPECT_EQ(histogram.data_max(), 2.0f);
  EXPECT_EQ(histogram.counts().front(), 100u);  // the constant start kept its count
  float lo = 0, hi = 0;
  EXPECT_TRUE(FiniteMinMax(mixed.data(), int64_t(mixed.size()), &lo, &hi));
  EXPECT_EQ(lo, 1.0f);
  EXPECT_EQ(hi, 2.0f);
}

// Large batches count through interleaved scratch copies, small ones directly: same counts.
TEST(HistogramTest, LargeAndSmallBatchesCountAlike) {
  std::vector<float> v = Gaussian(100000, 5);
  for (size_t i = 0; i < v.size(); i += 2) v[i] = std::max(v[i], 0.0f);  // runs of one bin
  std::iter_swap(v.begin(), std::min_element(v.begin(), v.end()));
  std::iter_swap(v.begin() + 1, std::max_element(v.begin(), v.end()));
  StreamingHistogram whole(2048, false), pieces(2048, false);
  whole.Add(v.data(), int64_t(v.size()));
  for (size_t i = 0; i < v.size(); i += 1000) pieces.Add(v.data() + i, 1000);
  EXPECT_EQ(pieces.widenings(), 0);  // the first piece holds both extremes
  EXPECT_EQ(whole.counts(), pieces.counts());
}

// The k-th order statistic for a share q of the sorted values.
double ExactQuantile(std::vector<float> v, double q) {
  std::sort(v.begin(), v.end());
  size_t k = size_t(std::ceil(q * double(v.size())));
  return v[std::min(v.size() - 1, k == 0 ? 0 : k - 1)];
}

// Re-binning merges whole bins, so the streamed quantile lies in the same final bin as the
// exact one; a one-shot histogram is within its own (narrower) bin of it.
TEST(HistogramTest, StreamingMatchesOneShotPercentile) {
  std::vector<float> values = Gaussian(200000, 7);
  // Start narrow so the streamed histogram is widened many times.
  std::sort(values.begin(), values.begin() + 1000,
            [](float a, float b) { return std::fabs(a) < std::fabs(b); });
  for (bool magnitude : {false, true}) {
    SCOPED_TRACE(magnitude ? "magnitude" : "signed");
    StreamingHistogram streamed(2048, magnitude), one_shot(2048, magnitude);
    for (size_t i = 0; i < values.size(); i += 100) streamed.Add(values.data() + i, 100);
    one_shot.Add(values.data(), int64_t(values.size()));
    EXPECT_GT(streamed.widenings(), 0);
    EXPECT_EQ(one_shot.widenings(), 0);
    for (double percentile : {99.0, 99.9, 99.99}) {
      TensorRange a = PercentileRange(streamed, percentile);
      TensorRange b = PercentileRange(one_shot, percentile);
      double tolerance = streamed.width() + one_shot.width();
      EXPECT_NEAR(a.max, b.max, tolerance) << percentile;
      EXPECT_NEAR(a.min, b.min, tolerance) << percentile;
      std::vector<float> domain = values;
      if (magnitude) {
        for (float& x : domain) x = std::fabs(x);
        EXPECT_NEAR(a.max, ExactQuantile(domain, percentile / 100), streamed.width());
      } else {
        double clip = (100 - percentile) / 100;  // per tail
        EXPECT_NEAR(a.max, ExactQuantile(domain, 1 - clip), streamed.width());
        EXPECT_NEAR(a.min, ExactQuantile(domain, clip), streamed.width());
      }
    }
  }
}

// The O(n) definition: P with the clipped counts on its edge bins, Q the window's counts merged
// into `levels` groups and spread over P's non-zero bins, Q smoothed with 1e-4 of uniform mass.
double ReferenceKl(const StreamingHistogram& h, int64_t i0, int64_t i1, int64_t levels) {
  const auto& c = h.counts();
  int64_t n = i1 - i0;
  std::vector<double> p(static_cast<size_t>(n)), q(static_cast<size_t>(n), 0.0);
  for (int64_t j = 0; j < n; ++j) p[size_t(j)] = double(c[size_t(i0 + j)]);
  for (int64_t j = 0; j < i0; ++j) p[0] += double(c[size_t(j)]);
  for (int64_t j = i1; j < h.bins(); ++j) p[size_t(n - 1)] += double(c[size_t(j)]);
  for (int64_t g = 0; g < levels; ++g) {
    int64_t b0 = g * n / levels, b1 = (g + 1) * n / levels, nonzero = 0;
    double total = 0;
    for (int64_t j = b0; j < b1; ++j) {
      total += double(c[size_t(i0 + j)]);
      nonzero += p[size_t(j)] > 0;
    }
    for (int64_t j = b0; j < b1; ++j) {
      if (p[size_t(j)] > 0) q[size_t(j)] = total / double(nonzero);
    }
  }
  double sp = 0, sq = 0, kl = 0;
  for (int64_t j = 0; j < n; ++j) sp += p[size_t(j)], sq += q[size_t(j)];
  for (int64_t j = 0; j < n; ++j) {
    if (p[size_t(j)] <= 0) continue;
    double qj = (1 - 1e-4) * q[size_t(j)] / sq + 1e-4 / double(n);
    kl += p[size_t(j)] / sp * std::log(p[size_t(j)] / sp / qj);
  }
  return kl;
}

TEST(HistogramTest, KlDivergenceMatchesDefinition) {
  std::vector<float> v = Gaussian(100000, 9);
  for (int i = 0; i < 300; ++i) v[size_t(i)] = 0.0f;  // a spike, and empty bins in the tails
  StreamingHistogram h(512, false);
  h.Add(v.data(), int64_t(v.size()));
  struct Case {
    int64_t i0, i1, levels;
  };
  for (Case c : {Case{0, 512, 128}, Case{100, 400, 128}, Case{200, 330, 128}, Case{0, 1, 1},
                 Case{511, 512, 1}, Case{3, 509, 256}, Case{250, 262, 5}}) {
    SCOPED_TRACE(std::to_string(c.i0) + ".." + std::to_string(c.i1));
    double expected = ReferenceKl(h, c.i0, c.i1, c.levels);
    // Both sum O(n) terms of size O(1) in double; the closed form regroups them.
    EXPECT_NEAR(WindowKlDivergence(h, c.i0, c.i1, c.levels), expected, 1e-9 * (1 + expected));
  }
}

TEST(CalibratorTest, UniformPercentileNearBounds) {
  const float lo = -1, hi = 3;
  std::vector<float> v = Uniform(1000000, lo, hi, 11);
  CalibrationOptions options = Options(Calibrator::kPercentile);
  options.percentile = 99.9;
  TensorRange range = Collect(options, v);
  // Each tail clips 0.1%; allow one bin (at most ~2x extent / bins after re-binning) plus 5
  // sigma of the sample quantile's spread.
  double share = 0.001, width = 2.001 * (hi - lo) / options.histogram_bins;
  double sampling = 5 * std::sqrt(share / 1e6) * (hi - lo);
  EXPECT_NEAR(range.min, lo + share * (hi - lo), width + sampling);
  EXPECT_NEAR(range.max, hi - share * (hi - lo), width + sampling);

  TensorRange minmax = Collect(Options(Calibrator::kMinMax), v);
  EXPECT_EQ(minmax.min, *std::min_element(v.begin(), v.end()));
  EXPECT_EQ(minmax.max, *std::max_element(v.begin(), v.end()));
}

TEST(CalibratorTest, OutliersAreClippedByHistogramCalibrators) {
  std::vector<float> v = Gaussian(1000000, 3);
  const float outlier = 100;
  const int outliers = 20;
  for (int i = 0; i < outliers; ++i) v[size_t(50000 * i + 17)] = outlier;
  const float data_min = *std::min_element(v.begin(), v.end());
  for (bool symmetric : {false, true}) {
    SCOPED_TRACE(symmetric ? "symmetric int8" : "asymmetric uint8");
    QuantType type = symmetric ? QuantType::kInt8 : QuantType::kUint8;
    EXPECT_EQ(Collect(Options(Calibrator::kMinMax, symmetric, type), v).max, outlier);

    CalibrationOptions percentile = Options(Calibrator::kPercentile, symmetric, type);
    percentile.percentile = 99.99;  // clips 100 values per tail: more than the 20 outliers
    TensorRange range = Collect(percentile, v);
    EXPECT_LT(range.max, 5.0f);  // the 0.9999 gaussian quantile is 3.7
    EXPECT_GT(range.max, 3.0f);

    // Entropy: the outliers are 2e-5 of the mass; spending the grid on them costs more KL
    // than piling them into the edge bin. A qualitative check: a real clip, bulk kept.
    range = Collect(Options(Calibrator::kEntropy, symmetric, type), v);
    EXPECT_LT(range.max, 0.75f * outlier);
    EXPECT_GT(range.max, 3.0f);
    EXPECT_LT(range.min, -3.0f);

    // MSE: minimise 20 (100 - t)^2 + a (t - lo)^2 with a = N / (12 L^2) the rounding noise per
    // squared grid span (L = 255 steps over [min, t], or 127 over [0, t] for magnitudes):
    // t = (20 * 100 + a * lo) / (20 + a). Bin centres and the candidate grid move it by under
    // three bin widths.
    double steps = symmetric ? 127 : 255, lo = symmetric ? 0 : data_min;
    double a = double(v.size() - outliers) / (12 * steps * steps);
    double expected = (outliers * outlier + a * lo) / (outliers + a);
    // After re-binning a bin is at most ~2x the extent / bins wide (see histogram.h).
    double width = 2.001 * (outlier - (symmetric ? 0 : data_min)) / 2048;
    range = Collect(Options(Calibrator::kMse, symmetric, type), v);
    EXPECT_NEAR(range.max, expected, 3 * width);
    EXPECT_LT(range.max, outlier);
  }
}

// ReLU output: half exact zeros, half |gaussian|. The zero spike must not drag the entropy
// threshold into the bulk: on |gaussian| alone it lands past 4 sigma.
TEST(CalibratorTest, EntropyIgnoresTheZeroSpike) {
  std::vector<float> v = Gaussian(1000000, 13);
  for (float& x : v) x = std::max(x, 0.0f);
  for (bool symmetric : {false, true}) {
    SCOPED_TRACE(symmetric ? "symmetric int8" : "asymmetric uint8");
    QuantType type = symmetric ? QuantType::kInt8 : QuantType::kUint8;
    TensorRange range = Collect(Options(Calibrator::kEntropy, symmetric, type), v);
    EXPECT_GT(range.max, 3.0f);  // the 99.7th percentile of the non-zero half
    EXPECT_EQ(range.min, 0.0f);
  }
}

TEST(CalibratorTest, MseOnUniformKeepsFullRange) {
  std::vector<float> v = Uniform(1000000, 0, 1, 5);
  TensorRange range = Collect(Options(Calibrator::kMse), v);
  // Cost (1 - t)^3 / 3 + t (t / 255)^2 / 12 is least at 1 - t = t / 510: t ~ 0.998.
  const double optimum = 1 - 1.0 / 511;
  EXPECT_NEAR(range.max, optimum, 2.0 / 511);
  EXPECT_EQ(range.min, *std::min_element(v.begin(), v.end()));
  // 16-bit targets: rounding noise is negligible, so nothing is clipped beyond a bin.
  TensorRange wide = Collect(Options(Calibrator::kMse, false, QuantType::kUint16), v);
  EXPECT_NEAR(wide.max, 1.0, 2.001 / 2048);  // one bin
  TensorRange entropy16 = Collect(Options(Calibrator::kEntropy, false, QuantType::kInt16), v);
  EXPECT_EQ(entropy16.max, *std::max_element(v.begin(), v.end()));
}

TEST(CalibratorTest, ConstantTensors) {
  std::vector<float> zeros(1000, 0.0f), sevens(1000, -7.0f);
  for (Calibrator method :
       {Calibrator::kMinMax, Calibrator::kPercentile, Calibrator::kEntropy, Calibrator::kMse}) {
    for (bool symmetric : {false, true}) {
      SCOPED_TRACE(std::string(CalibratorName(method)) + (symmetric ? " sym" : ""));
      TensorRange r = Collect(Options(method, symmetric), zeros);
      EXPECT_EQ(r.min, 0.0f);
      EXPECT_EQ(r.max, 0.0f);
      r = Collect(Options(method, symmetric), sevens);
      EXPECT_EQ(r.min, -7.0f);
      EXPECT_EQ(r.max, -7.0f);
    }
  }
}

// --- Calibrate() on models ---

class TempDir {
 public:
  TempDir() : path_(*MakeTempDir("shrink-calib-test")) {}
  ~TempDir() { (void)RemoveAll(path_); }
  std::string File(const std::string& name) const { return JoinPath(path_, name); }

 private:
  std::string path_;
};

// out = x + state; stateN = out; shp = Shape(x) (int64, never observable).
Model StatefulModel() {
  Model model = EmptyModel(13);
  model.graph.inputs.push_back(TensorInfo("x", DataType::kFloat32, {-1, 2}, {"N"}));
  model.graph.inputs.push_back(TensorInfo("state", DataType::kFloat32, {-1, 2}, {"N"}));
  AddTestNode(&model.graph, "Add", {"x", "state"}, {"out"});
  AddTestNode(&model.graph, "Identity", {"out"}, {"stateN"});
  AddTestNode(&model.graph, "Shape", {"x"}, {"shp"});
  model.graph.outputs.push_back(TensorInfo("stateN", DataType::kFloat32, {-1, 2}, {"N"}));
  model.graph.outputs.push_back(TensorInfo("shp", DataType::kInt64, {2}));
  return model;
}

TEST(CalibrateTest, CarriesStateBetweenRuns) {
  TempDir dir;
  std::string path = dir.File("x.npz");
  ASSERT_TRUE(WriteNpz(path, {{"x", Tensor::FromVector<float>({3, 2}, {1, 1, 1, 1, 1, 1})}},
                       NpzCompression::kStored)
                  .ok());
  Model model = StatefulModel();
  CalibrationOptions options;
  options.batch_size = 1;
  options.state_pairs = {{"state", "stateN"}};
  CalibrationStats stats;
  auto ranges = Calibrate(model, {"x", "state", "out", "shp", "nope"}, path, options, nullptr,
                          nullptr, &stats);
  ASSERT_TRUE(ranges.ok()) << ranges.status().ToString();
  EXPECT_EQ(stats.batches, 3);
  EXPECT_EQ(stats.samples, 3);
  // Runs see state 0, 1, 2 and produce 1, 2, 3.
  EXPECT_EQ(ranges->at("state").min, 0.0f);
  EXPECT_EQ(ranges->at("state").max, 2.0f);
  EXPECT_EQ(ranges->at("out").min, 1.0f);
  EXPECT_EQ(ranges->at("out").max, 3.0f);
  EXPECT_EQ(ranges->at("x").max, 1.0f);
  EXPECT_EQ(ranges->count("shp"), 0u);
  std::set<std::string> unobserved(stats.unobserved.begin(), stats.unobserved.end());
  EXPECT_EQ(unobserved, (std::set<std::string>{"shp", "nope"}));

  // A state in the data seeds the first run only.
  std::string seeded = dir.File("seeded.npz");
  ASSERT_TRUE(WriteNpz(seeded,
                       {{"x", Tensor::FromVector<float>({3, 2}, {1, 1, 1, 1, 1, 1})},
                        {"state", Tensor::FromVector<float>({3, 2}, {10, 10, 50, 50, 50, 50})}},
                       NpzCompression::kStored)
                  .ok());
  ranges = Calibrate(model, {"out"}, seeded, options, nullptr, nullptr, &stats);
  ASSERT_TRUE(ranges.ok()) << ranges.status().ToString();
  EXPECT_EQ(ranges->at("out").min, 11.0f);
  EXPECT_EQ(ranges->at("out").max, 13.0f);
}

TEST(CalibrateTest, NpyDataWithStateLeftOut) {
  TempDir dir;
  std::string path = dir.File("x.npy");
  ASSERT_TRUE(WriteNpy(path, Tensor::FromVector<float>({2, 2}, {1, 1, 1, 1})).ok());
  CalibrationOptions options;
  options.batch_size = 1;
  options.state_pairs = {{"state", "stateN"}};
  auto ranges = Calibrate(StatefulModel(), {"out"}, path, options, nullptr, nullptr, nullptr);
  ASSERT_TRUE(ranges.ok()) << ranges.status().ToString();
  EXPECT_EQ(ranges->at("out").max, 2.0f);
}

void CollectOutputs(const Graph& graph, std::vector<std::string>* names) {
  for (const auto& node : graph.nodes) {
    for (const auto& output : node->outputs) names->push_back(output);
    for (const auto& attribute : node->attributes) {
      if (attribute.g) CollectOutputs(*attribute.g, names);
    }
  }
}

// silero_vad_v5: `state` [2, N, 128] in, `stateN` out, If branches per sample rate.
TEST(CalibrateTest, SileroStateIsCarried) {
  std::string model_path =
      std::string(SHRINK_ASSETS_DIR) + "/models/silero_vad_v5/silero_vad_v5.onnx";
  if (!FileExists(model_path)) GTEST_SKIP() << "silero_vad_v5 not found at " << model_path;
  auto model = LoadModel(model_path);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::vector<float> audio = Uniform(6 * 512, -0.5f, 0.5f, 21);
  TempDir dir;
  std::string path = dir.File("audio.npz");
  ASSERT_TRUE(WriteNpz(path,
                       {{"input", Tensor::FromVector<float>({6, 512}, audio)},
                        {"sr", Tensor::Scalar<int64_t>(16000)}},
                       NpzCompression::kStored)
                  .ok());
  std::vector<std::string> tensors = {"input", "state"};
  CollectOutputs(model->graph, &tensors);
  CalibrationOptions options;
  options.batch_size = 1;
  options.state_pairs = {{"state", "stateN"}};
  CalibrationStats stats;
  auto ranges = Calibrate(*model, tensors, path, options, nullptr, nullptr, &stats);
  ASSERT_TRUE(ranges.ok()) << ranges.status().ToString();
  EXPECT_EQ(stats.batches, 6);
  // The first run sees zeros; later runs see the LSTM state the previous run produced.
  ASSERT_EQ(ranges->count("state"), 1u);
  ASSERT_EQ(ranges->count("stateN"), 1u);
  EXPECT_LT(ranges->at("state").min, 0.0f);
  EXPECT_GT(ranges->at("state").max, 0.0f);
  EXPECT_LE(ranges->at("state").max, ranges->at("stateN").max);
  // The 8 kHz branch never runs at 16 kHz: its tensors are reported, not invented.
  EXPECT_FALSE(stats.unobserved.empty());
  EXPECT_EQ(std::count(stats.unobserved.begin(), stats.unobserved.end(), "stateN"), 0);

  // Without the pair the data lacks `state`: an error naming the file.
  auto missing = Calibrate(*model, {"stateN"}, path, {}, nullptr, nullptr, nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(path), std::string::npos);
}

TEST(CalibrateTest, BadStatePairsAreErrors) {
  TempDir dir;
  std::string path = dir.File("x.npz");
  ASSERT_TRUE(
      WriteNpz(path, {{"x", Tensor::FromVector<float>({1, 2}, {1, 1})}}, NpzCompression::kStored)
          .ok());
  CalibrationOptions options;
  options.state_pairs = {{"state", "stateM"}};
  auto ranges = Calibrate(StatefulModel(), {"out"}, path, options, nullptr, nullptr, nullptr);
  ASSERT_FALSE(ranges.ok());
  EXPECT_NE(ranges.status().message().find("stateM"), std::string::npos);
  options.state_pairs = {{"stat", "stateN"}};
  ranges = Calibrate(StatefulModel(), {"out"}, path, options, nullptr, nullptr, nullptr);
  ASSERT_FALSE(ranges.ok());
  EXPECT_NE(ranges.status().message().find("'stat'"), std::string::npos);
}

TEST(CalibrateTest, MissingInputIsAnErrorNamingTheFile) {
  TempDir dir;
  std::string path = dir.File("only_x.npz");
  ASSERT_TRUE(
      WriteNpz(path, {{"x", Tensor::FromVector<float>({1, 2}, {1, 1})}}, NpzCompression::kStored)
          .ok());
  auto ranges = Calibrate(StatefulModel(), {"out"}, path, {}, nullptr, nullptr, nullptr);
  ASSERT_FALSE(ranges.ok());
  EXPECT_NE(ranges.status().message().find(path), std::string::npos);
  EXPECT_NE(ranges.status().message().find("state"), std::string::npos);
}

// The first `count` MNIST training images as float32 [count, 1, 28, 28] in [0, 1].
StatusOr<Tensor> MnistImages(int64_t count) {
  std::string path = std::string(SHRINK_ASSETS_DIR) + "/data/mnist/train-images-idx3-ubyte";
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path);
  std::vector<unsigned char> bytes(size_t(16 + count * 784));
  in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!in) return DataLoss(path + " is short");
  Tensor images(DataType::kFloat32, {count, 1, 28, 28});
  for (int64_t i = 0; i < count * 784; ++i) {
    images.data<float>()[i] = float(bytes[size_t(16 + i)]) / 255.0f;
  }
  return images;
}

class MnistCalibrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string model_path = std::string(SHRINK_SHARED_MODELS_DIR) + "/mnist_cnn.onnx";
    if (!FileExists(model_path)) GTEST_SKIP() << "mnist_cnn.onnx not found at " << model_path;
    auto images = MnistImages(64);
    if (!images.ok()) GTEST_SKIP() << "MNIST data missing: " << images.status().ToString();
    auto model = LoadModel(model_path);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = std::move(*model);
    data_ = dir_.File("mnist64.npz");
    ASSERT_TRUE(WriteNpz(data_, {{"input", *images}}, NpzCompression::kStored).ok());
    tensors_.push_back("input");
    for (const auto& node : model_.graph.nodes) {
      if (node->op == OpType::kConv || node->op == OpType::kGemm || node->op == OpType::kRelu) {
        tensors_.push_back(node->outputs[0]);
      }
    }
  }
  TempDir dir_;
  Model model_;
  std::string data_;
  std::vector<std::string> tensors_;
};

TEST_F(MnistCalibrateTest, EveryCalibratorGivesEveryRange) {
  ASSERT_GT(tensors_.size(), 4u);
  for (Calibrator method :
       {Calibrator::kMinMax, Calibrator::kPercentile, Calibrator::kEntropy, Calibrator::kMse}) {
    SCOPED_TRACE(CalibratorName(method));
    CalibrationOptions options = Options(method);
    options.batch_size = 16;
    std::vector<double> fractions;
    CalibrationStats stats;
    auto ranges = Calibrate(
        model_, tensors_, data_, options,
        [&](double fraction, const std::string&) { fractions.push_back(fraction); }, nullptr,
        &stats);
    ASSERT_TRUE(ranges.ok()) << ranges.status().ToString();
    EXPECT_TRUE(stats.unobserved.empty());
    EXPECT_EQ(stats.samples, 64);
    EXPECT_EQ(fractions, (std::vector<double>{0.25, 0.5, 0.75, 1.0}));
    for (const std::string& name : tensors_) {
      ASSERT_EQ(ranges->count(name), 1u) << name;
      EXPECT_LE(ranges->at(name).min, ranges->at(name).max) << name;
    }
    if (method == Calibrator::kMinMax) {  // MNIST has black and white pixels
      EXPECT_EQ(ranges->at("input").min, 0.0f);
      EXPECT_EQ(ranges->at("input").max, 1.0f);
    }
    EXPECT_GE(ranges->at("input").min, 0.0f);
    EXPECT_LE(ranges->at("input").max, 1.0f);
  }
}

TEST_F(MnistCalibrateTest, MaxSamplesAndCancel) {
  CalibrationOptions options;
  options.batch_size = 16;
  options.max_samples = 40;
  CalibrationStats stats;
  auto ranges = Calibrate(model_, tensors_, data_, options, nullptr, nullptr, &stats);
  ASSERT_TRUE(ranges.ok()) << ranges.status().ToString();
  EXPECT_EQ(stats.samples, 40);
  EXPECT_EQ(stats.batches, 3);

  std::atomic<bool> cancel{false};
  int calls = 0;
  auto cancelled = Calibrate(
      model_, tensors_, data_, options,
      [&](double, const std::string&) {
        if (++calls == 1) cancel = true;
      },
      &cancel, &stats);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.status().code(), StatusCode::kCancelled);
  EXPECT_NE(cancelled.status().message().find("calibration"), std::string::npos);
  EXPECT_EQ(stats.batches, 1);
}

}  // namespace
}  // namespace shrink::engine::quant
