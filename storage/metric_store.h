// MetricStore: numbers measured for a job (accuracy, sizes, latencies, durations), kept for later
// queries. Recording the same (job, name) again replaces the value. Metrics of another tenant's
// job are invisible (NotFound / absent). Thread-safe.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace shrink::storage {

struct MetricSample {
  std::string job_id;
  double value = 0;
};

class MetricStore {
 public:
  virtual ~MetricStore() = default;
  // NotFound when the job does not exist.
  virtual Status RecordMetric(const std::string& job_id, const std::string& name,
                              double value) = 0;
  virtual StatusOr<std::map<std::string, double>> MetricsForJob(const std::string& tenant,
                                                                const std::string& job_id) = 0;
  // Every job of the tenant that has the metric, oldest job first.
  virtual StatusOr<std::vector<MetricSample>> MetricByName(const std::string& tenant,
                                                           const std::string& name) = 0;
};

}  // namespace shrink::storage
