// `shrink-bench service [--quick]`: a real shrinkd on loopback, measured from outside (cache-hit
// submits per second and latency, upload and download MB/s, server RSS while it streams a big
// artifact). See service_bench.cc for the method and the goals.
#pragma once

namespace shrink::testing {

// argv[1] is "service". Exit code 0, 1 when a verification failed (goals missed are reported,
// not failed), 2 for a usage error.
int ServiceMain(int argc, char** argv);

}  // namespace shrink::testing
