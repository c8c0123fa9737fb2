// `shrink-bench quant` sections (see quant_bench.cc for what each measures).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace shrink::testing {

struct QuantBenchOptions {
  std::vector<std::string> sections;
  int threads = 2;
  int runs = 50;
  std::string dev_data;              // scripts/make-dev-data.sh output
  std::string work;                  // scratch directory
  std::string shrink_binary;         // `shrink`, next to shrink-bench
  std::vector<std::string> recipes;  // --recipe: dev-set variants instead of the presets
};

// MNIST images [0, count) of "train" or "t10k" with labels as a DATA .npz in the work dir,
// shaped [count, per_image...]; made once.
StatusOr<std::string> MnistData(const QuantBenchOptions& options, const std::string& set,
                                int64_t count, const std::vector<int64_t>& per_image,
                                const std::string& name);

Status MnistSection(const QuantBenchOptions& options);
Status DevSection(const QuantBenchOptions& options);
Status SpeedSection(const QuantBenchOptions& options);
Status MemorySection(const QuantBenchOptions& options);

int QuantMain(int argc, char** argv);

}  // namespace shrink::testing
