// TLS and backups with real processes on loopback: shrinkd serving TLS (and mutual TLS) with a
// CA and certificates made by `openssl` at test time, local workers reaching it over TLS, and
// `shrink admin backup` taken while jobs run, restored by a second server on the copy.
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <thread>

#include "storage/sqlite_store.h"
#include "tests/service_fixture.h"

namespace shrink::testing {
namespace {

const std::string kMlp = std::string(SHRINK_SHARED_MODELS_DIR) + "/mnist_mlp.onnx";

class ServiceTlsTest : public ServiceTest {
 protected:
  // A CA, a server cert for localhost/127.0.0.1 and a client cert signed by it, plus an
  // unrelated CA. False (with the reason logged) when openssl is missing.
  bool MakeCertificates() {
    std::string script =
        "set -e; cd " + dir_ +
        "; printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.cnf"
        "; for ca in ca other-ca; do openssl req -x509 -newkey ec -pkeyopt "
        "ec_paramgen_curve:prime256v1 -nodes -keyout $ca.key -out $ca.pem -days 1 "
        "-subj /CN=shrink-test-$ca; done"
        "; for who in server client; do openssl req -newkey ec -pkeyopt "
        "ec_paramgen_curve:prime256v1 -nodes -keyout $who.key -out $who.csr -subj /CN=localhost"
        "; openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
        "-extfile san.cnf -out $who.pem; done";
    std::string command = "(" + script + ") >" + File("openssl.log") + " 2>&1";
    return std::system(command.c_str()) == 0;
  }

  std::vector<std::string> TlsFlags(bool mutual) {
    std::vector<std::string> flags = {"--tls-cert", File("server.pem"), "--tls-key",
                                      File("server.key"), "--tls-ca", File("ca.pem")};
    if (mutual) flags.insert(flags.end(), {"--tls-client-ca", File("ca.pem")});
    return flags;
  }

  std::string Port() const { return address_.substr(address_.rfind(':') + 1); }

  StatusOr<std::unique_ptr<client::ServiceClient>> TlsClient(const std::string& ca,
                                                             const std::string& cert = "",
                                                             const std::string& key = "") {
    return client::ServiceClient::Create({"localhost:" + Port(), ca, cert, key}, admin_token_);
  }

  int Shrink(const std::string& args) {
    std::string command = std::string(SHRINK_BINARY) + " " + args + " --token " + admin_token_ +
                          " >>" + File("cli.out") + " 2>>" + File("cli.err");
    int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // Uploads the MLP and runs one float16 job to the end through `client`.
  void RunJob(client::ServiceClient* client, int32_t seed) {
    auto model = client->UploadModel(kMlp);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    v1::SubmitJobRequest request;
    request.set_model_id(model->id);
    request.mutable_recipe()->set_preset("float16");
    request.mutable_recipe()->set_seed(seed);
    auto job = client->Submit(request);
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    auto done = client->Watch(job->id(), 0, [](const v1::ProgressEvent&) {});
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    auto final_job = client->GetJob(job->id());
    ASSERT_TRUE(final_job.ok());
    EXPECT_EQ(final_job->state(), v1::SUCCEEDED) << final_job->error();
    auto fetched = client->Download(job->id(), v1::DownloadRequest::ARTIFACT, File("out.onnx"));
    ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
    EXPECT_EQ(fetched->sha256, final_job->artifact_id());
  }
};

TEST_F(ServiceTlsTest, JobsRunOverTlsAndPlaintextOrUnknownCasAreRefused) {
  if (!FileExists(kMlp)) GTEST_SKIP() << "shared models missing: " << kMlp;
  if (!MakeCertificates()) GTEST_SKIP() << "openssl failed; see " << File("openssl.log");
  StartServer(1, TlsFlags(false));
  // The local worker dials localhost with the CA: the job completes only if it got through.
  auto tls = TlsClient(File("ca.pem"));
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  RunJob(tls->get(), 1);

  auto plain =
      client::ServiceClient::Create(rpc::ChannelOptions::Plaintext(address_), admin_token_);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->ListJobs().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Shrink("jobs --server " + address_), 4);  // exit 4: unreachable
  EXPECT_EQ(Shrink("jobs --server localhost:" + Port() + " --tls-ca " + File("ca.pem")), 0);

  auto stranger = TlsClient(File("other-ca.pem"));
  ASSERT_TRUE(stranger.ok());
  EXPECT_EQ((*stranger)->ListJobs().status().code(), StatusCode::kUnavailable);
  // A CA file that cannot be read is reported before any connection.
  auto missing = TlsClient(File("nope.pem"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.pem"), std::string::npos);
  EXPECT_EQ(Shrink("jobs --server localhost:" + Port() + " --tls-ca " + File("san.cnf")), 1);
}

TEST_F(ServiceTlsTest, MutualTlsRefusesClientsWithoutACertificate) {
  if (!FileExists(kMlp)) GTEST_SKIP() << "shared models missing: " << kMlp;
  if (!MakeCertificates()) GTEST_SKIP() << "openssl failed; see " << File("openssl.log");
  StartServer(1, TlsFlags(true));
  auto anonymous = TlsClient(File("ca.pem"));
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ((*anonymous)->ListJobs().status().code(), StatusCode::kUnavailable);
  // A key that is not the certificate's is refused locally.
  EXPECT_EQ(TlsClient(File("ca.pem"), File("client.pem"), File("server.key")).status().code(),
            StatusCode::kInvalidArgument);
  auto known = TlsClient(File("ca.pem"), File("client.pem"), File("client.key"));
  ASSERT_TRUE(known.ok()) << known.status().ToString();
  RunJob(known->get(), 2);  // the local worker presents the server's certificate
}

TEST_F(ServiceTlsTest, BadTlsFilesStopTheServerWithExit1) {
  if (!MakeCertificates()) GTEST_SKIP() << "openssl failed; see " << File("openssl.log");
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"--tls-cert", File("server.pem"), "--tls-key", File("client.key")}, "does not belong"},
      {{"--tls-cert", File("missing.pem"), "--tls-key", File("server.key")}, "missing.pem"},
      {{"--tls-cert", File("server.pem")}, "--tls-key"},
      {{"--tls-cert", File("server.pem"), "--tls-key", File("server.key")}, "--tls-ca"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {SHRINKD_BINARY, "--listen", "127.0.0.1:0", "--db",
                                     File("bad.db"), "--workers", "1"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    std::string log = File("bad-" + std::to_string(&c - cases.data()) + ".log");
    ChildProcess server(args, log);
    EXPECT_EQ(server.Wait(), 1) << c.message;
    EXPECT_NE(ReadFile(log)->find(c.message), std::string::npos) << *ReadFile(log);
  }
}

TEST_F(ServiceTlsTest, BackupTakenWhileJobsRunRestoresEveryFinishedJob) {
  if (!FileExists(kMlp)) GTEST_SKIP() << "shared models missing: " << kMlp;
  StartServer(2);
  auto model = client_->UploadModel(kMlp);
  ASSERT_TRUE(model.ok());
  auto submit = [&](int32_t seed) {
    v1::SubmitJobRequest request;
    request.set_model_id(model->id);
    request.mutable_recipe()->set_preset("float16");
    request.mutable_recipe()->set_seed(seed);
    auto job = client_->Submit(request);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.ok() ? job->id() : std::string();
  };
  std::vector<std::string> first;
  for (int seed = 1; seed <= 3; ++seed) first.push_back(submit(seed));
  for (const std::string& id : first) ASSERT_TRUE(WaitFinal(id, std::chrono::seconds(120)).ok());
  // More jobs are submitted and run while the backup is taken.
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    for (int seed = 100; !stop && seed < 140; ++seed) submit(seed);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::map<std::string, std::string> final_before;  // job id -> artifact id
  auto listed = client_->ListJobs();
  ASSERT_TRUE(listed.ok());
  for (const v1::Job& job : *listed) {
    if (job.state() == v1::SUCCEEDED) final_before[job.id()] = job.artifact_id();
  }
  int backup_exit = Shrink("admin backup --server " + address_ + " --out " + File("copy.db"));
  stop = true;
  busy.join();
  ASSERT_EQ(backup_exit, 0) << *ReadFile(File("cli.err"));
  ASSERT_GE(final_before.size(), first.size());
  {
    auto store = storage::SqliteStore::Open(File("copy.db"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ(*(*store)->IntegrityCheck(), "ok");
  }

  // A second server on the copy (the tokens are in it too).
  std::string port_file = File("port2");
  ChildProcess second({SHRINKD_BINARY, "--listen", "127.0.0.1:0", "--db", File("copy.db"),
                       "--workers", "0", "--port-file", port_file},
                      File("server2.log"));
  ASSERT_TRUE(WaitFor([&] { return ReadFile(port_file).ok(); }, std::chrono::seconds(20)));
  auto restored = client::ServiceClient::Create(
      rpc::ChannelOptions::Plaintext("127.0.0.1:" +
                                     std::to_string(std::stoi(*ReadFile(port_file)))),
      admin_token_);
  ASSERT_TRUE(restored.ok());
  for (const auto& [id, artifact] : final_before) {
    auto job = (*restored)->GetJob(id);
    ASSERT_TRUE(job.ok()) << id << ": " << job.status().ToString();
    EXPECT_EQ(job->state(), v1::SUCCEEDED);
    auto fetched = (*restored)->Download(id, v1::DownloadRequest::ARTIFACT, File(id + ".onnx"));
    ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
    EXPECT_EQ(fetched->sha256, artifact);
  }
  EXPECT_EQ(Shrink("admin backup --server " + address_ + " --out " + File("nodir/x.db")), 1);
}

}  // namespace
}  // namespace shrink::testing
