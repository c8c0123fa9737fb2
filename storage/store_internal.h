// Helpers shared by MemoryStore and SqliteStore (not part of the public API).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "storage/job_store.h"

namespace shrink::storage::internal {

// InvalidArgument when the spec cannot be stored (no tenant, bad attempts, odd hashes).
Status ValidateSpec(const JobSpec& spec);
// Dataset hashes joined with '\n' and split back (hashes never contain '\n').
std::string JoinHashes(const std::vector<std::string>& hashes);
std::vector<std::string> SplitHashes(const std::string& joined);
// Parses a page token ("" -> 0). InvalidArgument for anything else than a sequence number.
StatusOr<int64_t> ParsePageToken(const std::string& token);
std::string ExpiredReason(const Job& job);

}  // namespace shrink::storage::internal
