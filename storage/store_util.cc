// Helpers shared by every store implementation.
#include <random>

#include "common/sha256.h"
#include "storage/blob_store.h"
#include "storage/job_store.h"
#include "storage/tenant_store.h"

namespace shrink::storage {
namespace {

constexpr const char* kStateNames[] = {"QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"};

std::string RandomHex(int bytes) {
  // random_device reads the kernel's CSPRNG on Linux: tokens must not be guessable.
  static thread_local std::random_device device;
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(static_cast<size_t>(bytes) * 2);
  for (int i = 0; i < bytes; i += 4) {
    uint32_t word = device();
    for (int b = 0; b < 4 && i + b < bytes; ++b) {
      uint8_t byte = static_cast<uint8_t>(word >> (8 * b));
      out.push_back(kDigits[byte >> 4]);
      out.push_back(kDigits[byte & 15]);
    }
  }
  return out;
}

void AppendField(Sha256& hasher, const std::string& field) {
  uint64_t size = field.size();
  hasher.Update(&size, sizeof(size));
  hasher.Update(field);
}

}  // namespace

const char* JobStateName(JobState state) { return kStateNames[static_cast<int>(state)]; }

StatusOr<JobState> ParseJobState(const std::string& name) {
  for (int i = 0; i < 5; ++i) {
    if (name == kStateNames[i]) return static_cast<JobState>(i);
  }
  return InvalidArgument("unknown job state '" + name + "'");
}

bool IsFinal(JobState state) {
  return state == JobState::kSucceeded || state == JobState::kFailed ||
         state == JobState::kCancelled;
}

std::string CacheKeyDigest(const CacheKey& key) {
  Sha256 hasher;
  AppendField(hasher, key.tenant);
  AppendField(hasher, key.model_hash);
  AppendField(hasher, key.recipe);
  AppendField(hasher, key.engine_version);
  for (const std::string& hash : key.dataset_hashes) AppendField(hasher, hash);
  return hasher.HexDigest();
}

CacheKey CacheKeyOf(const JobSpec& spec) {
  return CacheKey{spec.tenant, spec.model_hash, spec.recipe, spec.dataset_hashes,
                  spec.engine_version};
}

const char* TokenKindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kUser: return "user";
    case TokenKind::kWorker: return "worker";
    case TokenKind::kAdmin: return "admin";
  }
  return "unknown";
}

std::string NewToken() { return "shr_" + RandomHex(32); }
std::string NewRandomId(const std::string& prefix) { return prefix + RandomHex(12); }

StatusOr<std::string> ReadWholeBlob(BlobStore& store, const std::string& tenant,
                                    const std::string& hash) {
  ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> reader, store.OpenBlob(tenant, hash));
  std::string out;
  out.reserve(static_cast<size_t>(reader->info().size));
  std::string chunk;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&chunk));
    if (!more) break;
    out += chunk;
  }
  return out;
}

StatusOr<BlobInfo> WriteWholeBlob(BlobStore& store, const std::string& tenant,
                                  std::string_view data) {
  ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, store.NewBlobWriter(tenant));
  RETURN_IF_ERROR(writer->Write(data));
  return writer->Finish();
}

}  // namespace shrink::storage

namespace shrink::storage::internal {

Status ValidateSpec(const JobSpec& spec) {
  if (spec.tenant.empty()) return InvalidArgument("job has no tenant");
  if (spec.model_hash.empty()) return InvalidArgument("job has no model");
  if (spec.max_attempts < 1) return InvalidArgument("max_attempts must be >= 1");
  for (const std::string& hash : spec.dataset_hashes) {
    if (hash.empty() || hash.find('\n') != std::string::npos) {
      return InvalidArgument("invalid dataset hash '" + hash + "'");
    }
  }
  return OkStatus();
}

std::string JoinHashes(const std::vector<std::string>& hashes) {
  std::string out;
  for (size_t i = 0; i < hashes.size(); ++i) {
    if (i) out += '\n';
    out += hashes[i];
  }
  return out;
}

std::vector<std::string> SplitHashes(const std::string& joined) {
  std::vector<std::string> out;
  if (joined.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t end = joined.find('\n', start);
    out.push_back(joined.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

StatusOr<int64_t> ParsePageToken(const std::string& token) {
  if (token.empty()) return int64_t{0};
  int64_t value = 0;
  for (char c : token) {
    if (c < '0' || c > '9' || value > (int64_t{1} << 56)) {
      return InvalidArgument("invalid page token");
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

std::string ExpiredReason(const Job& job) {
  return "lease expired on attempt " + std::to_string(job.attempts) + " of " +
         std::to_string(job.spec.max_attempts) + " (last worker " + job.worker_id + ")";
}

}  // namespace shrink::storage::internal
