// Test helpers shared by the storage tests: temp directories and store factories.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.h"
#include "storage/memory_store.h"
#include "storage/sqlite_store.h"

namespace shrink::storage::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "shrink_storage_XXXXXX");
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Builds the store under test; the typed tests run once per factory.
struct MemoryFactory {
  using Store = MemoryStore;
  static std::unique_ptr<MemoryStore> Make(const Clock* clock, const TempDir&,
                                           int64_t chunk_size = 4 << 20) {
    return std::make_unique<MemoryStore>(clock, chunk_size);
  }
};

struct SqliteFactory {
  using Store = SqliteStore;
  static std::unique_ptr<SqliteStore> Make(const Clock* clock, const TempDir& dir,
                                           int64_t chunk_size = 4 << 20) {
    SqliteStoreOptions options;
    options.clock = clock;
    options.chunk_size = chunk_size;
    auto store = SqliteStore::Open(dir.File("shrink.db"), options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
};

}  // namespace shrink::storage::testing
