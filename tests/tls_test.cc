// TLS and mTLS between real recondbd processes on loopback, with
// certificates made at test time by scripts/make-certs.sh (openssl): a TLS
// client; two daemons that replicate over mTLS; a peer certificate of
// another CA, an expired certificate and a client without a certificate,
// each refused; a certificate and a client CA rotated on a live node, used
// for new connections without a restart (docs/security.md, "TLS and certificates").
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "recondb/v1/admin.grpc.pb.h"
#include "tests/support/daemon_process.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certificates.h"

namespace recondb::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A short deadline: a refused handshake fails at once, a working one
// answers at once; only a mistake waits this long.
constexpr absl::Duration kCallTimeout = absl::Seconds(5);

// Where a node's certificate files are: DIR/NODE.pem and DIR/NODE.key,
// DIR/ca.pem.
struct NodeCerts {
  std::filesystem::path dir;
  std::string node;
  std::string cert() const { return (dir / (node + ".pem")).string(); }
  std::string key() const { return (dir / (node + ".key")).string(); }
  std::string ca() const { return (dir / "ca.pem").string(); }
};

struct TlsNodeOptions {
  // The CA clients must present a certificate of (--tls_client_ca); empty:
  // none asked for.
  std::string client_ca;
  // --peer_tls_ca; empty: peers dialed in plaintext.
  std::string peer_ca;
  std::vector<std::string> extra_flags;
  // Of NewChannel() (DaemonOptions::channel_credentials).
  std::shared_ptr<grpc::ChannelCredentials> credentials;
};

TlsNodeOptions Mtls(std::string client_ca, std::string peer_ca,
                    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  TlsNodeOptions options;
  options.client_ca = std::move(client_ca);
  options.peer_ca = std::move(peer_ca);
  options.credentials = std::move(credentials);
  return options;
}

TlsNodeOptions ReloadEverySecond() {
  TlsNodeOptions options;
  options.extra_flags = {"--tls_reload_interval=1s"};
  return options;
}

CertificateOptions CaNamed(std::string name) {
  CertificateOptions options;
  options.ca_name = std::move(name);
  return options;
}

CertificateOptions Expired() {
  CertificateOptions options;
  options.expired = true;
  return options;
}

absl::StatusOr<std::unique_ptr<DaemonProcess>> StartTlsNode(const TempDir& data,
                                                            const NodeCerts& certs,
                                                            const TlsNodeOptions& tls) {
  DaemonOptions options;
  options.data_dir = data.path();
  options.extra_flags = {"--tls_cert=" + certs.cert(), "--tls_key=" + certs.key()};
  if (!tls.client_ca.empty()) options.extra_flags.push_back("--tls_client_ca=" + tls.client_ca);
  if (!tls.peer_ca.empty()) options.extra_flags.push_back("--peer_tls_ca=" + tls.peer_ca);
  options.extra_flags.insert(options.extra_flags.end(), tls.extra_flags.begin(),
                             tls.extra_flags.end());
  options.channel_credentials = tls.credentials;
  return DaemonProcess::Start(std::move(options));
}

// One call on a fresh channel (its own connection, so its own handshake).
absl::Status Call(const DaemonProcess& daemon,
                  const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                  const grpc::ChannelArguments& args = grpc::ChannelArguments()) {
  DbClient db(daemon.NewChannel(credentials, args), kCallTimeout);
  return db.ListTables().status();
}

absl::StatusOr<v1::SyncResponse> Sync(const DaemonProcess& from, const std::string& address) {
  std::unique_ptr<v1::Admin::Stub> admin = v1::Admin::NewStub(from.NewChannel());
  grpc::ClientContext ctx;
  SetDeadline(&ctx, absl::Seconds(20));
  v1::SyncRequest request;
  request.set_address(address);
  v1::SyncResponse response;
  grpc::Status s = admin->Sync(&ctx, request, &response);
  if (!s.ok()) return ToAbslStatus(s);
  return response;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(MakeCertificates(ca1_.path(), {"a", "b"}, CaNamed("recondb test CA 1")));
    ASSERT_OK(MakeCertificates(ca2_.path(), {"a", "b"}, CaNamed("recondb test CA 2")));
  }

  NodeCerts Ca1(const std::string& node) const { return {ca1_.path(), node}; }
  NodeCerts Ca2(const std::string& node) const { return {ca2_.path(), node}; }
  // A client trusting `trust`'s CA and presenting `client`'s certificate
  // (none when client.node is empty).
  static std::shared_ptr<grpc::ChannelCredentials> Client(const NodeCerts& trust,
                                                          const NodeCerts& client) {
    if (client.node.empty()) return TlsChannelCredentials(trust.ca());
    return TlsChannelCredentials(trust.ca(), client.cert(), client.key());
  }

  TempDir ca1_;
  TempDir ca2_;
};

TEST_F(TlsTest, AClientConnectsWithTlsAndPlaintextIsRefused) {
  TempDir data;
  ASSERT_OK_AND_ASSIGN(auto daemon, StartTlsNode(data, Ca1("a"), {}));
  EXPECT_THAT(daemon->log(), HasSubstr("TLS on 127.0.0.1:"));
  // Verified against CA 1 and the address dialed (IP:127.0.0.1 in its SAN).
  EXPECT_OK(Call(*daemon, TlsChannelCredentials(Ca1("a").ca())));
  // No client certificate is asked for without --tls_client_ca, but one may
  // be presented.
  EXPECT_OK(Call(*daemon, Client(Ca1("a"), Ca1("b"))));
  EXPECT_THAT(Call(*daemon, grpc::InsecureChannelCredentials()),
              StatusIs(absl::StatusCode::kUnavailable));
  // A client that trusts another CA does not accept the server.
  EXPECT_THAT(Call(*daemon, TlsChannelCredentials(Ca2("a").ca())),
              StatusIs(absl::StatusCode::kUnavailable));
  // The name verified is the one dialed: "b" is not in a's certificate.
  grpc::ChannelArguments wrong_name;
  wrong_name.SetSslTargetNameOverride("b");
  EXPECT_THAT(Call(*daemon, TlsChannelCredentials(Ca1("a").ca()), wrong_name),
              StatusIs(absl::StatusCode::kUnavailable));
  grpc::ChannelArguments right_name;
  right_name.SetSslTargetNameOverride("a");
  EXPECT_OK(Call(*daemon, TlsChannelCredentials(Ca1("a").ca()), right_name));
  ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
  EXPECT_EQ(code, 0);
}

// Closed by default: with TLS, an address the network can reach needs no
// --insecure, and nothing warns.
// TLS and --auth=on make a network address acceptable without --insecure.
TEST_F(TlsTest, ANetworkAddressStartsWithTlsAndAuth) {
  TempDir data;
  DaemonOptions options;
  options.data_dir = data.path();
  options.listen = "0.0.0.0:0";
  options.extra_flags = {"--tls_cert=" + Ca1("a").cert(), "--tls_key=" + Ca1("a").key(),
                         "--auth=on"};
  ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Start(options));
  EXPECT_THAT(daemon->log(), Not(HasSubstr("--insecure")));
  grpc::ChannelArguments name;
  name.SetSslTargetNameOverride("localhost");
  DbClient db(grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", daemon->port()),
                                        TlsChannelCredentials(Ca1("a").ca()), name),
              kCallTimeout);
  // The handshake succeeded: the call is answered, and asks for credentials.
  EXPECT_THAT(db.ListTables(), StatusIs(absl::StatusCode::kUnauthenticated));
  db.Close();
  ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
  EXPECT_EQ(code, 0);
}

TEST_F(TlsTest, WithAClientCaAClientWithoutACertificateIsRefused) {
  TempDir data;
  ASSERT_OK_AND_ASSIGN(auto daemon, StartTlsNode(data, Ca1("a"), Mtls(Ca1("a").ca(), "", nullptr)));
  EXPECT_THAT(Call(*daemon, Client(Ca1("a"), {})), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(Call(*daemon, grpc::InsecureChannelCredentials()),
              StatusIs(absl::StatusCode::kUnavailable));
  // A certificate of another CA is no better than none.
  EXPECT_THAT(Call(*daemon, Client(Ca1("a"), Ca2("b"))), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_OK(Call(*daemon, Client(Ca1("a"), Ca1("b"))));
  ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
  EXPECT_EQ(code, 0);
}

TEST_F(TlsTest, AnExpiredCertificateIsRefused) {
  ASSERT_OK(MakeCertificates(ca1_.path(), {"old"}, Expired()));
  const NodeCerts old = Ca1("old");
  // Presented by a client to an mTLS server...
  TempDir data;
  ASSERT_OK_AND_ASSIGN(auto daemon, StartTlsNode(data, Ca1("a"), Mtls(Ca1("a").ca(), "", nullptr)));
  EXPECT_THAT(Call(*daemon, Client(Ca1("a"), old)), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_OK(Call(*daemon, Client(Ca1("a"), Ca1("b"))));
  ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
  EXPECT_EQ(code, 0);
  // ... and by a server to its clients.
  TempDir old_data;
  ASSERT_OK_AND_ASSIGN(auto old_daemon, StartTlsNode(old_data, old, {}));
  EXPECT_THAT(Call(*old_daemon, TlsChannelCredentials(old.ca())),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK_AND_ASSIGN(code, old_daemon->Stop());
  EXPECT_EQ(code, 0);
}

// Two nodes that require each other's client certificate and verify each
// other's server certificate: b dials a (--peer) and a write on a arrives
// on b.
TEST_F(TlsTest, TwoDaemonsReplicateOverMutualTls) {
  const TlsNodeOptions mtls = Mtls(Ca1("a").ca(), Ca1("a").ca(), Client(Ca1("a"), Ca1("b")));
  TempDir data_a;
  TempDir data_b;
  ASSERT_OK_AND_ASSIGN(auto a, StartTlsNode(data_a, Ca1("a"), mtls));
  TlsNodeOptions with_peer = mtls;
  with_peer.extra_flags = {"--peer=" + a->address()};
  ASSERT_OK_AND_ASSIGN(auto b, StartTlsNode(data_b, Ca1("b"), with_peer));
  EXPECT_THAT(b->log(), HasSubstr("peers dialed over TLS"));

  DbClient db_a(a->NewChannel());
  DbClient db_b(b->NewChannel());
  ASSERT_OK(db_a.CreateTable(TodoTable()));
  ASSERT_OK(db_a.Create("todos", {{"title", StringValue("over mTLS")}}, "t1"));
  absl::Status arrived = absl::NotFoundError("not yet");
  for (absl::Time end = absl::Now() + absl::Seconds(30); absl::Now() < end;
       absl::SleepFor(absl::Milliseconds(100))) {
    arrived = db_b.GetRecord("todos", "t1").status();
    if (arrived.ok()) break;
  }
  EXPECT_OK(arrived) << b->log();
  // A one-shot sync over the same credentials, the other way.
  ASSERT_OK_AND_ASSIGN(v1::SyncResponse sync, Sync(*a, b->address()));
  EXPECT_EQ(sync.peer_node_id(), b->node_id());
  db_a.Close();
  db_b.Close();
  ASSERT_OK_AND_ASSIGN(int code, b->Stop());
  EXPECT_EQ(code, 0);
  ASSERT_OK_AND_ASSIGN(code, a->Stop());
  EXPECT_EQ(code, 0);
}

// A peer whose certificate another CA signed cannot sync with a node that
// requires CA 1; nor can a peer that trusts only another CA accept the
// node's server certificate.
TEST_F(TlsTest, APeerWithACertificateOfAnotherCaIsRefused) {
  TempDir data_a;
  TempDir data_b;
  TempDir data_c;
  ASSERT_OK_AND_ASSIGN(
      auto a, StartTlsNode(data_a, Ca1("a"),
                           Mtls(Ca1("a").ca(), Ca1("a").ca(), Client(Ca1("a"), Ca1("b")))));
  // b: a certificate of CA 2, trusting CA 1 for the servers it dials.
  ASSERT_OK_AND_ASSIGN(
      auto b, StartTlsNode(data_b, Ca2("b"),
                           Mtls(Ca2("a").ca(), Ca1("a").ca(), Client(Ca2("a"), Ca2("a")))));
  EXPECT_THAT(Sync(*b, a->address()), StatusIs(absl::StatusCode::kUnavailable));
  // c: a certificate of CA 1 (which a accepts), trusting only CA 2.
  ASSERT_OK_AND_ASSIGN(
      auto c, StartTlsNode(data_c, Ca1("b"),
                           Mtls(Ca1("a").ca(), Ca2("a").ca(), Client(Ca1("a"), Ca1("a")))));
  EXPECT_THAT(Sync(*c, a->address()), StatusIs(absl::StatusCode::kUnavailable));
  // The other way: b wants a client certificate of CA 2, which a lacks; c
  // serves a CA 1 certificate and accepts a's, so that link works.
  EXPECT_THAT(Sync(*a, b->address()), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_OK(Sync(*a, c->address()));
  for (auto* d : {&c, &b, &a}) {
    ASSERT_OK_AND_ASSIGN(int code, (*d)->Stop());
    EXPECT_EQ(code, 0);
  }
}

// The operator replaces the certificate files of a live node; within
// --tls_reload_interval new connections get the new certificate: a client
// that trusts only the new CA connects, one that trusts only the old one no
// longer does. No restart.
TEST_F(TlsTest, ARotatedCertificateIsUsedForNewConnections) {
  TempDir live;
  const NodeCerts served{live.path(), "node"};
  std::filesystem::copy_file(Ca1("a").cert(), served.cert());
  std::filesystem::copy_file(Ca1("a").key(), served.key());
  TempDir data;
  ASSERT_OK_AND_ASSIGN(auto daemon, StartTlsNode(data, served, ReloadEverySecond()));
  const auto old_ca = TlsChannelCredentials(Ca1("a").ca());
  const auto new_ca = TlsChannelCredentials(Ca2("a").ca());
  ASSERT_OK(Call(*daemon, old_ca));
  ASSERT_THAT(Call(*daemon, new_ca), StatusIs(absl::StatusCode::kUnavailable));
  // A connection made before the rotation, kept open across it.
  DbClient before(daemon->NewChannel(old_ca), kCallTimeout);
  ASSERT_OK(before.ListTables());

  // Replace both files, each by a rename (as a deployment tool would).
  for (const auto& [from, to] :
       {std::pair{Ca2("a").key(), served.key()}, std::pair{Ca2("a").cert(), served.cert()}}) {
    std::filesystem::copy_file(from, to + ".new");
    std::filesystem::rename(to + ".new", to);
  }
  absl::Status rotated = absl::UnavailableError("not yet");
  for (absl::Time end = absl::Now() + absl::Seconds(20); absl::Now() < end;
       absl::SleepFor(absl::Milliseconds(200))) {
    rotated = Call(*daemon, new_ca);
    if (rotated.ok()) break;
  }
  EXPECT_OK(rotated) << daemon->log();
  EXPECT_THAT(Call(*daemon, old_ca), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_OK(before.ListTables());  // Live connections keep their session.
  EXPECT_TRUE(daemon->running());
  before.Close();
  ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
  EXPECT_EQ(code, 0);
}

// The client CA is watched the same way: replaced by another CA's, clients
// of the new CA get in and those of the old one no longer do.
TEST_F(TlsTest, ARotatedClientCaIsUsedForNewConnections) {
  TempDir live;
  const std::string client_ca = live.File("clients.pem");
  std::filesystem::copy_file(Ca1("a").ca(), client_ca);
  TlsNodeOptions options = Mtls(client_ca, "", nullptr);
  options.extra_flags = {"--tls_reload_interval=1s"};
  TempDir data;
  ASSERT_OK_AND_ASSIGN(auto daemon, StartTlsNode(data, Ca1("a"), options));
  ASSERT_OK(Call(*daemon, Client(Ca1("a"), Ca1("b"))));
  ASSERT_THAT(Call(*daemon, Client(Ca1("a"), Ca2("b"))), StatusIs(absl::StatusCode::kUnavailable));

  std::filesystem::copy_file(Ca2("a").ca(), client_ca + ".new");
  std::filesystem::rename(client_ca + ".new", client_ca);
  absl::Status rotated = absl::UnavailableError("not yet");
  for (absl::Time end = absl::Now() + absl::Seconds(20); absl::Now() < end;
       absl::SleepFor(absl::Milliseconds(200))) {
    rotated = Call(*daemon, Client(Ca1("a"), Ca2("b")));
    if (rotated.ok()) break;
  }
  EXPECT_OK(rotated) << daemon->log();
  EXPECT_THAT(Call(*daemon, Client(Ca1("a"), Ca1("b"))), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace recondb::testing
