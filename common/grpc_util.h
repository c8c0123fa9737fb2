// The gRPC edge shared by the server, the worker and the client: one conversion between
// shrink::Status and grpc::Status, bearer-token metadata, and channel creation. Only the
// service-side targets link this (the engine never links gRPC).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "common/status.h"

namespace shrink::rpc {

grpc::Status ToGrpc(const Status& status);
Status FromGrpc(const grpc::Status& status);

// Tokens travel as `authorization: Bearer <token>` metadata on every call.
inline constexpr char kAuthorizationKey[] = "authorization";
// The token in an `authorization` value, or nullopt when it is not a bearer token.
std::optional<std::string> ParseBearer(std::string_view value);

// Bytes per streamed chunk (uploads, downloads, artifacts) and the message limit that fits one.
inline constexpr int64_t kChunkBytes = 1 << 20;
inline constexpr int kMaxMessageBytes = 8 << 20;

struct ChannelOptions {
  std::string address;   // host:port
  std::string tls_ca_file;  // PEM of the server's CA; empty: plaintext (loopback, trusted nets)
};
std::shared_ptr<grpc::Channel> MakeChannel(const ChannelOptions& options);

// Adds the bearer token (when not empty) and, when `timeout` is positive, a deadline.
void PrepareCall(grpc::ClientContext* context, const std::string& token,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

}  // namespace shrink::rpc
