// The behaviour table of the storage interfaces, run against MemoryStore and SqliteStore.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "common/sha256.h"
#include "storage/store_test_util.h"

namespace shrink::storage {
namespace {

using testing::MemoryFactory;
using testing::SqliteFactory;
using testing::TempDir;

constexpr int64_t kLeaseMs = 30'000;

template <typename Factory>
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = Factory::Make(&clock_, dir_);
    ASSERT_NE(store_, nullptr);
  }

  JobSpec Spec(const std::string& tenant = "acme", int priority = 0) {
    JobSpec spec;
    spec.tenant = tenant;
    spec.model_hash = "m1";
    spec.dataset_hashes = {"calib", "eval"};
    spec.recipe = std::string("{\"preset\":\"int8\"}\0bytes", 24);
    spec.engine_version = "0.1.0";
    spec.priority = priority;
    return spec;
  }
  Job SubmitOk(const JobSpec& spec) {
    auto result = store_->Submit(spec);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? result->job : Job();
  }
  Job LeaseOk(const std::string& worker, int64_t lease_ms = kLeaseMs) {
    auto leased = store_->Lease(worker, lease_ms);
    EXPECT_TRUE(leased.ok()) << leased.status().ToString();
    EXPECT_TRUE(leased.ok() && leased->has_value()) << "queue unexpectedly empty";
    return leased.ok() && leased->has_value() ? **leased : Job();
  }
  Job GetOk(const std::string& tenant, const std::string& id) {
    auto job = store_->GetJob(tenant, id);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.ok() ? *job : Job();
  }
  bool QueueEmpty() {
    auto leased = store_->Lease("probe", kLeaseMs);
    return leased.ok() && !leased->has_value();
  }

  FakeClock clock_;
  TempDir dir_;
  std::unique_ptr<typename Factory::Store> store_;
};

using Factories = ::testing::Types<MemoryFactory, SqliteFactory>;
TYPED_TEST_SUITE(StoreTest, Factories);

TYPED_TEST(StoreTest, Lifecycle) {
  Job submitted = this->SubmitOk(this->Spec());
  EXPECT_EQ(submitted.state, JobState::kQueued);
  EXPECT_EQ(submitted.created_ms, this->clock_.NowMillis());
  EXPECT_EQ(submitted.spec.recipe, this->Spec().recipe);  // bytes, embedded NUL kept
  EXPECT_EQ(submitted.spec.dataset_hashes, this->Spec().dataset_hashes);

  this->clock_.Advance(10);
  Job leased = this->LeaseOk("w1");
  EXPECT_EQ(leased.id, submitted.id);
  EXPECT_EQ(leased.state, JobState::kRunning);
  EXPECT_EQ(leased.attempts, 1);
  EXPECT_EQ(leased.lease_fence, 1);
  EXPECT_EQ(leased.worker_id, "w1");
  EXPECT_EQ(leased.started_ms, this->clock_.NowMillis());
  EXPECT_EQ(leased.lease_expiry_ms, this->clock_.NowMillis() + kLeaseMs);
  auto held = this->store_->GetLeasedJob(leased.id, leased.lease_fence);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->spec.tenant, "acme");
  EXPECT_EQ(this->store_->GetLeasedJob(leased.id, leased.lease_fence + 1).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->store_->GetLeasedJob("j-missing", 1).status().code(), StatusCode::kNotFound);

  for (double fraction : {0.25, 0.75}) {
    auto beat = this->store_->Heartbeat(leased.id, leased.lease_fence,
                                        Progress{"calibrate", fraction, "batch"}, kLeaseMs);
    ASSERT_TRUE(beat.ok()) << beat.status().ToString();
    EXPECT_FALSE(beat->cancel_requested);
  }
  EXPECT_EQ(this->GetOk("acme", leased.id).progress.fraction, 0.75);
  auto events = this->store_->ReadEvents("acme", leased.id, 0, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].seq, 1);
  EXPECT_EQ((*events)[1].progress.stage, "calibrate");
  auto since = this->store_->ReadEvents("acme", leased.id, 1, 100);
  ASSERT_TRUE(since.ok());
  ASSERT_EQ(since->size(), 1u);
  EXPECT_EQ((*since)[0].seq, 2);

  this->clock_.Advance(5);
  ASSERT_TRUE(this->store_->Complete(leased.id, leased.lease_fence, "art", "rep").ok());
  {
    // A best-effort result: FAILED with the reason, artifacts kept, never cached.
    Job other = this->SubmitOk(this->Spec("best-effort"));
    Job held = this->LeaseOk("w2");
    ASSERT_EQ(held.id, other.id);
    ASSERT_TRUE(this->store_->FailWithArtifacts(held.id, held.lease_fence, "a2", "r2",
                                                "BUDGET_NOT_MET: drop 2.1 > 0.5")
                    .ok());
    Job missed = this->GetOk("best-effort", held.id);
    EXPECT_EQ(missed.state, JobState::kFailed);
    EXPECT_EQ(missed.artifact_hash, "a2");
    EXPECT_EQ(missed.error, "BUDGET_NOT_MET: drop 2.1 > 0.5");
    auto cached = this->store_->FindCached(CacheKeyOf(this->Spec("best-effort")));
    ASSERT_TRUE(cached.ok());
    EXPECT_FALSE(cached->has_value());
  }
  Job done = this->GetOk("acme", leased.id);
  EXPECT_EQ(done.state, JobState::kSucceeded);
  EXPECT_EQ(done.artifact_hash, "art");
  EXPECT_EQ(done.report_hash, "rep");
  EXPECT_EQ(done.finished_ms, this->clock_.NowMillis());
  EXPECT_EQ(*this->store_->CountJobs(JobState::kSucceeded), 1);
  // A finished job cannot be completed twice.
  EXPECT_EQ(this->store_->Complete(leased.id, leased.lease_fence, "x", "y").code(),
            StatusCode::kFailedPrecondition);
}

TYPED_TEST(StoreTest, RejectsInvalidSpecs) {
  JobSpec no_tenant = this->Spec("");
  EXPECT_EQ(this->store_->Submit(no_tenant).status().code(), StatusCode::kInvalidArgument);
  JobSpec zero_attempts = this->Spec();
  zero_attempts.max_attempts = 0;
  EXPECT_EQ(this->store_->Submit(zero_attempts).status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(StoreTest, IdempotentSubmit) {
  JobSpec spec = this->Spec();
  spec.idempotency_key = "ci-run-42";
  auto first = this->store_->Submit(spec);
  auto again = this->store_->Submit(spec);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_TRUE(first->created);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(first->job.id, again->job.id);

  JobSpec other_tenant = this->Spec("globex");
  other_tenant.idempotency_key = "ci-run-42";
  auto other = this->store_->Submit(other_tenant);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->created);  // keys are unique per tenant only
  EXPECT_NE(other->job.id, first->job.id);
  auto by_key = this->store_->FindByIdempotencyKey("acme", "ci-run-42");
  ASSERT_TRUE(by_key.ok() && by_key->has_value());
  EXPECT_EQ((*by_key)->id, first->job.id);
  EXPECT_FALSE(this->store_->FindByIdempotencyKey("acme", "ci-run-43")->has_value());

  JobSpec no_key = this->Spec();
  EXPECT_NE(this->SubmitOk(no_key).id, this->SubmitOk(no_key).id);
}

TYPED_TEST(StoreTest, LeasesHighestPriorityOldestFirst) {
  std::vector<std::string> ids;
  for (int priority : {0, 5, 5, 1}) {
    ids.push_back(this->SubmitOk(this->Spec("acme", priority)).id);
    this->clock_.Advance(1);
  }
  for (size_t expected : {1u, 2u, 3u, 0u}) {
    EXPECT_EQ(this->LeaseOk("w").id, ids[expected]);
  }
  EXPECT_TRUE(this->QueueEmpty());
}

TYPED_TEST(StoreTest, LeaseExpiryRequeues) {
  Job submitted = this->SubmitOk(this->Spec());
  Job leased = this->LeaseOk("w1", 1000);
  this->clock_.Advance(999);
  EXPECT_EQ(*this->store_->ExpireLeases(), 0);
  // A heartbeat moves the expiry to now + lease.
  auto beat = this->store_->Heartbeat(leased.id, leased.lease_fence, Progress{}, 1000);
  ASSERT_TRUE(beat.ok());
  EXPECT_EQ(beat->lease_expiry_ms, this->clock_.NowMillis() + 1000);
  this->clock_.Advance(1000);
  EXPECT_EQ(*this->store_->ExpireLeases(), 1);
  Job requeued = this->GetOk("acme", submitted.id);
  EXPECT_EQ(requeued.state, JobState::kQueued);
  EXPECT_EQ(requeued.attempts, 1);
  EXPECT_TRUE(requeued.worker_id.empty());
  Job again = this->LeaseOk("w2");
  EXPECT_EQ(again.id, submitted.id);
  EXPECT_EQ(again.attempts, 2);
  EXPECT_EQ(again.lease_fence, 2);
}

TYPED_TEST(StoreTest, StaleFenceIsRefused) {
  Job first = this->SubmitOk(this->Spec());
  Job stale = this->LeaseOk("slow-worker", 1000);
  this->clock_.Advance(1001);
  ASSERT_EQ(*this->store_->ExpireLeases(), 1);
  Job fresh = this->LeaseOk("fast-worker", 1000);
  ASSERT_EQ(fresh.id, first.id);
  ASSERT_NE(fresh.lease_fence, stale.lease_fence);

  EXPECT_EQ(this->store_->Heartbeat(stale.id, stale.lease_fence, Progress{}, 1000).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->store_->Complete(stale.id, stale.lease_fence, "stale-art", "r").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->store_->Fail(stale.id, stale.lease_fence, "late").code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(this->store_->Complete(fresh.id, fresh.lease_fence, "fresh-art", "r").ok());
  EXPECT_EQ(this->GetOk("acme", first.id).artifact_hash, "fresh-art");
  EXPECT_EQ(this->store_->Heartbeat("no-such-job", 1, Progress{}, 1).status().code(),
            StatusCode::kNotFound);
}

TYPED_TEST(StoreTest, CancelQueuedIsImmediate) {
  Job job = this->SubmitOk(this->Spec());
  auto cancelled = this->store_->Cancel("acme", job.id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state, JobState::kCancelled);
  EXPECT_EQ(cancelled->finished_ms, this->clock_.NowMillis());
  EXPECT_TRUE(this->QueueEmpty());
  EXPECT_TRUE(this->store_->Cancel("acme", job.id).ok());  // again: no change, no error
}

TYPED_TEST(StoreTest, CancelRunningReachesWorker) {
  Job job = this->SubmitOk(this->Spec());
  Job leased = this->LeaseOk("w1");
  auto flagged = this->store_->Cancel("acme", job.id);
  ASSERT_TRUE(flagged.ok());
  EXPECT_EQ(flagged->state, JobState::kRunning);
  EXPECT_TRUE(flagged->cancel_requested);
  auto beat = this->store_->Heartbeat(leased.id, leased.lease_fence, Progress{}, kLeaseMs);
  ASSERT_TRUE(beat.ok());
  EXPECT_TRUE(beat->cancel_requested);
  ASSERT_TRUE(this->store_->Fail(leased.id, leased.lease_fence, "cancelled by user").ok());
  EXPECT_EQ(this->GetOk("acme", job.id).state, JobState::kCancelled);
}

TYPED_TEST(StoreTest, CancelOfFinishedJobIsRefused) {
  Job job = this->SubmitOk(this->Spec());
  Job leased = this->LeaseOk("w1");
  ASSERT_TRUE(this->store_->Fail(leased.id, leased.lease_fence, "model has no outputs").ok());
  Job failed = this->GetOk("acme", job.id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_EQ(failed.error, "model has no outputs");
  EXPECT_EQ(this->store_->Cancel("acme", job.id).status().code(), StatusCode::kFailedPrecondition);
}

TYPED_TEST(StoreTest, AttemptsAreCapped) {
  JobSpec spec = this->Spec();
  spec.max_attempts = 2;
  Job job = this->SubmitOk(spec);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    Job leased = this->LeaseOk("w" + std::to_string(attempt), 1000);
    EXPECT_EQ(leased.attempts, attempt);
    this->clock_.Advance(1000);
    ASSERT_EQ(*this->store_->ExpireLeases(), 1);
  }
  Job failed = this->GetOk("acme", job.id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_NE(failed.error.find("lease expired on attempt 2 of 2"), std::string::npos)
      << failed.error;
  EXPECT_NE(failed.error.find("w2"), std::string::npos) << failed.error;
  EXPECT_EQ(failed.finished_ms, this->clock_.NowMillis());
  EXPECT_TRUE(this->QueueEmpty());
}

TYPED_TEST(StoreTest, ExpiredLeaseOfCancelledJobEndsCancelled) {
  Job job = this->SubmitOk(this->Spec());
  this->LeaseOk("w1", 1000);
  ASSERT_TRUE(this->store_->Cancel("acme", job.id).ok());
  this->clock_.Advance(1000);
  ASSERT_EQ(*this->store_->ExpireLeases(), 1);
  EXPECT_EQ(this->GetOk("acme", job.id).state, JobState::kCancelled);
}

TYPED_TEST(StoreTest, ListPagesAndFilters) {
  std::vector<std::string> acme;
  for (int i = 0; i < 7; ++i) {
    acme.push_back(this->SubmitOk(this->Spec("acme")).id);
    if (i < 3) this->SubmitOk(this->Spec("globex"));
  }
  std::vector<std::string> seen;
  std::vector<size_t> page_sizes;
  std::string token;
  do {
    auto page = this->store_->ListJobs(ListRequest{"acme", std::nullopt, 3, token});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    page_sizes.push_back(page->jobs.size());
    for (const Job& job : page->jobs) seen.push_back(job.id);
    token = page->next_page_token;
  } while (!token.empty());
  EXPECT_EQ(seen, acme);
  EXPECT_EQ(page_sizes, (std::vector<size_t>{3, 3, 1}));

  Job leased = this->LeaseOk("w1");
  auto running = this->store_->ListJobs(ListRequest{"acme", JobState::kRunning, 10, ""});
  ASSERT_TRUE(running.ok());
  ASSERT_EQ(running->jobs.size(), 1u);
  EXPECT_EQ(running->jobs[0].id, leased.id);
  EXPECT_TRUE(running->next_page_token.empty());
  EXPECT_EQ(this->store_->ListJobs(ListRequest{"acme", std::nullopt, 3, "x1"}).status().code(),
            StatusCode::kInvalidArgument);
}

TYPED_TEST(StoreTest, ResultCacheFindsEarlierSuccess) {
  JobSpec spec = this->Spec();
  EXPECT_FALSE(this->store_->FindCached(CacheKeyOf(spec))->has_value());
  // A failed run is not a cache entry.
  Job failed = this->SubmitOk(spec);
  Job lease1 = this->LeaseOk("w1");
  ASSERT_TRUE(this->store_->Fail(lease1.id, lease1.lease_fence, "boom").ok());
  EXPECT_FALSE(this->store_->FindCached(CacheKeyOf(spec))->has_value());

  Job ok = this->SubmitOk(spec);
  Job lease2 = this->LeaseOk("w1");
  ASSERT_EQ(lease2.id, ok.id);
  ASSERT_TRUE(this->store_->Complete(lease2.id, lease2.lease_fence, "art", "rep").ok());
  auto hit = this->store_->FindCached(CacheKeyOf(spec));
  ASSERT_TRUE(hit.ok() && hit->has_value());
  EXPECT_EQ((*hit)->id, ok.id);
  EXPECT_EQ((*hit)->artifact_hash, "art");

  // Every part of the key matters, including the dataset order and the tenant.
  std::vector<JobSpec> misses(5, spec);
  misses[0].recipe += " ";
  misses[1].dataset_hashes = {"eval", "calib"};
  misses[2].engine_version = "0.2.0";
  misses[3].model_hash = "m2";
  misses[4].tenant = "globex";
  for (const JobSpec& miss : misses) {
    EXPECT_FALSE(this->store_->FindCached(CacheKeyOf(miss))->has_value());
  }
  (void)failed;
}

TYPED_TEST(StoreTest, TenantsAreIsolated) {
  Job job = this->SubmitOk(this->Spec("acme"));
  Job leased = this->LeaseOk("w1");
  ASSERT_TRUE(this->store_->Heartbeat(leased.id, leased.lease_fence, Progress{"s", 0.1, ""},
                                      kLeaseMs).ok());
  ASSERT_TRUE(this->store_->RecordMetric(job.id, "size_bytes", 1234).ok());
  EXPECT_EQ(this->store_->GetJob("globex", job.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->Cancel("globex", job.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->ReadEvents("globex", job.id, 0, 10).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(this->store_->MetricsForJob("globex", job.id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(this->store_->MetricByName("globex", "size_bytes")->empty());
  auto listed = this->store_->ListJobs(ListRequest{"globex", std::nullopt, 10, ""});
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->jobs.empty());
  // The message is the same as for an id that never existed.
  EXPECT_EQ(this->store_->GetJob("globex", job.id).status().message(),
            "job " + job.id + " not found");
}

TYPED_TEST(StoreTest, Metrics) {
  Job a = this->SubmitOk(this->Spec());
  Job b = this->SubmitOk(this->Spec());
  ASSERT_TRUE(this->store_->RecordMetric(a.id, "top1", 0.9).ok());
  ASSERT_TRUE(this->store_->RecordMetric(a.id, "top1", 0.91).ok());  // replaces
  ASSERT_TRUE(this->store_->RecordMetric(a.id, "latency_ms", 3.5).ok());
  ASSERT_TRUE(this->store_->RecordMetric(b.id, "top1", 0.8).ok());
  EXPECT_EQ(this->store_->RecordMetric("nope", "top1", 1).code(), StatusCode::kNotFound);
  auto of_a = this->store_->MetricsForJob("acme", a.id);
  ASSERT_TRUE(of_a.ok());
  EXPECT_EQ(*of_a, (std::map<std::string, double>{{"latency_ms", 3.5}, {"top1", 0.91}}));
  auto top1 = this->store_->MetricByName("acme", "top1");
  ASSERT_TRUE(top1.ok());
  ASSERT_EQ(top1->size(), 2u);
  EXPECT_EQ((*top1)[0].job_id, a.id);
  EXPECT_EQ((*top1)[1].value, 0.8);
}

TYPED_TEST(StoreTest, Tokens) {
  ASSERT_TRUE(this->store_->CreateTenant("acme").ok());
  EXPECT_EQ(this->store_->CreateTenant("acme").code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(*this->store_->TenantExists("acme"));
  EXPECT_FALSE(*this->store_->TenantExists("globex"));
  auto user = this->store_->IssueToken("acme", TokenKind::kUser, "ci");
  auto worker = this->store_->IssueToken("acme", TokenKind::kWorker, "w");
  ASSERT_TRUE(user.ok() && worker.ok());
  EXPECT_NE(*user, *worker);
  auto info = this->store_->LookupToken(*user);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->tenant, "acme");
  EXPECT_EQ(info->kind, TokenKind::kUser);
  EXPECT_EQ(info->label, "ci");
  EXPECT_EQ(this->store_->LookupToken(*worker)->kind, TokenKind::kWorker);
  EXPECT_EQ(this->store_->LookupToken("shr_guess").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(this->store_->IssueToken("globex", TokenKind::kUser, "").status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(this->store_->RevokeToken(*user).ok());
  EXPECT_EQ(this->store_->LookupToken(*user).status().code(), StatusCode::kUnauthenticated);
}

TYPED_TEST(StoreTest, BlobsAreDeduplicatedPerContent) {
  const std::string content = "model bytes";
  auto a = WriteWholeBlob(*this->store_, "acme", content);
  auto b = WriteWholeBlob(*this->store_, "globex", content);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->hash, Sha256Hex(content));
  EXPECT_EQ(a->hash, b->hash);
  EXPECT_EQ(*this->store_->TotalBlobBytes(), static_cast<int64_t>(content.size()));
  EXPECT_FALSE(*this->store_->BlobExists("initech", a->hash));
  EXPECT_EQ(this->store_->OpenBlob("initech", a->hash).status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(this->store_->DeleteBlob("acme", a->hash).ok());
  EXPECT_FALSE(*this->store_->BlobExists("acme", a->hash));
  EXPECT_EQ(*ReadWholeBlob(*this->store_, "globex", a->hash), content);  // still owned
  EXPECT_EQ(this->store_->DeleteBlob("acme", a->hash).code(), StatusCode::kNotFound);
  ASSERT_TRUE(this->store_->AddBlobOwner("initech", a->hash).ok());
  ASSERT_TRUE(this->store_->DeleteBlob("globex", a->hash).ok());
  ASSERT_TRUE(this->store_->DeleteBlob("initech", a->hash).ok());
  EXPECT_EQ(*this->store_->TotalBlobBytes(), 0);
  EXPECT_EQ(this->store_->AddBlobOwner("acme", a->hash).code(), StatusCode::kNotFound);

  auto empty = WriteWholeBlob(*this->store_, "acme", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*ReadWholeBlob(*this->store_, "acme", empty->hash), "");
}

TYPED_TEST(StoreTest, BlobsStreamInChunks) {
  // A small chunk size exercises chunk boundaries that uneven writes straddle.
  this->store_.reset();
  this->store_ = TypeParam::Make(&this->clock_, this->dir_, /*chunk_size=*/1000);
  std::string content;
  for (int i = 0; i < 4321; ++i) content.push_back(static_cast<char>((i * 131) % 251));
  auto writer = this->store_->NewBlobWriter("acme");
  ASSERT_TRUE(writer.ok());
  for (size_t at = 0; at < content.size(); at += 777) {
    ASSERT_TRUE((*writer)->Write(std::string_view(content).substr(at, 777)).ok());
  }
  auto info = (*writer)->Finish();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, 4321);
  EXPECT_EQ(*this->store_->BlobSize("acme", info->hash), 4321);
  auto reader = this->store_->OpenBlob("acme", info->hash);
  ASSERT_TRUE(reader.ok());
  std::string chunk, joined;
  std::vector<size_t> sizes;
  while (true) {
    auto more = (*reader)->Next(&chunk);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    sizes.push_back(chunk.size());
    joined += chunk;
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{1000, 1000, 1000, 1000, 321}));
  EXPECT_EQ(joined, content);
}

TYPED_TEST(StoreTest, ConcurrentWorkersLoseNothing) {
  constexpr int kThreads = 4;
  constexpr int kJobsPerThread = 40;
  std::atomic<int> completed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string worker = "w" + std::to_string(t);
      for (int i = 0; i < kJobsPerThread; ++i) {
        JobSpec spec = this->Spec("acme", i % 3);
        spec.idempotency_key = worker + "-" + std::to_string(i);
        EXPECT_TRUE(this->store_->Submit(spec).ok());
        auto leased = this->store_->Lease(worker, kLeaseMs);
        ASSERT_TRUE(leased.ok()) << leased.status().ToString();
        if (!leased->has_value()) continue;
        const Job& job = **leased;
        EXPECT_TRUE(
            this->store_->Heartbeat(job.id, job.lease_fence, Progress{"run", 0.5, ""}, kLeaseMs)
                .ok());
        EXPECT_TRUE(this->store_->RecordMetric(job.id, "n", i).ok());
        Status done = this->store_->Complete(job.id, job.lease_fence, "a", "r");
        EXPECT_TRUE(done.ok()) << done.ToString();
        if (done.ok()) ++completed;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  // Each Lease follows a Submit, so every job got leased exactly once.
  EXPECT_EQ(completed.load(), kThreads * kJobsPerThread);
  EXPECT_EQ(*this->store_->CountJobs(JobState::kSucceeded), kThreads * kJobsPerThread);
  EXPECT_EQ(*this->store_->CountJobs(JobState::kQueued), 0);
  EXPECT_EQ(*this->store_->CountJobs(JobState::kRunning), 0);
}

TEST(MemoryStoreTest, CorruptedBlobIsDataLoss) {
  MemoryStore store;
  auto info = WriteWholeBlob(store, "acme", "some model bytes");
  ASSERT_TRUE(info.ok());
  store.CorruptBlobForTest(info->hash);
  auto read = ReadWholeBlob(store, "acme", info->hash);
  EXPECT_EQ(read.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(read.status().message().find(info->hash), std::string::npos);
}


TYPED_TEST(StoreTest, CatalogNamesUploadsPerTenantAndKind) {
  auto& store = *this->store_;
  auto blob = WriteWholeBlob(store, "acme", "model bytes");
  ASSERT_TRUE(blob.ok());
  CatalogEntry entry{"acme", BlobKind::kModel, blob->hash, "mnist", 1};
  // Only an owner may name a blob: the other tenant cannot, even knowing the hash.
  CatalogEntry foreign = entry;
  foreign.tenant = "globex";
  EXPECT_EQ(store.PutEntry(foreign).status().code(), StatusCode::kNotFound);
  auto put = store.PutEntry(entry);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->size, 11);
  auto bytes = store.TenantBytes("acme");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, 11);
  EXPECT_EQ(*store.TenantBytes("globex"), 0);
  entry.name = "mnist-v2";
  ASSERT_TRUE(store.PutEntry(entry).ok());
  auto got = store.GetEntry("acme", BlobKind::kModel, blob->hash);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "mnist-v2");
  EXPECT_EQ(got->created_ms, put->created_ms);
  EXPECT_EQ(store.GetEntry("acme", BlobKind::kDataset, blob->hash).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store.GetEntry("globex", BlobKind::kModel, blob->hash).status().code(),
            StatusCode::kNotFound);
  auto none = store.ListEntries("globex", BlobKind::kModel, 10, "");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->entries.empty());
  ASSERT_TRUE(store.DeleteEntry("acme", BlobKind::kModel, blob->hash).ok());
  EXPECT_EQ(store.DeleteEntry("acme", BlobKind::kModel, blob->hash).code(),
            StatusCode::kNotFound);
}

TYPED_TEST(StoreTest, CatalogListsInPages) {
  auto& store = *this->store_;
  std::vector<std::string> hashes;
  for (int i = 0; i < 5; ++i) {
    auto blob = WriteWholeBlob(store, "acme", "dataset " + std::to_string(i));
    ASSERT_TRUE(blob.ok());
    ASSERT_TRUE(store.PutEntry({"acme", BlobKind::kDataset, blob->hash, "d" + std::to_string(i)})
                    .ok());
    hashes.push_back(blob->hash);
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = store.ListEntries("acme", BlobKind::kDataset, 2, token);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& entry : page->entries) seen.push_back(entry.hash);
    token = page->next_page_token;
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(seen, hashes);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(store.ListEntries("acme", BlobKind::kDataset, 2, "x").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shrink::storage
