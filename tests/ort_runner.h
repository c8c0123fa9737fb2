// Tests and tools use the judge under its test-side name.
#pragma once

#include "engine/ort/ort_runner.h"

namespace shrink::testing {
using ort::OrtRunner;
using ort::OrtRunnerOptions;
}  // namespace shrink::testing
