// Runs the ONNX backend node tests (Debian libonnx-testdata) through the importer and runtime
// and prints pass counts per op. A test whose ops all have kernels must pass, or be listed in the
// expectations file with a reason; anything else makes the exit code non-zero.
//
// usage: shrink-node-tests [--data DIR] [--expectations FILE] [--op OP]... [--filter TEXT]
//                          [--verbose] [--report FILE]
#include <dirent.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "engine/io/onnx_import.h"
#include "engine/io/proto_convert.h"
#include "engine/runtime/executor.h"
#include "engine/runtime/kernel.h"

namespace shrink::engine {
namespace {

enum class Outcome { kPass, kFail, kNoKernel, kUnsupportedData };

struct TestResult {
  std::string name;
  std::string ops;  // distinct op types joined with '+'
  Outcome outcome;
  std::string detail;
};

void CollectOps(const Graph& graph, std::set<std::string>* ops) {
  for (const auto& node : graph.nodes) {
    ops->insert(node->domain.empty() ? node->op_type : node->domain + "." + node->op_type);
    for (const auto& a : node->attributes) {
      if (a.g) CollectOps(*a.g, ops);
      for (const auto& g : a.graphs) CollectOps(*g, ops);
    }
  }
}

StatusOr<Tensor> LoadTensorProto(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes) || (proto.dims_size() == 0 && proto.data_type() == 0)) {
    return Unimplemented("input is not a TensorProto (sequence or optional)");
  }
  return TensorFromProto(proto, ExternalDataSource{DirName(path)});
}

// ONNX backend-test tolerance: |actual - expected| <= atol + rtol * |expected|.
bool Close(double actual, double expected) {
  if (std::isnan(expected)) return std::isnan(actual);
  if (std::isinf(expected)) return actual == expected;
  return std::fabs(actual - expected) <= 1e-7 + 1e-3 * std::fabs(expected);
}

// libonnx-testdata 1.12 stores bfloat16 test tensors with data_type UINT16 (an upstream data
// bug); the bits are bfloat16, so they are re-labelled when the model expects bfloat16.
Tensor RelabelBFloat16(const Tensor& tensor, DataType wanted) {
  if (wanted != DataType::kBFloat16 || tensor.dtype() != DataType::kUint16) return tensor;
  Tensor relabelled(DataType::kBFloat16, tensor.shape());
  std::memcpy(relabelled.raw_data(), tensor.raw_data(), tensor.nbytes());
  return relabelled;
}

std::string CompareTensors(const Tensor& actual, const Tensor& expected) {
  if (actual.dtype() != expected.dtype()) {
    return std::string("dtype ") + DataTypeName(actual.dtype()) + " != expected " +
           DataTypeName(expected.dtype());
  }
  if (actual.shape() != expected.shape()) {
    return "shape " + ShapeToString(actual.shape()) + " != expected " +
           ShapeToString(expected.shape());
  }
  if (actual.dtype() == DataType::kString) {
    return actual.strings() == expected.strings() ? "" : "string values differ";
  }
  bool floating = IsFloatingPoint(actual.dtype()) || actual.dtype() == DataType::kComplex64;
  for (int64_t i = 0; i < actual.size(); ++i) {
    double a = actual.GetAsDouble(i), e = expected.GetAsDouble(i);
    bool ok = floating ? Close(a, e) : actual.GetAsInt64(i) == expected.GetAsInt64(i);
    if (!ok) {
      std::ostringstream out;
      out << "element " << i << ": " << a << " != expected " << e;
      return out.str();
    }
  }
  return "";
}

TestResult RunOne(const std::string& dir, const std::string& name) {
  TestResult result{name, "", Outcome::kPass, ""};
  auto model = LoadModel(JoinPath(dir, "model.onnx"));
  if (!model.ok()) return {name, "?", Outcome::kFail, model.status().ToString()};
  std::set<std::string> ops;
  CollectOps(model->graph, &ops);
  for (const auto& op : ops) result.ops += (result.ops.empty() ? "" : "+") + op;
  auto executor = Executor::Create(*model, {});
  if (!executor.ok()) {
    bool missing = executor.status().code() == StatusCode::kUnimplemented &&
                   executor.status().message().find("no kernel") != std::string::npos;
    result.outcome = missing ? Outcome::kNoKernel : Outcome::kFail;
    result.detail = executor.status().ToString();
    return result;
  }
  std::vector<std::string> data_sets;
  if (DIR* handle = opendir(dir.c_str())) {
    while (dirent* entry = readdir(handle)) {
      std::string entry_name = entry->d_name;
      if (entry_name.rfind("test_data_set_", 0) == 0) data_sets.push_back(entry_name);
    }
    closedir(handle);
  }
  std::sort(data_sets.begin(), data_sets.end());
  const auto& inputs = (*executor)->required_inputs();
  for (const std::string& data_set : data_sets) {
    std::string data_dir = JoinPath(dir, data_set);
    std::vector<NamedTensor> feeds;
    for (size_t i = 0; i < inputs.size(); ++i) {
      std::string path = JoinPath(data_dir, "input_" + std::to_string(i) + ".pb");
      if (!FileExists(path)) break;  // trailing optional inputs left out
      if (!inputs[i].type.is_tensor()) {
        return {name, result.ops, Outcome::kUnsupportedData,
                "input '" + inputs[i].name + "' is a sequence/optional value"};
      }
      auto tensor = LoadTensorProto(path);
      if (!tensor.ok()) {
        bool unsupported = tensor.status().code() == StatusCode::kUnimplemented;
        return {name, result.ops, unsupported ? Outcome::kUnsupportedData : Outcome::kFail,
                tensor.status().ToString()};
      }
      feeds.push_back({inputs[i].name, RelabelBFloat16(*tensor, inputs[i].type.elem_type)});
    }
    for (const ValueInfo& output : model->graph.outputs) {
      if (!output.type.is_tensor()) {
        return {name, result.ops, Outcome::kUnsupportedData,
                "output '" + output.name + "' is a sequence/optional value"};
      }
    }
    auto outputs = (*executor)->Run(feeds);
    if (!outputs.ok()) return {name, result.ops, Outcome::kFail, outputs.status().ToString()};
    for (size_t i = 0; i < outputs->size(); ++i) {
      std::string path = JoinPath(data_dir, "output_" + std::to_string(i) + ".pb");
      auto expected = LoadTensorProto(path);
      if (!expected.ok()) {
        return {name, result.ops, Outcome::kUnsupportedData, expected.status().ToString()};
      }
      std::string diff = CompareTensors(
          (*outputs)[i], RelabelBFloat16(*expected, model->graph.outputs[i].type.elem_type));
      if (!diff.empty()) {
        return {name, result.ops, Outcome::kFail,
                data_set + " output '" + model->graph.outputs[i].name + "': " + diff};
      }
    }
  }
  return result;
}

// Lines "test_name  reason"; '#' starts a comment.
std::map<std::string, std::string> LoadExpectations(const std::string& path) {
  std::map<std::string, std::string> expected;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.find_first_of(" \t");
    std::string name = line.substr(0, space);
    std::string reason = space == std::string::npos ? "" : line.substr(line.find_first_not_of(" \t", space));
    expected[name] = reason;
  }
  return expected;
}

int Main(int argc, char** argv) {
  std::string data = "/usr/share/libonnx-testdata/data/node";
  std::string expectations_path;
  std::vector<std::string> op_filters;
  std::string text_filter;
  std::string report_path;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (arg == "--data") data = next();
    else if (arg == "--expectations") expectations_path = next();
    else if (arg == "--op") op_filters.push_back(next());
    else if (arg == "--filter") text_filter = next();
    else if (arg == "--verbose") verbose = true;
    else if (arg == "--report") report_path = next();
    else {
      std::fprintf(stderr, "unknown flag %s\n", arg.c_str());
      return 1;
    }
  }
  std::vector<std::string> tests;
  DIR* handle = opendir(data.c_str());
  if (!handle) {
    std::fprintf(stderr, "cannot open %s (install libonnx-testdata)\n", data.c_str());
    return 1;
  }
  while (dirent* entry = readdir(handle)) {
    std::string name = entry->d_name;
    if (name.rfind("test_", 0) == 0 && name.find(text_filter) != std::string::npos) {
      tests.push_back(name);
    }
  }
  closedir(handle);
  std::sort(tests.begin(), tests.end());
  auto expectations = expectations_path.empty() ? std::map<std::string, std::string>{}
                                                : LoadExpectations(expectations_path);

  struct Counts { int total = 0, passed = 0, failed = 0, expected_fail = 0; };
  std::map<std::string, Counts> per_op;
  int passed = 0, failed = 0, unexpected = 0, no_kernel = 0, unsupported = 0, expected_fail = 0;
  std::vector<std::string> failure_lines;
  for (const std::string& name : tests) {
    TestResult result = RunOne(JoinPath(data, name), name);
    if (!op_filters.empty()) {
      bool match = false;
      for (const auto& op : op_filters) {
        std::string ops = "+" + result.ops + "+";
        if (ops.find("+" + op + "+") != std::string::npos) match = true;
      }
      if (!match) continue;
    }
    if (result.outcome == Outcome::kNoKernel) { ++no_kernel; continue; }
    if (result.outcome == Outcome::kUnsupportedData) { ++unsupported; continue; }
    Counts& counts = per_op[result.ops];
    ++counts.total;
    bool listed = expectations.count(name) > 0;
    if (result.outcome == Outcome::kPass) {
      ++passed;
      ++counts.passed;
      if (listed) std::printf("NOTE %s passes but is listed as an expected failure\n", name.c_str());
      if (verbose) std::printf("PASS %s\n", name.c_str());
    } else if (listed) {
      ++expected_fail;
      ++counts.expected_fail;
      failure_lines.push_back("XFAIL " + name + " [" + result.ops + "]: " + expectations[name]);
    } else {
      ++failed;
      ++unexpected;
      ++counts.failed;
      failure_lines.push_back("FAIL " + name + " [" + result.ops + "]: " + result.detail);
    }
  }
  std::string report;
  char line[256];
  std::snprintf(line, sizeof(line), "%-48s %6s %6s %6s %6s\n", "op(s)", "tests", "pass", "fail",
                "xfail");
  report += line;
  for (const auto& [ops, counts] : per_op) {
    std::snprintf(line, sizeof(line), "%-48s %6d %6d %6d %6d\n", ops.substr(0, 48).c_str(),
                  counts.total, counts.passed, counts.failed, counts.expected_fail);
    report += line;
  }
  for (const auto& failure : failure_lines) report += failure + "\n";
  std::snprintf(line, sizeof(line),
                "node tests: %zu found, %d without kernels, %d with sequence/optional data\n",
                tests.size(), no_kernel, unsupported);
  report += line;
  std::snprintf(line, sizeof(line),
                "node tests with kernels: %d passed, %d failed, %d expected failures\n", passed,
                failed, expected_fail);
  report += line;
  std::fputs(report.c_str(), stdout);
  if (!report_path.empty()) {
    Status written = WriteFile(report_path, report);
    if (!written.ok()) std::fprintf(stderr, "%s\n", written.ToString().c_str());
  }
  return unexpected == 0 ? 0 : 1;
}

}  // namespace
}  // namespace shrink::engine

int main(int argc, char** argv) { return shrink::engine::Main(argc, argv); }
