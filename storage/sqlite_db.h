// Thin RAII layer over the SQLite C API used by SqliteStore: a connection with a statement cache,
// typed bind/column helpers, BEGIN IMMEDIATE transactions and the schema migrations. Not
// thread-safe: the owner serializes access.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace shrink::storage::sqlite {

// A cached prepared statement, reset and unbound when the handle is created. Bind indexes start
// at 1 (SQLite's convention), column indexes at 0.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* stmt);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int index, int64_t value);
  Stmt& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Stmt& Bind(int index, double value);
  Stmt& BindText(int index, std::string_view value);
  Stmt& BindBlob(int index, std::string_view value);
  // No copy: `value` must stay alive until the statement has run.
  Stmt& BindBlobNoCopy(int index, std::string_view value);
  Stmt& BindNull(int index);
  // true: a row is ready; false: done.
  StatusOr<bool> Step();
  // Runs to completion (for statements without result rows).
  Status Run();

  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;  // also reads BLOB columns; NULL -> ""
  bool IsNull(int column) const;

 private:
  sqlite3_stmt* stmt_;
};

class Db {
 public:
  // Opens (creating when absent) with WAL, foreign keys and the busy timeout set.
  static StatusOr<std::unique_ptr<Db>> Open(const std::string& path, int busy_timeout_ms);
  ~Db();

  Status Exec(const std::string& sql);
  // Returns the cached statement for `sql`. Only one handle per SQL text may be live at a time.
  StatusOr<std::unique_ptr<Stmt>> Prepare(const char* sql);
  int64_t Changes() const;
  int64_t LastInsertId() const;
  Status Error(std::string_view what) const;  // Internal status with sqlite's message
  sqlite3* raw() { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<const char*, sqlite3_stmt*> cache_;
};

// BEGIN IMMEDIATE on construction (takes the write lock up front so a read never has to upgrade);
// rolls back on destruction unless Commit() succeeded.
class Transaction {
 public:
  static StatusOr<std::unique_ptr<Transaction>> Begin(Db* db);
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;
  bool done_ = false;
};

// Current and newest schema versions.
constexpr int kLatestSchemaVersion = 3;
// Applies the migrations above the DB's version, each in its own transaction, up to
// `target_version` (0: latest). FailedPrecondition when the DB is newer than this build.
Status Migrate(Db* db, int target_version);
StatusOr<int> SchemaVersion(Db* db);

}  // namespace shrink::storage::sqlite
