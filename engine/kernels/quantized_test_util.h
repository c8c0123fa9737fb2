// Helpers shared by the quantized kernel tests.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "engine/kernels/kernel_test_util.h"
#include "engine/kernels/quantized_internal.h"

namespace shrink::engine::testing {

template <typename T>
std::vector<T> Values(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DataTypeOf<T>::value);
  const T* p = t.data<T>();
  return std::vector<T>(p, p + t.size());
}

// Runs the kernel and fails the test (returning no outputs) when it reports an error.
inline std::vector<Tensor> MustRun(const KernelRun& run) {
  auto result = RunKernel(run);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? *result : std::vector<Tensor>(size_t(run.num_outputs));
}

// The error message of a run that must fail.
inline std::string MustFail(const KernelRun& run) {
  auto result = RunKernel(run);
  EXPECT_FALSE(result.ok()) << "expected an error";
  return result.ok() ? std::string() : result.status().message();
}

// Runs `run` with every instruction-set level this machine supports (portable, AVX2, AVX512 /
// VNNI); the outputs must agree bit for bit. Returns them.
inline std::vector<Tensor> MustRunEveryIsa(const KernelRun& run) {
  quant::SetGemmIsaForTesting(quant::GemmIsa::kPortable);
  std::vector<Tensor> expected = MustRun(run);
  for (quant::GemmIsa isa : {quant::GemmIsa::kAvx2, quant::GemmIsa::kVnni}) {
    if (!quant::IsaSupported(isa)) continue;
    quant::SetGemmIsaForTesting(isa);
    std::vector<Tensor> got = MustRun(run);
    for (size_t i = 0; i < got.size() && i < expected.size(); ++i) {
      EXPECT_TRUE(got[i].BitwiseEquals(expected[i])) << "isa " << int(isa) << " output " << i;
    }
  }
  quant::SetGemmIsaForTesting(quant::GemmIsa::kAuto);
  return expected;
}

template <typename T>
Tensor RandomCodes(std::mt19937& rng, const Shape& shape) {
  Tensor t(DataTypeOf<T>::value, shape);
  std::uniform_int_distribution<int> dist(std::numeric_limits<T>::min(),
                                          std::numeric_limits<T>::max());
  for (int64_t i = 0; i < t.size(); ++i) t.data<T>()[i] = T(dist(rng));
  return t;
}

inline Tensor RandomFloats(std::mt19937& rng, const Shape& shape, float lo, float hi) {
  Tensor t(DataType::kFloat32, shape);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

template <typename T>
T RandomCode(std::mt19937& rng) {
  std::uniform_int_distribution<int> dist(std::numeric_limits<T>::min(),
                                          std::numeric_limits<T>::max());
  return T(dist(rng));
}

// Round half to even and saturate, computed independently of the kernels (double precision).
template <typename T>
T QuantizeRef(double real, double scale, int zp) {
  double v = std::nearbyint(real / scale) + zp;
  v = std::min<double>(std::max<double>(v, std::numeric_limits<T>::min()),
                       std::numeric_limits<T>::max());
  return T(v);
}

// Largest |a - b| over two equally long code vectors.
template <typename T>
int MaxCodeDiff(const std::vector<T>& a, const std::vector<T>& b) {
  EXPECT_EQ(a.size(), b.size());
  int worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    worst = std::max(worst, std::abs(int(a[i]) - int(b[i])));
  }
  return worst;
}

}  // namespace shrink::engine::testing
