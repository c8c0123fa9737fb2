// The gRPC edge shared by the server, the worker and the client: one conversion between
// shrink::Status and grpc::Status, bearer-token metadata, and channel creation. Only the
// service-side targets link this (the engine never links gRPC).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

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
  std::string address;   // host:port; with TLS the host must match the server cert's SAN
  std::string tls_ca_file;  // PEM of the server's CA; empty: plaintext (loopback, trusted nets)
  // Mutual TLS (servers started with --tls-client-ca): this client's certificate and key (PEM).
  // Both or neither; only used with tls_ca_file.
  std::string tls_cert_file;
  std::string tls_key_file;

  // A plaintext channel to `address`.
  static ChannelOptions Plaintext(std::string address) {
    ChannelOptions options;
    options.address = std::move(address);
    return options;
  }
};
// A channel (connects lazily). Unreadable or malformed TLS files, a cert without its key or a
// key that does not match the cert are InvalidArgument/NotFound naming the file.
StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ChannelOptions& options);

// The server side of TLS. Empty cert_file: plaintext.
struct ServerTlsOptions {
  std::string cert_file;       // PEM certificate chain of the server
  std::string key_file;        // PEM private key of that certificate
  std::string client_ca_file;  // when set: clients must present a cert signed by this CA (mTLS)
};
// Plaintext credentials when `options.cert_file` is empty; else SSL credentials after checking
// that every file reads, parses as PEM and that the key belongs to the certificate.
StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsOptions& options);

// The whole of a PEM file; NotFound/InvalidArgument (naming `what`, e.g. "--tls-ca") when it
// cannot be read or holds no PEM block.
StatusOr<std::string> ReadPemFile(const std::string& path, const std::string& what);

// Adds the bearer token (when not empty) and, when `timeout` is positive, a deadline.
void PrepareCall(grpc::ClientContext* context, const std::string& token,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

}  // namespace shrink::rpc
