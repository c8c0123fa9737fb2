// Table-driven test support for the tensor kernels: terse tensor builders, a case type that runs
// one kernel and compares every output exactly, and an error case type.
#pragma once

#include <gtest/gtest.h>

#include <numeric>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/kernels/kernel_test_util.h"

namespace shrink::engine::testing {

inline Tensor F(Shape shape, std::vector<float> values) {
  return Tensor::FromVector<float>(std::move(shape), values);
}
inline Tensor I64(Shape shape, std::vector<int64_t> values) {
  return Tensor::FromVector<int64_t>(std::move(shape), values);
}
inline Tensor I32(Shape shape, std::vector<int32_t> values) {
  return Tensor::FromVector<int32_t>(std::move(shape), values);
}
inline Tensor U8(Shape shape, std::vector<uint8_t> values) {
  return Tensor::FromVector<uint8_t>(std::move(shape), values);
}
inline Tensor B(Shape shape, std::vector<bool> values) {
  return Tensor::FromVector<bool>(std::move(shape), values);
}
inline Tensor S(Shape shape, std::vector<std::string> values) {
  return Tensor::FromVector<std::string>(std::move(shape), values);
}
// 1-D int64 list, the usual shape/axes/pads input.
inline Tensor L(std::vector<int64_t> values) { return I64({int64_t(values.size())}, values); }
// Float tensor holding 0, 1, 2, ... in row-major order.
inline Tensor Iota(Shape shape) {
  Tensor t(DataType::kFloat32, std::move(shape));
  std::iota(t.data<float>(), t.data<float>() + t.size(), 0.0f);
  return t;
}

inline std::string Describe(const Tensor& t) {
  std::ostringstream out;
  out << DataTypeName(t.dtype()) << ShapeToString(t.shape()) << " {";
  for (int64_t i = 0; i < t.size() && i < 64; ++i) {
    out << (i ? ", " : "");
    if (t.dtype() == DataType::kString) {
      out << '"' << t.strings()[size_t(i)] << '"';
    } else {
      out << t.GetAsDouble(i);
    }
  }
  out << (t.size() > 64 ? ", ...}" : "}");
  return out.str();
}

struct OpCase {
  std::string name;
  OpType op = OpType::kUnknown;
  int64_t opset = 17;
  std::vector<Attribute> attributes;
  std::vector<Tensor> inputs;
  std::vector<Tensor> expected;  // one per output; compared bit for bit
};
inline std::ostream& operator<<(std::ostream& out, const OpCase& c) { return out << c.name; }

inline void CheckCase(const OpCase& c) {
  KernelRun run;
  run.op = c.op;
  run.opset = c.opset;
  run.attributes = c.attributes;
  run.inputs = c.inputs;
  run.num_outputs = int(c.expected.size());
  auto outputs = RunKernel(run);
  ASSERT_TRUE(outputs.ok()) << outputs.status().ToString();
  ASSERT_EQ(outputs->size(), c.expected.size());
  for (size_t i = 0; i < c.expected.size(); ++i) {
    EXPECT_TRUE((*outputs)[i].BitwiseEquals(c.expected[i]))
        << "output " << i << "\n  actual:   " << Describe((*outputs)[i])
        << "\n  expected: " << Describe(c.expected[i]);
  }
}

struct ErrorCase {
  std::string name;
  OpType op = OpType::kUnknown;
  int64_t opset = 17;
  std::vector<Attribute> attributes;
  std::vector<Tensor> inputs;
  std::string message;  // must appear in the error message
  StatusCode code = StatusCode::kInvalidArgument;
  int num_outputs = 1;
};
inline std::ostream& operator<<(std::ostream& out, const ErrorCase& c) { return out << c.name; }

inline void CheckError(const ErrorCase& c) {
  KernelRun run;
  run.op = c.op;
  run.opset = c.opset;
  run.attributes = c.attributes;
  run.inputs = c.inputs;
  run.num_outputs = c.num_outputs;
  auto outputs = RunKernel(run);
  ASSERT_FALSE(outputs.ok()) << "expected an error containing '" << c.message << "'";
  EXPECT_EQ(outputs.status().code(), c.code) << outputs.status().ToString();
  EXPECT_NE(outputs.status().message().find(c.message), std::string::npos)
      << outputs.status().ToString();
  EXPECT_NE(outputs.status().message().find("under_test"), std::string::npos)
      << "error should name the node: " << outputs.status().ToString();
}

template <typename Case>
std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return info.param.name;
}

}  // namespace shrink::engine::testing
