// `shrink-bench compress`: pruning (with repair) and clustering of the largest dev-set model
// against the time its int8 calibration takes (issue [5/5]: within 2x).
#pragma once

namespace shrink::testing {

int CompressBenchMain(int argc, char** argv);

}  // namespace shrink::testing
