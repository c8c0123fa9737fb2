// One leased job from start to end (internal to the worker): the job thread fetches inputs,
// runs the engine and uploads the results, while the calling thread heartbeats with the latest
// progress and turns a cancel reply into the engine's cancel flag. Ends with exactly one of
// Complete, Fail, or nothing at all when the lease turned out to be stale.
#pragma once

#include "shrink/v1/service.pb.h"
#include "worker/blob_cache.h"
#include "worker/worker.h"
#include "worker/worker_client.h"

namespace shrink::worker {

struct JobContext {
  WorkerClient* client = nullptr;
  BlobCache* cache = nullptr;
  const WorkerOptions* options = nullptr;
};

enum class JobEnd { kCompleted, kFailed, kAbandoned };

// Blocks until the job has ended (or been abandoned).
JobEnd RunLeasedJob(const v1::LeaseResponse& lease, const JobContext& context);

}  // namespace shrink::worker
