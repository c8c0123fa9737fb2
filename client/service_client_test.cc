// ServiceClient and ByteSource against in-process fakes: no real server, port 0, temp dirs.
#include "client/service_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <unistd.h>
#include <utime.h>

#include <cstdlib>

#include "client/byte_source.h"
#include "client/fake_service.h"
#include "common/file_util.h"
#include "common/sha256.h"
#include "engine/io/model_bundle.h"

namespace shrink::client {
namespace {

using testing::FakeServer;

std::string Stream(const ByteSource& source, size_t chunk_bytes, std::vector<size_t>* sizes) {
  std::string all;
  Status status = source.ForEachChunk(chunk_bytes, [&](std::string_view piece) {
    all.append(piece);
    if (sizes) sizes->push_back(piece.size());
    return OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status.message();
  return all;
}

std::string Bytes(size_t size, int seed) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = char((i * 131 + size_t(seed) * 7) % 251);
  return bytes;
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = *MakeTempDir("shrink-client-test"); }
  void TearDown() override { (void)RemoveAll(dir_); }

  std::string Write(const std::string& name, const std::string& contents) {
    std::string path = JoinPath(dir_, name);
    std::string parent = DirName(path);
    EXPECT_EQ(std::system(("mkdir -p '" + parent + "'").c_str()), 0);
    EXPECT_TRUE(WriteFile(path, contents).ok());
    return path;
  }

  // A model directory: an .onnx file, external data in a subdirectory, a name over 100 bytes
  // (ustar's prefix field), and an empty file.
  std::string ModelDir(const std::string& name, int seed) {
    Write(name + "/model.onnx", Bytes(700, seed));
    Write(name + "/weights/w0.bin", Bytes(4096, seed + 1));
    Write(name + "/" + std::string(60, 'd') + "/" + std::string(70, 'f') + ".bin", Bytes(5, 2));
    Write(name + "/empty.bin", "");
    return JoinPath(dir_, name);
  }

  std::unique_ptr<ServiceClient> Client(FakeServer& server, const std::string& token = "",
                                        ClientOptions options = {}) {
    return std::make_unique<ServiceClient>(server.Channel(), server.address(), token, options);
  }

  std::string dir_;
};

TEST_F(ClientTest, FileStreamsInExactChunks) {
  std::string content = Bytes(100, 3);
  auto source = ByteSource::File(Write("m.onnx", content));
  ASSERT_TRUE(source.ok()) << source.status().message();
  std::vector<size_t> sizes;
  EXPECT_EQ(Stream(*source, 7, &sizes), content);
  ASSERT_EQ(sizes.size(), 15u);  // ceil(100 / 7)
  for (size_t i = 0; i + 1 < sizes.size(); ++i) EXPECT_EQ(sizes[i], 7u);
  EXPECT_EQ(sizes.back(), 100u - 14 * 7);
  EXPECT_EQ(source->size(), 100u);
  EXPECT_EQ(*source->Sha256Hex(), Sha256Hex(content));
}

TEST_F(ClientTest, TarOfDirectoryIsDeterministicAndUnpacks) {
  std::string model = ModelDir("bundle", 1);
  auto first = ByteSource::TarOfDirectory(model);
  ASSERT_TRUE(first.ok()) << first.status().message();
  std::string bytes = Stream(*first, 1000, nullptr);
  EXPECT_EQ(bytes.size(), first->size());
  EXPECT_EQ(bytes.size() % 512, 0u);

  // The same tree elsewhere, with other mtimes: the same bytes.
  std::string copy = ModelDir("copy", 1);
  struct utimbuf old_time{1000000, 1000000};
  ASSERT_EQ(utime(JoinPath(copy, "model.onnx").c_str(), &old_time), 0);
  auto second = ByteSource::TarOfDirectory(copy);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(Stream(*second, 4096, nullptr), bytes);
  EXPECT_EQ(*second->Sha256Hex(), Sha256Hex(bytes));

  // Round trip through the engine's unpacker (what the worker uses).
  std::string archive = Write("bundle.tar", bytes);
  std::string out = JoinPath(dir_, "unpacked");
  ASSERT_EQ(mkdir(out.c_str(), 0755), 0);
  Status unpacked = engine::UnpackTar(archive, out);
  ASSERT_TRUE(unpacked.ok()) << unpacked.message();
  for (const std::string& name : {std::string("model.onnx"), std::string("weights/w0.bin"),
                                  std::string("empty.bin"),
                                  std::string(60, 'd') + "/" + std::string(70, 'f') + ".bin"}) {
    EXPECT_EQ(*ReadFile(JoinPath(out, name)), *ReadFile(JoinPath(model, name))) << name;
  }
  // And through the system tar, when there is one: sorted names, one listing line per file.
  if (std::system("command -v tar >/dev/null 2>&1") == 0) {
    std::string listing = JoinPath(dir_, "listing.txt");
    ASSERT_EQ(std::system(("tar -tf '" + archive + "' >'" + listing + "'").c_str()), 0);
    EXPECT_EQ(*ReadFile(listing), std::string(60, 'd') + "/" + std::string(70, 'f') +
                                      ".bin\nempty.bin\nmodel.onnx\nweights/w0.bin\n");
  }
}

TEST_F(ClientTest, TarRejectsWhatItCannotSend) {
  std::string empty = JoinPath(dir_, "empty");
  ASSERT_EQ(mkdir(empty.c_str(), 0755), 0);
  EXPECT_EQ(ByteSource::TarOfDirectory(empty).status().code(), StatusCode::kInvalidArgument);

  std::string special = JoinPath(dir_, "special");
  ASSERT_EQ(mkdir(special.c_str(), 0755), 0);
  ASSERT_EQ(mkfifo(JoinPath(special, "pipe").c_str(), 0644), 0);
  Status status = ByteSource::TarOfDirectory(special).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("pipe"), std::string::npos) << status.message();

  EXPECT_FALSE(UstarHeader(std::string(101, 'x'), 1).ok());  // no '/' to split at
  EXPECT_FALSE(UstarHeader("a.bin", uint64_t(1) << 33).ok());
}

TEST_F(ClientTest, ModelFormatFollowsThePath) {
  std::string dir = ModelDir("m", 1);
  EXPECT_EQ(*ModelFormatOf(Write("a.onnx", "x")), v1::ONNX);
  EXPECT_EQ(*ModelFormatOf(Write("a.tar", "x")), v1::ONNX_BUNDLE);
  EXPECT_EQ(*ModelFormatOf(dir), v1::ONNX_BUNDLE);
  EXPECT_EQ(ModelFormatOf(Write("a.txt", "x")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ModelFormatOf(JoinPath(dir_, "missing.onnx")).status().code(),
            StatusCode::kNotFound);
}

TEST_F(ClientTest, UploadSendsHeaderThenChunksOfTheFile) {
  FakeServer server;
  ClientOptions options;
  options.chunk_bytes = 64;
  auto client = Client(server, "", options);
  std::string content = Bytes(1000, 5);
  auto result = client->UploadModel(Write("m.onnx", content), "my-model");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(result->uploaded);
  EXPECT_EQ(result->id, Sha256Hex(content));
  std::lock_guard<std::mutex> lock(server.state.mu);
  ASSERT_EQ(server.models.headers.size(), 1u);
  const v1::UploadHeader& header = server.models.headers[0];
  EXPECT_EQ(header.name(), "my-model");
  EXPECT_EQ(header.format(), v1::ONNX);
  EXPECT_EQ(header.size_bytes(), 1000);
  EXPECT_EQ(header.sha256(), Sha256Hex(content));
  EXPECT_EQ(server.models.chunk_counts[0], 16);  // ceil(1000 / 64)
  EXPECT_EQ(server.models.blobs.at(result->id), content);
}

TEST_F(ClientTest, UploadIsSkippedWhenTheServerHasTheContent) {
  FakeServer server;
  std::string content = Bytes(300, 9);
  server.datasets.blobs[Sha256Hex(content)] = content;
  auto result = Client(server)->UploadDataset(Write("calib.npz", content));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_FALSE(result->uploaded);
  EXPECT_EQ(result->id, Sha256Hex(content));
  EXPECT_TRUE(server.datasets.headers.empty());
}

TEST_F(ClientTest, DirectoryUploadsAsItsTar) {
  FakeServer server;
  std::string dir = ModelDir("bundle", 4);
  auto result = Client(server)->UploadModel(dir);
  ASSERT_TRUE(result.ok()) << result.status().message();
  std::string tar = Stream(*ByteSource::TarOfDirectory(dir), 512, nullptr);
  EXPECT_EQ(result->id, Sha256Hex(tar));
  EXPECT_EQ(server.models.blobs.at(result->id), tar);
  EXPECT_EQ(server.models.headers[0].format(), v1::ONNX_BUNDLE);
  EXPECT_EQ(server.models.headers[0].name(), "bundle");
}

TEST_F(ClientTest, DownloadVerifiesTheHashAndRenames) {
  FakeServer server;
  auto client = Client(server);
  std::string job = client->Submit(v1::SubmitJobRequest())->id();
  server.jobs.artifact = Bytes(23, 1);  // 5 chunks of 5, the last with the hash
  std::string out = JoinPath(dir_, "out.onnx");
  auto result = client->Download(job, v1::DownloadRequest::ARTIFACT, out);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*ReadFile(out), server.jobs.artifact);
  EXPECT_EQ(result->sha256, Sha256Hex(server.jobs.artifact));
  EXPECT_FALSE(FileExists(out + ".partial"));
  ASSERT_TRUE(client->Download(job, v1::DownloadRequest::REPORT, out).ok());
  EXPECT_EQ(*ReadFile(out), server.jobs.report);
}

TEST_F(ClientTest, DownloadWithAWrongHashLeavesNoFile) {
  FakeServer server;
  auto client = Client(server);
  std::string job = client->Submit(v1::SubmitJobRequest())->id();
  server.jobs.wrong_hash = true;
  std::string out = JoinPath(dir_, "out.onnx");
  auto result = client->Download(job, v1::DownloadRequest::ARTIFACT, out);
  EXPECT_EQ(result.status().code(), StatusCode::kDataLoss);
  EXPECT_FALSE(FileExists(out));
  EXPECT_FALSE(FileExists(out + ".partial"));

  auto unknown = client->Download("nope", v1::DownloadRequest::ARTIFACT, out);
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(FileExists(out + ".partial"));
}

TEST_F(ClientTest, WatchResumesAfterTheLastSequenceWhenTheStreamDrops) {
  FakeServer server;
  ClientOptions options;
  options.watch_retry_delay = std::chrono::milliseconds(1);
  auto client = Client(server, "", options);
  std::string job = client->Submit(v1::SubmitJobRequest())->id();
  for (int64_t sequence = 1; sequence <= 5; ++sequence) {
    v1::ProgressEvent event;
    event.set_sequence(sequence);
    event.set_fraction(double(sequence) / 5);
    server.jobs.events.push_back(event);
  }
  server.jobs.drop_after = 2;
  std::vector<int64_t> seen;
  auto last = client->Watch(job, 0, [&](const v1::ProgressEvent& e) {
    seen.push_back(e.sequence());
  });
  ASSERT_TRUE(last.ok()) << last.status().message();
  EXPECT_EQ(*last, 5);
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(server.jobs.watch_after, (std::vector<int64_t>{0, 2}));
}

TEST_F(ClientTest, WatchGivesUpWhenAServerItReachedStaysDown) {
  auto server = std::make_unique<FakeServer>();
  ClientOptions options;
  options.watch_max_reconnects = 3;
  options.watch_retry_delay = std::chrono::milliseconds(1);
  auto client = Client(*server, "", options);
  std::string job = client->Submit(v1::SubmitJobRequest())->id();
  server.reset();
  auto watched = client->Watch(job, 0, {});
  EXPECT_EQ(watched.status().code(), StatusCode::kUnavailable) << watched.status().message();
}

TEST_F(ClientTest, UnreachableServerIsUnavailableNamingTheAddress) {
  std::string address = "127.0.0.1:" + std::to_string(testing::ClosedPort());
  ClientOptions options;
  options.watch_max_reconnects = 2;
  options.watch_retry_delay = std::chrono::milliseconds(1);
  auto client = ServiceClient::Create(rpc::ChannelOptions::Plaintext(address), "t", options);
  ASSERT_TRUE(client.ok());
  for (Status status : {(*client)->GetJob("j").status(), (*client)->Watch("j", 0, {}).status()}) {
    EXPECT_EQ(status.code(), StatusCode::kUnavailable);
    EXPECT_NE(status.message().find(address), std::string::npos) << status.message();
  }
}

TEST_F(ClientTest, TokenTravelsAsBearerMetadata) {
  FakeServer server;
  server.state.required_token = "secret";
  auto client = Client(server, "secret");
  ASSERT_TRUE(client->UploadModel(Write("m.onnx", "abc")).ok());
  ASSERT_TRUE(client->ListJobs().ok());
  ASSERT_FALSE(server.state.authorizations.empty());
  for (const std::string& value : server.state.authorizations) EXPECT_EQ(value, "Bearer secret");

  EXPECT_EQ(Client(server, "wrong")->ListJobs().status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Client(server, "")->ListJobs().status().code(), StatusCode::kUnauthenticated);
}

TEST_F(ClientTest, ListJobsReadsEveryPage) {
  FakeServer server;
  auto client = Client(server);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->Submit(v1::SubmitJobRequest()).ok());
  ASSERT_TRUE(client->Cancel("job-2").ok());
  auto all = client->ListJobs();
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(all->size(), 3u);  // the fake serves one job per page
  auto cancelled = client->ListJobs(v1::CANCELLED);
  ASSERT_EQ(cancelled->size(), 1u);
  EXPECT_EQ((*cancelled)[0].id(), "job-2");
}

TEST_F(ClientTest, AdminCalls) {
  FakeServer server;
  auto client = Client(server);
  ASSERT_TRUE(client->CreateTenant("acme").ok());
  EXPECT_EQ(client->CreateTenant("acme").code(), StatusCode::kAlreadyExists);
  auto token = client->IssueToken("acme", v1::WORKER, "ci");
  ASSERT_TRUE(token.ok()) << token.status().message();
  EXPECT_EQ(*token, "tok-acme-1");
  EXPECT_EQ(server.admin.issued[0].kind(), v1::WORKER);
  EXPECT_EQ(server.admin.issued[0].label(), "ci");
  EXPECT_TRUE(client->RevokeToken(*token).ok());
}

}  // namespace
}  // namespace shrink::client
