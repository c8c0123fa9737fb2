// SqliteStore-only behaviour: durability, migrations, the file lock, corruption detection, memory
// while streaming, integrity under concurrency.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include "common/sha256.h"
#include "storage/store_test_util.h"

namespace shrink::storage {
namespace {

using testing::SqliteFactory;
using testing::TempDir;

// Runs SQL on the file directly, behind the store's back.
void ExecRaw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// Peak resident set since the last ResetPeakRss(), in bytes (-1 when /proc is unavailable).
int64_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}
bool ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  return static_cast<bool>(clear);
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteStore> Open(SqliteStoreOptions options = {}) {
    options.clock = &clock_;
    auto store = SqliteStore::Open(path_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  FakeClock clock_;
  TempDir dir_;
  std::string path_ = dir_.File("shrink.db");
};

TEST_F(SqliteStoreTest, ReopenKeepsEverything) {
  std::string job_id, blob_hash, token;
  {
    auto store = Open();
    ASSERT_TRUE(store->CreateTenant("acme").ok());
    token = *store->IssueToken("acme", TokenKind::kAdmin, "first start");
    blob_hash = WriteWholeBlob(*store, "acme", "artifact")->hash;
    JobSpec spec{"acme", "m", {"d"}, "recipe", "0.1.0", 3, "key", 2};
    job_id = store->Submit(spec)->job.id;
    Job leased = **store->Lease("w", 1000);
    ASSERT_TRUE(store->Heartbeat(job_id, leased.lease_fence, Progress{"s", 0.5, "m"}, 1000).ok());
    ASSERT_TRUE(store->RecordMetric(job_id, "top1", 0.75).ok());
  }
  auto store = Open();
  Job job = *store->GetJob("acme", job_id);
  EXPECT_EQ(job.state, JobState::kRunning);  // the lease is still out; ExpireLeases handles it
  EXPECT_EQ(job.spec.priority, 3);
  EXPECT_EQ(job.spec.idempotency_key, "key");
  EXPECT_EQ(job.progress.message, "m");
  EXPECT_EQ(store->ReadEvents("acme", job_id, 0, 10)->size(), 1u);
  EXPECT_EQ(store->MetricsForJob("acme", job_id)->at("top1"), 0.75);
  EXPECT_EQ(*ReadWholeBlob(*store, "acme", blob_hash), "artifact");
  EXPECT_EQ(store->LookupToken(token)->kind, TokenKind::kAdmin);
  clock_.Advance(1000);
  EXPECT_EQ(*store->ExpireLeases(), 1);
  EXPECT_EQ((*store->Lease("w2", 1000))->lease_fence, 2);
}

TEST_F(SqliteStoreTest, SecondOpenerIsRefused) {
  auto first = Open();
  auto second = SqliteStore::Open(path_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos)
      << second.status().message();
  first.reset();
  EXPECT_TRUE(SqliteStore::Open(path_).ok());  // released with the first store
}

TEST_F(SqliteStoreTest, MigratesFromV1) {
  {
    SqliteStoreOptions v1;
    v1.schema_version = 1;
    auto store = Open(v1);
    EXPECT_EQ(*store->SchemaVersion(), 1);
  }
  // A job as a v1 build wrote it (no progress columns).
  ExecRaw(path_,
          "INSERT INTO jobs(id, tenant, model_hash, dataset_hashes, recipe, engine_version, "
          "priority, idempotency_key, max_attempts, state, created_ms, cache_key) VALUES "
          "('jold', 'acme', 'm', 'a\nb', x'00ff', '0.0.9', 1, NULL, 3, 0, 5, 'k')");
  auto store = Open();
  EXPECT_EQ(*store->SchemaVersion(), sqlite::kLatestSchemaVersion);
  Job job = *store->GetJob("acme", "jold");
  EXPECT_EQ(job.spec.dataset_hashes, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(job.spec.recipe, std::string("\0\xff", 2));
  EXPECT_EQ(job.progress.stage, "");
  Job leased = **store->Lease("w", 1000);
  EXPECT_TRUE(store->Heartbeat("jold", leased.lease_fence, Progress{"new", 1, ""}, 1000).ok());
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefused) {
  Open().reset();
  ExecRaw(path_, "INSERT INTO schema_migrations(version, applied_ms) VALUES (99, 0)");
  auto store = SqliteStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("newer"), std::string::npos) << store.status().message();
}

TEST_F(SqliteStoreTest, FlippedByteInFileIsDataLoss) {
  const std::string content = RandomBytes(20000, 7);
  std::string hash;
  {
    auto store = Open();
    hash = WriteWholeBlob(*store, "acme", content)->hash;
  }  // closing checkpoints the WAL into the main file
  std::string file;
  {
    std::ifstream in(path_, std::ios::binary);
    file.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  size_t at = file.find(content.substr(0, 64));
  ASSERT_NE(at, std::string::npos) << "chunk bytes not found in the DB file";
  {
    std::fstream out(path_, std::ios::binary | std::ios::in | std::ios::out);
    out.seekp(static_cast<std::streamoff>(at + 32));
    char flipped = static_cast<char>(file[at + 32] ^ 0x20);
    out.write(&flipped, 1);
  }
  auto store = Open();
  auto read = ReadWholeBlob(*store, "acme", hash);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(read.status().message().find(hash), std::string::npos) << read.status().message();
}

TEST_F(SqliteStoreTest, Streams64MiBWithBoundedMemory) {
  constexpr int64_t kPiece = 1 << 20;
  constexpr int kPieces = 64;
  auto store = Open();
  std::string piece = RandomBytes(kPiece, 1);
  if (!ResetPeakRss()) GTEST_SKIP() << "cannot reset the peak RSS (/proc/self/clear_refs)";
  const int64_t base = PeakRssBytes();
  Sha256 expected;
  const auto start = std::chrono::steady_clock::now();
  auto writer = store->NewBlobWriter("acme");
  ASSERT_TRUE(writer.ok());
  for (int i = 0; i < kPieces; ++i) {
    piece[0] = static_cast<char>(i);  // no two pieces alike
    expected.Update(piece);
    ASSERT_TRUE((*writer)->Write(piece).ok());
  }
  auto info = (*writer)->Finish();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->hash, expected.HexDigest());
  EXPECT_EQ(info->size, kPiece * kPieces);

  const auto written = std::chrono::steady_clock::now();
  auto reader = store->OpenBlob("acme", info->hash);
  ASSERT_TRUE(reader.ok());
  std::string chunk;
  int64_t total = 0;
  while (true) {
    auto more = (*reader)->Next(&chunk);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    EXPECT_LE(chunk.size(), size_t{4} << 20);
    total += static_cast<int64_t>(chunk.size());
  }
  EXPECT_EQ(total, kPiece * kPieces);
  const auto read = std::chrono::steady_clock::now();
  auto seconds = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  std::fprintf(stderr, "64 MiB: write %.0f MB/s, verified read %.0f MB/s\n",
               total / 1e6 / seconds(start, written), total / 1e6 / seconds(written, read));
  // A few chunk-sized buffers (writer buffer, SQLite's bound copy and page cache, the read chunk)
  // fit well under half the blob; holding it whole would need 64 MiB.
  const int64_t growth = PeakRssBytes() - base;
  std::fprintf(stderr, "64 MiB write+read: peak RSS growth %.1f MiB\n", growth / 1048576.0);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  (void)growth;  // sanitizer shadow memory makes RSS meaningless here
#else
  EXPECT_LT(growth, 32 << 20) << "peak RSS grew by " << growth << " bytes";
#endif
}

TEST_F(SqliteStoreTest, AbandonedUploadLeavesNoChunks) {
  {
    auto store = Open(SqliteStoreOptions{nullptr, 100});
    auto writer = store->NewBlobWriter("acme");
    ASSERT_TRUE((*writer)->Write(std::string(1000, 'x')).ok());
    // Destroyed without Finish.
  }
  // What a process killed mid-upload leaves behind: staged chunks without a blob.
  ExecRaw(path_, "INSERT INTO chunk_data(id, data) VALUES (77, x'0102'); "
                 "INSERT INTO uploads(upload_id, idx, chunk_id) VALUES ('u-dead', 0, 77)");
  auto store = Open();
  store.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT (SELECT COUNT(*) FROM chunk_data) + "
                               "(SELECT COUNT(*) FROM uploads)", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(stmt, 0), 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, IntegrityAfterConcurrentStress) {
  auto store = Open(SqliteStoreOptions{nullptr, 4096});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) {
        JobSpec spec{"acme", "m", {}, "r" + std::to_string(i), "v", i % 4, "", 2};
        ASSERT_TRUE(store->Submit(spec).ok());
        auto blob = WriteWholeBlob(*store, "acme", RandomBytes(10000, t * 100 + i % 5));
        ASSERT_TRUE(blob.ok());
        auto leased = store->Lease("w" + std::to_string(t), 1000);
        ASSERT_TRUE(leased.ok());
        if (!leased->has_value()) continue;
        if (i % 3 == 0) continue;  // abandoned: left for ExpireLeases
        // Thread 0 may expire this lease at any moment (it advances the clock): the stale
        // worker is then refused, which is the fencing contract, not an error of the store.
        const Job& job = **leased;
        auto stale_or_ok = [](const Status& status) {
          return status.ok() || status.code() == StatusCode::kFailedPrecondition;
        };
        auto beat = store->Heartbeat(job.id, job.lease_fence, Progress{}, 1000);
        ASSERT_TRUE(stale_or_ok(beat.status())) << beat.status().ToString();
        Status done = store->Complete(job.id, job.lease_fence, blob->hash, "");
        ASSERT_TRUE(stale_or_ok(done)) << done.ToString();
      }
      if (t == 0) {
        clock_.Advance(5000);
        EXPECT_TRUE(store->ExpireLeases().ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(*store->IntegrityCheck(), "ok");
  int64_t total = 0;
  for (JobState state : {JobState::kQueued, JobState::kRunning, JobState::kSucceeded}) {
    total += *store->CountJobs(state);
  }
  EXPECT_EQ(total, 120);  // nothing FAILED yet (max_attempts 2, at most one expiry)
}

}  // namespace
}  // namespace shrink::storage

namespace shrink::storage {
namespace {

// --- k/tls: online backup ---
// A job spec for the backup test: tenant acme, model m, recipe `recipe`, engine v.
JobSpec BackupSpec(const std::string& recipe) {
  JobSpec spec;
  spec.tenant = "acme";
  spec.model_hash = "m";
  spec.recipe = recipe;
  spec.engine_version = "v";
  return spec;
}

TEST_F(SqliteStoreTest, BackupWhileWritersRunIsConsistentAndHasEveryEarlierJob) {
  auto store = Open(SqliteStoreOptions{nullptr, 4096});
  // Jobs finished before the backup, each with an artifact blob.
  std::vector<std::pair<std::string, std::string>> before;  // job id, artifact hash
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store->Submit(BackupSpec("before" + std::to_string(i))).ok());
    auto blob = WriteWholeBlob(*store, "acme", RandomBytes(20000, 1000 + i));
    ASSERT_TRUE(blob.ok());
    auto leased = store->Lease("w", 60000);
    ASSERT_TRUE(leased.ok() && leased->has_value());
    ASSERT_TRUE(store->Complete((*leased)->id, (*leased)->lease_fence, blob->hash, "").ok());
    before.emplace_back((*leased)->id, blob->hash);
  }
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      ASSERT_TRUE(store->Submit(BackupSpec("during" + std::to_string(i))).ok());
      ASSERT_TRUE(WriteWholeBlob(*store, "acme", RandomBytes(20000, i)).ok());
      ++written;
    }
  });
  // One page per step: many steps, so the writer really interleaves with the copy.
  const std::string copy = path_ + ".backup";
  auto bytes = store->BackupTo(copy, 1);
  stop = true;
  writer.join();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_GT(written.load(), 0);
  EXPECT_EQ(*bytes, static_cast<int64_t>(std::filesystem::file_size(copy)));
  EXPECT_FALSE(std::filesystem::exists(copy + "-wal"));

  auto restored = SqliteStore::Open(copy);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(*(*restored)->IntegrityCheck(), "ok");
  EXPECT_EQ(*(*restored)->SchemaVersion(), sqlite::kLatestSchemaVersion);
  for (const auto& [id, hash] : before) {
    auto job = (*restored)->GetJob("acme", id);
    ASSERT_TRUE(job.ok()) << id << ": " << job.status().ToString();
    EXPECT_EQ(job->state, JobState::kSucceeded);
    EXPECT_EQ(job->artifact_hash, hash);
    auto reader = (*restored)->OpenBlob("acme", hash);
    ASSERT_TRUE(reader.ok());
    std::string chunk;
    int64_t size = 0;
    for (;;) {
      auto more = (*reader)->Next(&chunk);
      ASSERT_TRUE(more.ok()) << more.status().ToString();  // the hash is verified at the end
      if (!*more) break;
      size += static_cast<int64_t>(chunk.size());
    }
    EXPECT_EQ(size, 20000);
  }
}

}  // namespace
}  // namespace shrink::storage
