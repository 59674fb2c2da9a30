// The daemon's TLS credentials in-process, with certificates made by
// scripts/make-certs.sh: the server's (mTLS when given a CA) and the
// dialer's (server certificate and host name verified), and the names
// PeerCertificateNames reports on each side. tests/tls_test.cc covers the
// real daemon.
#include "daemon/tls_credentials.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/echo.grpc.pb.h"
#include "auth/certificate_names.h"
#include "daemon/server_builder.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certificates.h"

namespace recondb::daemon {
namespace {

using ::recondb::testing::MakeCertificates;
using ::recondb::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Answers each call with the caller's certificate names, comma-separated.
class NamesService final : public bench::v1::Echo::Service {
  grpc::Status Echo(grpc::ServerContext* context, const bench::v1::EchoRequest*,
                    bench::v1::EchoResponse* response) override {
    response->set_payload(absl::StrJoin(auth::PeerCertificateNames(*context->auth_context()), ","));
    return grpc::Status::OK;
  }
};

struct Answer {
  grpc::Status status;
  std::vector<std::string> client_names;  // Seen by the server.
  std::vector<std::string> server_names;  // Seen by the client.
};

class TlsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(MakeCertificates(certs_.path(), {"hub", "laptop"})); }

  TlsFiles Files(const std::string& node, bool with_ca) const {
    TlsFiles files;
    if (!node.empty()) {
      files.cert = certs_.File(node + ".pem");
      files.key = certs_.File(node + ".key");
    }
    if (with_ca) files.ca = certs_.File("ca.pem");
    return files;
  }

  void Serve(std::shared_ptr<grpc::ServerCredentials> credentials) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.credentials = std::move(credentials);
    ASSERT_OK_AND_ASSIGN(server_, StartGrpcServer(options, {{"recondb.bench.v1.Echo", &service_}}));
  }

  Answer Call(const std::shared_ptr<grpc::ChannelCredentials>& credentials,
              const std::string& target_name = "") {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    if (!target_name.empty()) args.SetSslTargetNameOverride(target_name);
    auto stub =
        bench::v1::Echo::NewStub(grpc::CreateCustomChannel(server_.address, credentials, args));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    bench::v1::EchoResponse response;
    Answer answer;
    answer.status = stub->Echo(&context, bench::v1::EchoRequest(), &response);
    if (!response.payload().empty()) {
      answer.client_names = absl::StrSplit(response.payload(), ',');
    }
    if (context.auth_context() != nullptr) {
      answer.server_names = auth::PeerCertificateNames(*context.auth_context());
    }
    return answer;
  }

  void TearDown() override {
    if (server_.server != nullptr) server_.server->Shutdown();
  }

  TempDir certs_;
  NamesService service_;
  StartedServer server_;
};

TEST_F(TlsCredentialsTest, MutualTlsShowsEachSideTheOthersNames) {
  WatchedCredentials<grpc::ServerCredentials> server =
      MakeTlsServerCredentials(Files("hub", /*with_ca=*/true));
  Serve(server.credentials);
  WatchedCredentials<grpc::ChannelCredentials> dialer =
      MakeTlsChannelCredentials(Files("laptop", /*with_ca=*/true));
  Answer answer = Call(dialer.credentials);
  ASSERT_TRUE(answer.status.ok()) << answer.status.error_message();
  // SANs in certificate order, then the CN (already among them).
  EXPECT_THAT(answer.client_names, ElementsAre("laptop", "localhost", "127.0.0.1"));
  EXPECT_THAT(answer.server_names, ElementsAre("hub", "localhost", "127.0.0.1"));

  // Without a client certificate the server refuses the handshake.
  WatchedCredentials<grpc::ChannelCredentials> anonymous =
      MakeTlsChannelCredentials(Files("", /*with_ca=*/true));
  EXPECT_EQ(Call(anonymous.credentials).status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsCredentialsTest, TheDialerVerifiesTheHostName) {
  WatchedCredentials<grpc::ServerCredentials> server =
      MakeTlsServerCredentials(Files("hub", /*with_ca=*/false));
  Serve(server.credentials);
  WatchedCredentials<grpc::ChannelCredentials> dialer =
      MakeTlsChannelCredentials(Files("", /*with_ca=*/true));
  Answer answer = Call(dialer.credentials);
  ASSERT_TRUE(answer.status.ok()) << answer.status.error_message();
  EXPECT_THAT(answer.client_names, IsEmpty());  // None asked for.
  EXPECT_TRUE(Call(dialer.credentials, "hub").status.ok());
  // The CA signed it, but for other names.
  EXPECT_EQ(Call(dialer.credentials, "laptop").status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsCredentialsTest, PlaintextHasNoNames) {
  Serve(grpc::InsecureServerCredentials());
  Answer answer = Call(grpc::InsecureChannelCredentials());
  ASSERT_TRUE(answer.status.ok()) << answer.status.error_message();
  EXPECT_THAT(answer.client_names, IsEmpty());
  EXPECT_THAT(answer.server_names, IsEmpty());
}

}  // namespace
}  // namespace recondb::daemon
