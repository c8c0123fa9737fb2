// shrink-bench service: the job service measured from outside, against a real shrinkd process
// on loopback (fresh database in a temp dir, no local workers; the bench plays the worker over
// raw WorkerService stubs with a worker token it issues through AdminService).
//
//   shrink-bench service [--quick] [--shrinkd PATH] [--json FILE]
//
// 1. Cache-hit submits: one job is run to SUCCEEDED, then N identical submits from 4 threads,
//    each with its own channel (own connection); every reply must be a cache hit on that job.
// 2. Upload: a dataset of random bytes behind an npy magic, uploaded with ServiceClient (which
//    hashes the file first, then streams 1 MiB chunks); MB/s = bytes / wall time.
// 3. Download and server memory: a job over that dataset gets a big generated artifact
//    (streamed, never whole in memory here either), which is then downloaded with ServiceClient;
//    shrinkd's VmRSS is sampled every 10 ms during both transfers; the peak growth over the idle
//    baseline must stay under 25% of the artifact size.
// Sizes in MB are 10^6 bytes. Any verification failure makes the exit code 1; a missed goal is
// only reported. Timing splits (client hashing, raw streams) show where the time goes.
#include "tests/bench/service_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/byte_source.h"
#include "client/service_client.h"
#include "common/file_util.h"
#include "common/grpc_util.h"
#include "common/json.h"
#include "common/sha256.h"
#include "storage/sqlite_store.h"
#include "tests/bench/service_bench_util.h"

namespace shrink::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr double kMB = 1e6;
constexpr double kMiB = 1 << 20;
constexpr double kGoalMBps = 200;
constexpr double kGoalSubmitsPerSecond = 200;
constexpr double kGoalRssFraction = 0.25;

const char kServiceUsage[] =
    "usage: shrink-bench service [--quick] [--shrinkd PATH] [--json FILE]\n"
    "  Starts a real shrinkd on 127.0.0.1 (temp database, no workers) and measures cache-hit\n"
    "  submits/s with p50/p99 latency (2000 submits, 4 threads), upload MB/s (256 MiB dataset),\n"
    "  download MB/s and shrinkd's peak RSS growth while streaming a 500 MiB artifact.\n"
    "  --quick: 200 submits, 32 MiB dataset, 64 MiB artifact. shrinkd: --shrinkd, else next to\n"
    "  shrink-bench, else the build tree's. Exit 1 when a verification fails (not for goals).\n";

struct ServiceOptions {
  bool quick = false;
  int submits = 2000;
  int threads = 4;
  int64_t dataset_bytes = int64_t{256} << 20;
  int64_t artifact_bytes = int64_t{500} << 20;
  std::string shrinkd;
  std::string json_path;
};

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// The bench's view of the running server: a user and a worker of tenant "bench".
struct Session {
  const ShrinkdProcess* shrinkd = nullptr;
  std::string dir;
  std::string user_token, worker_token;
  std::unique_ptr<client::ServiceClient> user;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::WorkerService::Stub> worker;
  std::unique_ptr<v1::JobService::Stub> jobs;  // raw, for the download split
  ByteStream bytes{FreshSeed()};
};

Status SetUpTenant(Session* s) {
  rpc::ChannelOptions address;
  address.address = s->shrinkd->address();
  ASSIGN_OR_RETURN(auto admin, client::ServiceClient::Create(address, s->shrinkd->admin_token()));
  RETURN_IF_ERROR(admin->CreateTenant("bench"));
  ASSIGN_OR_RETURN(s->user_token, admin->IssueToken("bench", v1::USER, "shrink-bench"));
  ASSIGN_OR_RETURN(s->worker_token, admin->IssueToken("bench", v1::WORKER, "shrink-bench"));
  ASSIGN_OR_RETURN(s->user, client::ServiceClient::Create(address, s->user_token));
  ASSIGN_OR_RETURN(s->channel, rpc::MakeChannel(address));
  s->worker = v1::WorkerService::NewStub(s->channel);
  s->jobs = v1::JobService::NewStub(s->channel);
  return OkStatus();
}

// The model of every job: the shared MNIST MLP, or a framing-valid tiny ModelProto without it.
StatusOr<std::string> UploadBenchModel(Session* s) {
  std::string path;
#ifdef SHRINK_SHARED_MODELS_DIR
  path = std::string(SHRINK_SHARED_MODELS_DIR) + "/mnist_mlp.onnx";
#endif
  if (path.empty() || !FileExists(path)) {
    path = JoinPath(s->dir, "tiny.onnx");
    // ir_version 8, producer_name "shrink-bench", an empty graph.
    std::string bytes = {0x08, 0x08, 0x12, 12};
    bytes += "shrink-bench";
    bytes += {0x3a, 0x00};
    RETURN_IF_ERROR(WriteFile(path, bytes));
  }
  ASSIGN_OR_RETURN(client::UploadResult uploaded, s->user->UploadModel(path));
  return uploaded.id;
}

StatusOr<v1::LeaseResponse> Lease(Session* s, const std::string& expected_job) {
  grpc::ClientContext context;
  rpc::PrepareCall(&context, s->worker_token, std::chrono::seconds(30));
  v1::LeaseRequest request;
  request.set_worker_id("shrink-bench");
  request.set_lease_ms(60'000);
  v1::LeaseResponse lease;
  RETURN_IF_ERROR(rpc::FromGrpc(s->worker->Lease(&context, request, &lease)));
  if (!lease.has_job()) return Internal("Lease returned no job; expected " + expected_job);
  if (lease.job().id() != expected_job) {
    return Internal("Lease returned job " + lease.job().id() + "; expected " + expected_job);
  }
  return lease;
}

// Fills `out` with the artifact's next `size` bytes starting at `offset`.
using Filler = std::function<void(int64_t offset, size_t size, std::string* out)>;

// Streams `size` bytes from `fill` as the leased job's artifact or report in 1 MiB chunks and
// checks that the server's id is the sha256 the bench computed. Returns that id.
StatusOr<std::string> UploadArtifact(Session* s, const v1::LeaseResponse& lease,
                                     v1::DownloadRequest::What what, int64_t size,
                                     const Filler& fill) {
  grpc::ClientContext context;
  rpc::PrepareCall(&context, s->worker_token);
  v1::ArtifactInfo info;
  auto writer = s->worker->UploadArtifact(&context, &info);
  v1::ArtifactChunk chunk;
  chunk.mutable_header()->set_job_id(lease.job().id());
  chunk.mutable_header()->set_fence(lease.fence());
  chunk.mutable_header()->set_what(what);
  chunk.mutable_header()->set_size_bytes(size);
  bool open = writer->Write(chunk);
  Sha256 hasher;
  for (int64_t sent = 0; open && sent < size;) {
    size_t piece = static_cast<size_t>(std::min<int64_t>(rpc::kChunkBytes, size - sent));
    fill(sent, piece, chunk.mutable_data());
    hasher.Update(chunk.data());
    open = writer->Write(chunk);
    sent += static_cast<int64_t>(piece);
  }
  if (open) writer->WritesDone();
  RETURN_IF_ERROR(rpc::FromGrpc(writer->Finish()).WithContext("UploadArtifact"));
  const std::string sha256 = hasher.HexDigest();
  if (info.id() != sha256) {
    return DataLoss("the server stored artifact " + info.id() + " for bytes hashing to " + sha256);
  }
  return sha256;
}

Filler GeneratedBytes(Session* s) {
  return [s](int64_t, size_t size, std::string* out) { s->bytes.Next(size, out); };
}

// Uploads a small JSON report and completes the leased job with `artifact_id`.
Status CompleteLeased(Session* s, const v1::LeaseResponse& lease, const std::string& artifact_id) {
  const std::string report = "{\"schema\": 1, \"producer\": \"shrink-bench service\"}";
  ASSIGN_OR_RETURN(std::string report_id,
                   UploadArtifact(s, lease, v1::DownloadRequest::REPORT, int64_t(report.size()),
                                  [&](int64_t offset, size_t size, std::string* out) {
                                    out->assign(report, size_t(offset), size);
                                  }));
  grpc::ClientContext context;
  rpc::PrepareCall(&context, s->worker_token, std::chrono::seconds(30));
  v1::CompleteRequest complete;
  complete.set_job_id(lease.job().id());
  complete.set_fence(lease.fence());
  complete.set_artifact_id(artifact_id);
  complete.set_report_id(report_id);
  v1::WorkerAck ack;
  RETURN_IF_ERROR(rpc::FromGrpc(s->worker->Complete(&context, complete, &ack)));
  ASSIGN_OR_RETURN(v1::Job done, s->user->GetJob(lease.job().id()));
  if (done.state() != v1::SUCCEEDED || done.artifact_id() != artifact_id) {
    return Internal("job " + done.id() + " is " + v1::JobState_Name(done.state()) +
                    " with artifact '" + done.artifact_id() + "' after Complete");
  }
  return OkStatus();
}

// ---------------------------------------------------------------- 1. cache-hit submits

struct SubmitStats {
  std::vector<double> latency_ms;
  int mismatches = 0;  // replies that were not a cache hit on the expected job
  int failures = 0;    // calls that failed
  std::string first_problem;
};

void SubmitLoop(client::ServiceClient* client, const v1::SubmitJobRequest& request,
                const v1::Job& expected, int count, SubmitStats* stats) {
  stats->latency_ms.reserve(size_t(count));
  for (int i = 0; i < count; ++i) {
    const auto start = SteadyClock::now();
    StatusOr<v1::Job> reply = client->Submit(request);
    stats->latency_ms.push_back(SecondsSince(start) * 1e3);
    if (!reply.ok()) {
      if (stats->failures++ == 0 && stats->first_problem.empty()) {
        stats->first_problem = reply.status().ToString();
      }
    } else if (!reply->cache_hit() || reply->id() != expected.id() ||
               reply->artifact_id() != expected.artifact_id()) {
      if (stats->mismatches++ == 0 && stats->first_problem.empty()) {
        stats->first_problem = "reply job " + reply->id() + " cache_hit " +
                               (reply->cache_hit() ? "true" : "false");
      }
    }
  }
}

// Each thread gets its own channel on its own connection (no shared subchannel pool).
std::unique_ptr<client::ServiceClient> OwnChannelClient(const std::string& address,
                                                        const std::string& token) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  return std::make_unique<client::ServiceClient>(channel, address, token);
}

Status CacheHitSection(Session* s, const ServiceOptions& options, const std::string& model_id,
                       Results* results) {
  v1::SubmitJobRequest request;
  request.set_model_id(model_id);
  request.mutable_recipe()->set_preset("float16");
  ASSIGN_OR_RETURN(v1::Job first, s->user->Submit(request));
  if (first.cache_hit()) results->Error("the first submit on a fresh server was a cache hit");
  ASSIGN_OR_RETURN(v1::LeaseResponse lease, Lease(s, first.id()));
  ASSIGN_OR_RETURN(std::string artifact, UploadArtifact(s, lease, v1::DownloadRequest::ARTIFACT,
                                                      4096, GeneratedBytes(s)));
  RETURN_IF_ERROR(CompleteLeased(s, lease, artifact));
  ASSIGN_OR_RETURN(v1::Job expected, s->user->GetJob(first.id()));

  // Connect and warm every client before the clock starts (each warm-up reply is checked too).
  const int threads = options.threads;
  std::vector<std::unique_ptr<client::ServiceClient>> clients;
  std::vector<SubmitStats> stats(size_t(threads) + 1);
  for (int t = 0; t < threads; ++t) {
    clients.push_back(OwnChannelClient(s->shrinkd->address(), s->user_token));
    SubmitLoop(clients.back().get(), request, expected, 1, &stats[size_t(threads)]);
  }
  const auto start = SteadyClock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    int count = options.submits / threads + (t < options.submits % threads ? 1 : 0);
    workers.emplace_back(SubmitLoop, clients[size_t(t)].get(), std::cref(request),
                         std::cref(expected), count, &stats[size_t(t)]);
  }
  for (std::thread& worker : workers) worker.join();
  const double seconds = SecondsSince(start);

  std::vector<double> latency;
  int mismatches = 0, failures = 0;
  std::string problem;
  for (size_t t = 0; t < stats.size(); ++t) {
    if (t < size_t(threads)) {
      latency.insert(latency.end(), stats[t].latency_ms.begin(), stats[t].latency_ms.end());
    }
    mismatches += stats[t].mismatches;
    failures += stats[t].failures;
    if (problem.empty()) problem = stats[t].first_problem;
  }
  if (mismatches + failures > 0) {
    results->Error(std::to_string(mismatches) + " submits were not a cache hit on job " +
                   expected.id() + " and " + std::to_string(failures) + " failed (first: " +
                   problem + ")");
  }
  const double rate = double(latency.size()) / seconds;
  char note[96];
  std::snprintf(note, sizeof(note), "%zu submits, %d threads, %.2f s", latency.size(), threads,
                seconds);
  results->Goal("cache_hit_submits_per_s", "cache-hit submits", rate, "1/s",
                ">= " + JsonNumber(kGoalSubmitsPerSecond), rate >= kGoalSubmitsPerSecond, note);
  results->Info("submit_latency_p50_ms", "  submit latency p50", Percentile(latency, 0.5), "ms");
  results->Info("submit_latency_p99_ms", "  submit latency p99", Percentile(latency, 0.99), "ms");
  results->Info("submit_errors", "  submit mismatches + failures", mismatches + failures, "");
  return OkStatus();
}

// ---------------------------------------------------------------- 2. upload

// An npy magic, then random bytes (distinct per run, so the server cannot dedup them).
Status WriteDataset(Session* s, const std::string& path, int64_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::string piece = "\x93NUMPY";
  out.write(piece.data(), std::streamsize(piece.size()));
  for (int64_t written = int64_t(piece.size()); written < size;) {
    size_t n = size_t(std::min<int64_t>(rpc::kChunkBytes, size - written));
    s->bytes.Next(n, &piece);
    out.write(piece.data(), std::streamsize(n));
    written += int64_t(n);
  }
  out.close();
  if (!out) return Internal("cannot write " + path);
  return OkStatus();
}

StatusOr<std::string> UploadSection(Session* s, const ServiceOptions& options, Results* results) {
  const std::string path = JoinPath(s->dir, "bench.npy");
  const int64_t size = options.dataset_bytes;
  RETURN_IF_ERROR(WriteDataset(s, path, size));
  // Split: the client hashes the whole file before it sends anything (content addressing).
  // Timed alone here; this also leaves the file in the page cache for the timed upload.
  auto hash_start = SteadyClock::now();
  ASSIGN_OR_RETURN(client::ByteSource source, client::ByteSource::File(path));
  ASSIGN_OR_RETURN(std::string sha256, source.Sha256Hex());
  const double hash_seconds = SecondsSince(hash_start);

  auto start = SteadyClock::now();
  ASSIGN_OR_RETURN(client::UploadResult uploaded, s->user->UploadDataset(path));
  const double seconds = SecondsSince(start);
  (void)RemoveAll(path);  // the server holds it now
  if (!uploaded.uploaded) results->Error("the dataset was not sent (the server already had it)");
  if (uploaded.id != sha256 || uploaded.size_bytes != size) {
    results->Error("dataset id " + uploaded.id + " (" + std::to_string(uploaded.size_bytes) +
                   " bytes) differs from the file's " + sha256);
  }
  const double mbps = double(size) / kMB / seconds;
  char note[96];
  std::snprintf(note, sizeof(note), "%.0f MiB in %.2f s (ServiceClient::UploadDataset)",
                double(size) / kMiB, seconds);
  results->Goal("upload_mb_per_s", "upload (dataset)", mbps, "MB/s", ">= " + JsonNumber(kGoalMBps),
                mbps >= kGoalMBps, note);
  results->Info("upload_client_hash_mb_per_s", "  split: client sha256 pass",
                double(size) / kMB / hash_seconds, "MB/s");
  results->Info("upload_stream_mb_per_s", "  split: Has + stream (wall - hash)",
                double(size) / kMB / std::max(seconds - hash_seconds, 1e-9), "MB/s");
  return sha256;
}

// Split: shrinkd's storage path alone (a SqliteStore in this process with the server's default
// chunking; its writer and reader hash as shrinkd's do), without gRPC.
Status StorageSplit(Session* s, int64_t size, Results* results) {
  const std::string path = JoinPath(s->dir, "split.db");
  ASSIGN_OR_RETURN(auto store, storage::SqliteStore::Open(path));
  RETURN_IF_ERROR(store->CreateTenant("bench"));
  ASSIGN_OR_RETURN(auto writer, store->NewBlobWriter("bench"));
  std::string piece;
  auto start = SteadyClock::now();
  for (int64_t written = 0; written < size;) {
    size_t n = size_t(std::min<int64_t>(rpc::kChunkBytes, size - written));
    s->bytes.Next(n, &piece);  // ~2 GB/s: small next to the store
    RETURN_IF_ERROR(writer->Write(piece));
    written += int64_t(n);
  }
  ASSIGN_OR_RETURN(storage::BlobInfo info, writer->Finish());
  const double write_seconds = SecondsSince(start);
  start = SteadyClock::now();
  ASSIGN_OR_RETURN(auto reader, store->OpenBlob("bench", info.hash));
  int64_t read = 0;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&piece));
    if (!more) break;
    read += int64_t(piece.size());
  }
  const double read_seconds = SecondsSince(start);
  reader.reset();
  store.reset();
  (void)RemoveAll(path);
  (void)RemoveAll(path + "-wal");
  (void)RemoveAll(path + "-shm");
  (void)RemoveAll(path + ".lock");
  if (read != size) results->Error("storage split read back " + std::to_string(read) + " bytes");
  results->Info("storage_write_mb_per_s", "  split: SqliteStore write (+ sha256)",
                double(size) / kMB / write_seconds, "MB/s", "in-process, no gRPC");
  results->Info("storage_read_mb_per_s", "  split: SqliteStore read (+ sha256)",
                double(size) / kMB / read_seconds, "MB/s", "in-process, no gRPC");
  return OkStatus();
}

// ---------------------------------------------------------------- 3. download and memory

// The median of a few idle samples of shrinkd's RSS.
StatusOr<int64_t> IdleRss(pid_t pid) {
  std::vector<double> samples;
  for (int i = 0; i < 10; ++i) {
    ASSIGN_OR_RETURN(int64_t rss, ReadRssBytes(pid));
    samples.push_back(double(rss));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return int64_t(Percentile(samples, 0.5));
}

// Reads the artifact over a raw stub and drops it: server + gRPC cost without the client's
// file writes and hashing. Returns the seconds taken.
StatusOr<double> RawDownloadSeconds(Session* s, const std::string& job_id, int64_t expected) {
  grpc::ClientContext context;
  rpc::PrepareCall(&context, s->user_token);
  v1::DownloadRequest request;
  request.set_job_id(job_id);
  request.set_what(v1::DownloadRequest::ARTIFACT);
  const auto start = SteadyClock::now();
  auto reader = s->jobs->Download(&context, request);
  v1::DownloadChunk chunk;
  int64_t received = 0;
  while (reader->Read(&chunk)) received += int64_t(chunk.data().size());
  RETURN_IF_ERROR(rpc::FromGrpc(reader->Finish()).WithContext("raw download"));
  const double seconds = SecondsSince(start);
  if (received != expected) {
    return DataLoss("raw download got " + std::to_string(received) + " bytes of " +
                    std::to_string(expected));
  }
  return seconds;
}

double LocalSha256MBps(Session* s) {
  std::string buffer;
  s->bytes.Next(size_t{64} << 20, &buffer);
  const auto start = SteadyClock::now();
  const std::string digest = Sha256Hex(buffer);
  (void)digest;
  return double(buffer.size()) / kMB / SecondsSince(start);
}

void ReportRss(Results* results, const std::string& phase, int64_t peak, int64_t baseline,
               int64_t artifact_bytes) {
  const double growth = double(std::max<int64_t>(peak - baseline, 0));
  char note[96];
  std::snprintf(note, sizeof(note), "%.1f%% of the artifact; peak RSS %.1f MiB",
                100 * growth / double(artifact_bytes), double(peak) / kMiB);
  results->Info("rss_growth_" + phase + "_mib", "  shrinkd RSS growth during " + phase,
                growth / kMiB, "MiB", note);
}

Status DownloadSection(Session* s, const ServiceOptions& options, const std::string& model_id,
                       const std::string& dataset_id, Results* results) {
  v1::SubmitJobRequest request;
  request.set_model_id(model_id);
  request.set_calibration_dataset_id(dataset_id);
  request.mutable_recipe()->set_preset("int8");
  ASSIGN_OR_RETURN(v1::Job job, s->user->Submit(request));
  if (job.cache_hit()) results->Error("a job over a fresh dataset was a cache hit");
  ASSIGN_OR_RETURN(v1::LeaseResponse lease, Lease(s, job.id()));
  const int64_t size = options.artifact_bytes;
  const pid_t pid = s->shrinkd->pid();
  ASSIGN_OR_RETURN(int64_t baseline, IdleRss(pid));
  RssSampler sampler(pid, std::chrono::milliseconds(10));

  sampler.Start();
  auto upload_start = SteadyClock::now();
  ASSIGN_OR_RETURN(std::string artifact, UploadArtifact(s, lease, v1::DownloadRequest::ARTIFACT,
                                                      size, GeneratedBytes(s)));
  const double upload_seconds = SecondsSince(upload_start);
  const int64_t upload_peak = sampler.Stop();
  RETURN_IF_ERROR(CompleteLeased(s, lease, artifact));

  const std::string out = JoinPath(s->dir, "artifact.bin");
  sampler.Start();
  auto start = SteadyClock::now();
  ASSIGN_OR_RETURN(client::DownloadResult got,
                   s->user->Download(job.id(), v1::DownloadRequest::ARTIFACT, out));
  const double seconds = SecondsSince(start);
  const int64_t download_peak = sampler.Stop();
  (void)RemoveAll(out);
  if (got.sha256 != artifact || got.size_bytes != size) {
    results->Error("downloaded " + std::to_string(got.size_bytes) + " bytes hashing to " +
                   got.sha256 + "; uploaded " + std::to_string(size) + " hashing to " + artifact);
  }
  ASSIGN_OR_RETURN(double raw_seconds, RawDownloadSeconds(s, job.id(), size));

  const double mbps = double(size) / kMB / seconds;
  char note[96];
  std::snprintf(note, sizeof(note), "%.0f MiB in %.2f s (ServiceClient::Download to a file)",
                double(size) / kMiB, seconds);
  results->Goal("download_mb_per_s", "download (artifact)", mbps, "MB/s",
                ">= " + JsonNumber(kGoalMBps), mbps >= kGoalMBps, note);
  results->Info("download_raw_stream_mb_per_s", "  split: raw stream, bytes dropped",
                double(size) / kMB / raw_seconds, "MB/s");
  results->Info("local_sha256_mb_per_s", "  split: sha256 on one core (in memory)",
                LocalSha256MBps(s), "MB/s");
  results->Info("artifact_upload_mb_per_s", "artifact upload (worker stream)",
                double(size) / kMB / upload_seconds, "MB/s", "bench generates + hashes too");
  results->Info("rss_baseline_mib", "shrinkd idle RSS baseline", double(baseline) / kMiB, "MiB");
  ReportRss(results, "artifact_upload", upload_peak, baseline, size);
  ReportRss(results, "download", download_peak, baseline, size);
  const double fraction =
      double(std::max<int64_t>(std::max(upload_peak, download_peak) - baseline, 0)) / double(size);
  results->Goal("rss_growth_fraction", "shrinkd peak RSS growth / artifact", fraction, "",
                "< " + JsonNumber(kGoalRssFraction), fraction < kGoalRssFraction,
                std::to_string(sampler.samples()) + " samples in the download");
  return OkStatus();
}

// ---------------------------------------------------------------- driver

Status RunSections(Session* s, const ServiceOptions& options, Results* results) {
  RETURN_IF_ERROR(SetUpTenant(s));
  ASSIGN_OR_RETURN(std::string model, UploadBenchModel(s));
  RETURN_IF_ERROR(CacheHitSection(s, options, model, results));
  ASSIGN_OR_RETURN(std::string dataset, UploadSection(s, options, results));
  RETURN_IF_ERROR(StorageSplit(s, options.dataset_bytes, results));
  return DownloadSection(s, options, model, dataset, results);
}

Status RunAll(const ServiceOptions& options, const std::string& dir, Results* results) {
  ASSIGN_OR_RETURN(auto shrinkd, ShrinkdProcess::Start(options.shrinkd, dir));
  std::printf("shrinkd pid %d on %s (database %s/b.db); load average %s\n", int(shrinkd->pid()),
              shrinkd->address().c_str(), dir.c_str(), LoadAverage().c_str());
  Session session;
  session.shrinkd = shrinkd.get();
  session.dir = dir;
  Status status = RunSections(&session, options, results);
  if (!status.ok()) {
    std::fprintf(stderr, "shrink-bench service: shrinkd log tail:\n%s\n",
                 shrinkd->LogTail().c_str());
  }
  Status stopped = shrinkd->Stop();
  if (!stopped.ok()) results->Error("stopping shrinkd: " + stopped.ToString());
  return status;
}

Status ParseServiceArgs(int argc, char** argv, ServiceOptions* options) {
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      options->quick = true;
      options->submits = 200;
      options->dataset_bytes = int64_t{32} << 20;
      options->artifact_bytes = int64_t{64} << 20;
    } else if ((arg == "--shrinkd" || arg == "--json") && i + 1 < argc) {
      (arg == "--shrinkd" ? options->shrinkd : options->json_path) = argv[++i];
    } else {
      return InvalidArgument("unknown or incomplete argument " + arg);
    }
  }
  if (options->shrinkd.empty()) {
    options->shrinkd = JoinPath(DirName(argv[0]), "shrinkd");
#ifdef SHRINKD_BINARY
    if (!FileExists(options->shrinkd)) options->shrinkd = SHRINKD_BINARY;
#endif
  }
  return OkStatus();
}

}  // namespace

int ServiceMain(int argc, char** argv) {
  ServiceOptions options;
  if (Status parsed = ParseServiceArgs(argc, argv, &options); !parsed.ok()) {
    std::fprintf(stderr, "shrink-bench service: %s\n%s", parsed.message().c_str(), kServiceUsage);
    return 2;
  }
  auto dir = MakeTempDir("shrink-bench-service");
  if (!dir.ok()) {
    std::fprintf(stderr, "shrink-bench service: %s\n", dir.status().ToString().c_str());
    return 1;
  }
  const std::string load_start = LoadAverage();
  Results results;
  if (Status status = RunAll(options, *dir, &results); !status.ok()) {
    results.Error(status.ToString());
  }
  (void)RemoveAll(*dir);
  std::ostringstream header;
  header << "\"section\": \"service\", \"quick\": " << (options.quick ? "true" : "false")
         << ", \"submits\": " << options.submits << ", \"threads\": " << options.threads
         << ", \"dataset_bytes\": " << options.dataset_bytes
         << ", \"artifact_bytes\": " << options.artifact_bytes
         << ", \"load_average_start\": " << JsonQuote(load_start)
         << ", \"load_average_end\": " << JsonQuote(LoadAverage());
  const std::string json = results.Json(header.str());
  std::printf("%s", json.c_str());
  if (!options.json_path.empty()) {
    if (Status written = WriteFile(options.json_path, json); !written.ok()) {
      results.Error(written.ToString());
    }
  }
  return results.errors() ? 1 : 0;
}

}  // namespace shrink::testing
