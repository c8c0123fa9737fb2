#include "server/job_convert.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace shrink::server {

std::string CanonicalRecipe(const v1::Recipe& recipe) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    recipe.SerializeToCodedStream(&coded);
  }
  return bytes;
}

std::string DatasetHash(const storage::Job& job, const std::string& tag) {
  for (const std::string& tagged : job.spec.dataset_hashes) {
    if (tagged.compare(0, tag.size(), tag) == 0) return tagged.substr(tag.size());
  }
  return "";
}

v1::JobState ToProtoState(storage::JobState state) {
  switch (state) {
    case storage::JobState::kQueued: return v1::QUEUED;
    case storage::JobState::kRunning: return v1::RUNNING;
    case storage::JobState::kSucceeded: return v1::SUCCEEDED;
    case storage::JobState::kFailed: return v1::FAILED;
    case storage::JobState::kCancelled: return v1::CANCELLED;
  }
  return v1::JOB_STATE_UNSPECIFIED;
}

void ToProtoJob(const storage::Job& job, v1::Job* out) {
  out->set_id(job.id);
  out->set_state(ToProtoState(job.state));
  out->set_model_id(job.spec.model_hash);
  out->mutable_recipe()->ParseFromString(job.spec.recipe);
  out->set_calibration_dataset_id(DatasetHash(job, kCalibrationTag));
  out->set_evaluation_dataset_id(DatasetHash(job, kEvaluationTag));
  out->set_priority(job.spec.priority);
  out->set_attempts(job.attempts);
  out->set_error(job.error);
  out->set_artifact_id(job.artifact_hash);
  out->set_report_id(job.report_hash);
  auto* progress = out->mutable_last_progress();
  progress->set_job_id(job.id);
  progress->set_state(out->state());
  progress->set_stage(job.progress.stage);
  progress->set_fraction(job.progress.fraction);
  progress->set_message(job.progress.message);
  out->set_created_unix_ms(job.created_ms);
  out->set_started_unix_ms(job.started_ms);
  out->set_finished_unix_ms(job.finished_ms);
  out->set_worker_id(job.worker_id);
}

}  // namespace shrink::server
