// Conversions between the store's jobs and the API's, and the canonical recipe bytes that key
// the result cache.
#pragma once

#include <string>

#include "shrink/v1/service.pb.h"
#include "storage/job_store.h"

namespace shrink::server {

// Deterministic serialization: equal recipes give equal bytes.
std::string CanonicalRecipe(const v1::Recipe& recipe);

// The store keeps datasets as role-tagged hashes so the cache key tells calibration from
// evaluation data.
inline constexpr char kCalibrationTag[] = "calibration:";
inline constexpr char kEvaluationTag[] = "evaluation:";
std::string DatasetHash(const storage::Job& job, const std::string& tag);

v1::JobState ToProtoState(storage::JobState state);
void ToProtoJob(const storage::Job& job, v1::Job* out);

}  // namespace shrink::server
