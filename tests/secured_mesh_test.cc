// A secured mesh of real recondbd processes on loopback: every node serves
// TLS, requires client certificates (mTLS), dials its peers over TLS and runs
// with --auth=on and an --auth_file, written here, that maps the other
// nodes' certificate names to principals with pull and push grants.
// Certificates are made at test time by scripts/make-certs.sh; test clients
// present a certificate that maps to no principal and authenticate with a
// bearer token (the bootstrap admin's, or one the admin issued).
//
// Covered (docs/security.md, docs/replication-protocol.md "Version 3:
// grants"): a relay a - b - c where c may pull only todos from b, with c
// dialing b (b's accepting side enforces) and with b dialing c (b's dialing
// side maps c's server certificate to principal "c" and enforces); a peer
// pushing into a table it may not push; a dialed peer whose certificate maps
// to no principal; and the audit trail of a record written on a by a
// non-admin token, the same on every node after the relay.
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "recondb/v1/admin.grpc.pb.h"
#include "tests/support/auth_calls.h"
#include "tests/support/daemon_process.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certificates.h"
#include "tests/support/values.h"

namespace recondb::testing {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// How long replication gets to deliver something on loopback; only a bug
// waits this long.
constexpr absl::Duration kArrival = absl::Seconds(30);

// A principal of an --auth_file: `name`, authenticated by the certificate
// name `name` (make-certs.sh puts DNS:<node> in each node's certificate),
// with `permissions` on each table pattern of `grants`.
struct FilePrincipal {
  std::string name;
  // table pattern -> permissions ("PERMISSION_PULL", ...).
  std::vector<std::pair<std::string, std::vector<std::string>>> grants;
};

const std::vector<std::string> kPullPush = {"PERMISSION_PULL", "PERMISSION_PUSH"};

FilePrincipal Peer(std::string name, std::string pattern = "*",
                   std::vector<std::string> permissions = kPullPush) {
  return {std::move(name), {{std::move(pattern), std::move(permissions)}}};
}

std::string Quote(const std::string& s) { return absl::StrCat("\"", s, "\""); }

std::string AuthFileJson(const std::vector<FilePrincipal>& principals) {
  std::vector<std::string> entries;
  for (const FilePrincipal& p : principals) {
    std::vector<std::string> grants;
    for (const auto& [pattern, permissions] : p.grants) {
      std::vector<std::string> quoted;
      for (const std::string& perm : permissions) quoted.push_back(Quote(perm));
      grants.push_back(absl::StrCat("{\"table_pattern\": ", Quote(pattern), ", \"permissions\": [",
                                    absl::StrJoin(quoted, ", "), "]}"));
    }
    entries.push_back(absl::StrCat("  {\"name\": ", Quote(p.name), ", \"certificate_names\": [",
                                   Quote(p.name), "],\n   \"grants\": [",
                                   absl::StrJoin(grants, ", "), "]}"));
  }
  return absl::StrCat("{\"principals\": [\n", absl::StrJoin(entries, ",\n"), "\n]}\n");
}

v1::Table Notes(const std::string& name) { return TitleTable(name); }

// Polls `done` every 100 ms until it is true or `timeout` passed.
bool Eventually(const std::function<bool()>& done, absl::Duration timeout = kArrival) {
  for (const absl::Time end = absl::Now() + timeout;; absl::SleepFor(absl::Milliseconds(100))) {
    if (done()) return true;
    if (absl::Now() >= end) return false;
  }
}

// One node of the mesh: its certificate is <certs>/<name>.pem.
class SecuredNode {
 public:
  SecuredNode(std::string name, const std::filesystem::path& certs)
      : name_(std::move(name)), certs_(certs) {}

  // Starts recondbd with TLS, mTLS, TLS to its peers, --auth=on, an
  // --auth_file holding `principals` and a --peer flag per address of
  // `peers`; reads the bootstrap admin token.
  absl::Status Start(const std::vector<FilePrincipal>& principals,
                     const std::vector<std::string>& peers = {}) {
    const std::string auth_file = config_.File("auth-file.json");
    {
      std::ofstream out(auth_file);
      out << AuthFileJson(principals);
      if (!out) return absl::InternalError("cannot write " + auth_file);
    }
    DaemonOptions options;
    options.data_dir = data_.path();
    options.extra_flags = {
        "--tls_cert=" + Cert(name_),
        "--tls_key=" + Key(name_),
        "--tls_client_ca=" + Ca(),
        "--peer_tls_ca=" + Ca(),
        "--auth=on",
        "--auth_file=" + auth_file,
    };
    for (const std::string& peer : peers) options.extra_flags.push_back("--peer=" + peer);
    auto process = DaemonProcess::Start(std::move(options));
    if (!process.ok()) return process.status();
    process_ = *std::move(process);
    auto token = ReadTextFile(data_.path() / "admin.token");
    if (!token.ok()) return token.status();
    admin_token_ = std::string(absl::StripAsciiWhitespace(*token));
    return absl::OkStatus();
  }

  const std::string& name() const { return name_; }
  DaemonProcess& process() { return *process_; }
  const std::string& address() const { return process_->address(); }
  const std::string& node_id() const { return process_->node_id(); }
  const std::string& admin_token() const { return admin_token_; }

  // mTLS with the test client's certificate (which maps to no principal
  // here) and `token` as bearer token on every call.
  std::shared_ptr<grpc::ChannelCredentials> Credentials(const std::string& token) const {
    return grpc::CompositeChannelCredentials(
        TlsChannelCredentials(Ca(), Cert("client"), Key("client")),
        grpc::AccessTokenCredentials(token));
  }
  std::unique_ptr<DbClient> Db(const std::string& token) const {
    return std::make_unique<DbClient>(process_->NewChannel(Credentials(token)));
  }
  std::unique_ptr<DbClient> AdminDb() const { return Db(admin_token_); }
  std::unique_ptr<v1::Admin::Stub> Admin() const {
    return v1::Admin::NewStub(process_->NewChannel(Credentials(admin_token_)));
  }

  absl::StatusOr<std::vector<v1::Peer>> ListPeers() const {
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    v1::ListPeersResponse response;
    grpc::Status s = Admin()->ListPeers(&ctx, v1::ListPeersRequest(), &response);
    if (!s.ok()) return ToAbslStatus(s);
    return std::vector<v1::Peer>(response.peers().begin(), response.peers().end());
  }

  // The peer of ListPeers whose node id is `node_id` (or, if `node_id` is
  // empty, whose address is `address`).
  absl::StatusOr<v1::Peer> FindPeer(const std::string& node_id,
                                    const std::string& address = "") const {
    auto peers = ListPeers();
    if (!peers.ok()) return peers.status();
    for (const v1::Peer& p : *peers) {
      if (!node_id.empty() && p.node_id() == node_id) return p;
      if (node_id.empty() && p.address() == address) return p;
    }
    return absl::NotFoundError(absl::StrCat("no peer ", node_id, address));
  }

  // Admin.AddPeer: this node dials `address` from now on.
  absl::Status AddPeer(const std::string& address) const {
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    v1::AddPeerRequest request;
    request.set_address(address);
    v1::Peer peer;
    return ToAbslStatus(Admin()->AddPeer(&ctx, request, &peer));
  }

  // A principal created by the admin with `permissions` on every table, and
  // a token issued for it.
  absl::StatusOr<std::string> MakeClientPrincipal(const std::string& principal,
                                                  const std::vector<v1::Permission>& permissions) {
    // The admin's token is in the stub's channel credentials.
    const std::string token = MakePrincipal(*Admin(), "", principal, permissions, "*");
    if (token.empty()) return absl::InternalError("cannot make principal " + principal);
    return token;
  }

  // The record's presence as the admin sees it.
  bool Has(const std::string& table, const std::string& id) const {
    return AdminDb()->GetRecord(table, id).ok();
  }

  // Asserts that this node knows nothing of `table`: no definition, no
  // records, nothing in its change feed.
  void ExpectNoTable(const std::string& table) const {
    auto db = AdminDb();
    EXPECT_THAT(db->GetTable(table), StatusIs(absl::StatusCode::kNotFound)) << name_;
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Table> tables, db->ListTables());
    for (const v1::Table& t : tables) EXPECT_NE(t.name(), table) << name_;
    v1::ListRecordsRequest list;
    list.set_table(table);
    auto records = db->ListRecords(list);
    if (records.ok()) {
      EXPECT_THAT(records->records(), IsEmpty()) << name_;
    } else {
      EXPECT_THAT(records.status(), StatusIs(absl::StatusCode::kNotFound)) << name_;
    }
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> changes, db->GetChanges(0));
    for (const v1::Change& change : changes) {
      EXPECT_NE(change.table(), table) << name_ << ": " << change.ShortDebugString();
    }
  }

  // SIGTERM and the exit code, 0 expected.
  void Stop() {
    if (process_ == nullptr) return;
    auto code = process_->Stop();
    EXPECT_THAT(code, IsOk()) << name_;
    if (code.ok()) {
      EXPECT_EQ(*code, 0) << name_ << "\n" << process_->log();
    }
  }

  std::string log() const { return process_ == nullptr ? "" : process_->log(); }

 private:
  std::string Cert(const std::string& who) const { return (certs_ / (who + ".pem")).string(); }
  std::string Key(const std::string& who) const { return (certs_ / (who + ".key")).string(); }
  std::string Ca() const { return (certs_ / "ca.pem").string(); }

  std::string name_;
  std::filesystem::path certs_;
  TempDir data_;
  TempDir config_;
  std::unique_ptr<DaemonProcess> process_;
  std::string admin_token_;
};

std::string Describe(const absl::StatusOr<std::vector<v1::Peer>>& peers) {
  if (!peers.ok()) return peers.status().ToString();
  std::string out;
  for (const v1::Peer& p : *peers) absl::StrAppend(&out, p.ShortDebugString(), "\n");
  return out;
}

class SecuredMeshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(MakeCertificates(certs_.path(), {"a", "b", "c", "p", "d", "e", "client"}));
  }

  // Stops the nodes in reverse order of start (each by its PID).
  void TearDown() override {
    for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
      if (HasFailure()) {
        ADD_FAILURE() << "log of " << (*it)->name() << ":\n" << (*it)->log();
      }
      (*it)->Stop();
    }
  }

  SecuredNode& Node(const std::string& name) {
    nodes_.push_back(std::make_unique<SecuredNode>(name, certs_.path()));
    return *nodes_.back();
  }

  // The tables todos and cases, created on `node` by its admin.
  static void CreateTables(SecuredNode& node) {
    auto db = node.AdminDb();
    ASSERT_OK(db->CreateTable(Notes("todos")));
    ASSERT_OK(db->CreateTable(Notes("cases")));
  }

  static void Write(SecuredNode& node, const std::string& table, const std::string& id) {
    ASSERT_OK(node.AdminDb()->Create(table, {{"title", StringValue(table + " " + id)}}, id));
  }

  // The relay a - b - c over mTLS where b's principal "c" may pull and push
  // only todos; `c_dials_b` picks who dials that link (a is dialed by b).
  void RelayWithCRestrictedToTodos(bool c_dials_b) {
    SecuredNode& a = Node("a");
    ASSERT_OK(a.Start({Peer("b")}));
    SecuredNode& c = Node("c");
    SecuredNode& b = Node("b");
    const std::vector<FilePrincipal> b_principals = {Peer("a"), {"c", {{"todos", kPullPush}}}};
    if (c_dials_b) {
      ASSERT_OK(b.Start(b_principals, {a.address()}));
      ASSERT_OK(c.Start({Peer("b")}, {b.address()}));
    } else {
      ASSERT_OK(c.Start({Peer("b")}));
      ASSERT_OK(b.Start(b_principals, {a.address(), c.address()}));
    }
    CreateTables(a);
    // cases first, and seen on b, then todos: once the todo is on c, b's
    // feed has passed cases towards c.
    Write(a, "cases", "k1");
    EXPECT_TRUE(Eventually([&] { return b.Has("cases", "k1"); })) << Describe(b.ListPeers());
    Write(a, "todos", "t1");
    EXPECT_TRUE(Eventually([&] { return b.Has("todos", "t1"); })) << Describe(b.ListPeers());
    EXPECT_TRUE(Eventually([&] { return c.Has("todos", "t1"); }))
        << "b: " << Describe(b.ListPeers()) << "c: " << Describe(c.ListPeers());
    c.ExpectNoTable("cases");
    // b says what it withholds from c, on the link it lists c under.
    ASSERT_OK_AND_ASSIGN(v1::Peer c_at_b, b.FindPeer(c.node_id()));
    EXPECT_EQ(c_at_b.grants().principal(), "c");
    EXPECT_EQ(c_at_b.origin(), c_dials_b ? v1::PEER_ORIGIN_ACCEPTED : v1::PEER_ORIGIN_CONFIGURED);
    EXPECT_THAT(b.log(), HasSubstr("withholding tables cases"));
    // Later writes keep the split.
    Write(a, "cases", "k2");
    EXPECT_TRUE(Eventually([&] { return b.Has("cases", "k2"); }));
    Write(a, "todos", "t2");
    EXPECT_TRUE(Eventually([&] { return c.Has("todos", "t2"); })) << Describe(c.ListPeers());
    c.ExpectNoTable("cases");
    // And a todo written on c goes back to a.
    Write(c, "todos", "from-c");
    EXPECT_TRUE(Eventually([&] { return a.Has("todos", "from-c"); })) << Describe(b.ListPeers());
  }

  TempDir certs_;
  std::vector<std::unique_ptr<SecuredNode>> nodes_;
};

TEST_F(SecuredMeshTest, RelayWhereCDialsBAndMayPullOnlyTodos) {
  RelayWithCRestrictedToTodos(/*c_dials_b=*/true);
}

TEST_F(SecuredMeshTest, RelayWhereBDialsCAndMapsItsCertificateToPrincipalC) {
  RelayWithCRestrictedToTodos(/*c_dials_b=*/false);
}

// p dials b; b's principal "p" may pull and push only todos. b knows cases
// (its admin created it), so it tells p at the handshake that it refuses it,
// and p leaves it out: todos arrive, cases never does.
TEST_F(SecuredMeshTest, APeerPushingATableItMayNotPushIsRefusedThatTable) {
  SecuredNode& b = Node("b");
  ASSERT_OK(b.Start({{"p", {{"todos", kPullPush}}}}));
  CreateTables(b);
  // p's tables and records exist before it dials b (b's todos would
  // otherwise reach p first).
  SecuredNode& p = Node("p");
  ASSERT_OK(p.Start({Peer("b")}));
  CreateTables(p);
  Write(p, "cases", "k1");
  Write(p, "todos", "t1");
  ASSERT_OK(p.AddPeer(b.address()));
  EXPECT_TRUE(Eventually([&] { return b.Has("todos", "t1"); })) << Describe(b.ListPeers());
  // Written after cases/k1: once it is on b, p's feed has passed k1.
  Write(p, "todos", "t2");
  EXPECT_TRUE(Eventually([&] { return b.Has("todos", "t2"); })) << Describe(b.ListPeers());
  EXPECT_FALSE(b.Has("cases", "k1"));
  {
    auto db = b.AdminDb();
    v1::ListRecordsRequest list;
    list.set_table("cases");
    ASSERT_OK_AND_ASSIGN(v1::ListRecordsResponse cases, db->ListRecords(list));
    EXPECT_THAT(cases.records(), IsEmpty());
  }
  ASSERT_OK_AND_ASSIGN(v1::Peer p_at_b, b.FindPeer(p.node_id()));
  EXPECT_EQ(p_at_b.origin(), v1::PEER_ORIGIN_ACCEPTED);
  EXPECT_EQ(p_at_b.grants().principal(), "p");
  EXPECT_THAT(p_at_b.grants().refused_from_peer(), Contains("cases"));
  EXPECT_THAT(p_at_b.grants().withheld_from_peer(), Contains("cases"));
  EXPECT_THAT(b.log(), HasSubstr("refusing tables cases"));
  // p was told.
  ASSERT_OK_AND_ASSIGN(v1::Peer b_at_p, p.FindPeer(b.node_id()));
  EXPECT_THAT(b_at_p.grants().refused_by_peer(), Contains("cases"));
}

// p dials b, which has never heard of cases: b cannot say at the handshake
// that it refuses it, so p's first page holding cases is refused whole
// (PERMISSION_DENIED naming the table) and nothing of cases is written on b.
TEST_F(SecuredMeshTest, APushIntoATableTheReceiverDoesNotKnowIsRefusedNamingIt) {
  SecuredNode& b = Node("b");
  ASSERT_OK(b.Start({{"p", {{"todos", kPullPush}}}}));
  // p's tables and records exist before it dials b (b's todos would
  // otherwise reach p first).
  SecuredNode& p = Node("p");
  ASSERT_OK(p.Start({Peer("b")}));
  CreateTables(p);
  Write(p, "cases", "k1");
  Write(p, "todos", "t1");
  ASSERT_OK(p.AddPeer(b.address()));
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains(b.log(), "may not push table \"cases\"");
  })) << b.log();
  EXPECT_TRUE(Eventually([&] {
    auto peer = p.FindPeer("", b.address());
    return peer.ok() && absl::StrContains(peer->last_error(), "cases");
  })) << Describe(p.ListPeers());
  b.ExpectNoTable("cases");
}

// d dials e, whose certificate ("e") maps to no principal at d: d refuses
// the link before it sends anything (not even its Hello), nothing is
// exchanged either way, and d's ListPeers says why.
TEST_F(SecuredMeshTest, ADialedPeerWhoseCertificateMapsToNoPrincipalGetsNothing) {
  SecuredNode& e = Node("e");
  ASSERT_OK(e.Start({Peer("d")}));
  CreateTables(e);
  Write(e, "todos", "from-e");
  SecuredNode& d = Node("d");
  ASSERT_OK(d.Start({Peer("someone-else")}, {e.address()}));
  {
    auto db = d.AdminDb();
    ASSERT_OK(db->CreateTable(Notes("drafts")));
  }
  Write(d, "drafts", "from-d");
  absl::StatusOr<v1::Peer> e_at_d;
  EXPECT_TRUE(Eventually([&] {
    e_at_d = d.FindPeer("", e.address());
    return e_at_d.ok() && !e_at_d->last_error().empty();
  })) << Describe(d.ListPeers());
  ASSERT_OK(e_at_d.status());
  EXPECT_FALSE(e_at_d->connected());
  EXPECT_THAT(e_at_d->last_error(), AllOf(HasSubstr("PERMISSION_DENIED"),
                                          HasSubstr("maps to no principal"), HasSubstr("\"e")));
  EXPECT_THAT(d.log(), HasSubstr("maps to no principal"));
  // A few more attempts' time: still nothing.
  absl::SleepFor(absl::Seconds(2));
  d.ExpectNoTable("todos");
  e.ExpectNoTable("drafts");
  // d refuses before it writes anything: e never got d's Hello (its node
  // id, incarnation, feed end), so it lists no peer at all.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Peer> at_e, e.ListPeers());
  EXPECT_THAT(at_e, IsEmpty()) << Describe(at_e) << e.log();
  EXPECT_THAT(e.log(), Not(HasSubstr(d.node_id())));
}

// The dialer judges the peer's certificate only once connected: a peer that
// cannot be reached is UNAVAILABLE (the transport's reason), not a
// certificate that maps to no principal; a peer reached in plaintext by a
// node with --auth=on has no verified certificate, and maps to no principal.
TEST_F(SecuredMeshTest, AnUnreachablePeerIsUnavailableAndAPlaintextOneMapsToNoPrincipal) {
  SecuredNode& d = Node("d");
  TempDir closed;
  // A port nobody listens on: one a daemon had, after it stopped.
  std::string gone;
  {
    DaemonOptions options;
    options.data_dir = closed.path();
    ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Start(options));
    gone = daemon->address();
    ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
    EXPECT_EQ(code, 0);
  }
  ASSERT_OK(d.Start({Peer("e")}, {gone}));
  absl::StatusOr<v1::Peer> peer;
  EXPECT_TRUE(Eventually([&] {
    peer = d.FindPeer("", gone);
    return peer.ok() && !peer->last_error().empty();
  })) << Describe(d.ListPeers());
  ASSERT_OK(peer.status());
  EXPECT_THAT(peer->last_error(), AllOf(HasSubstr("UNAVAILABLE"), Not(HasSubstr("principal"))));

  // Plaintext both ways: a plain daemon, dialed by one with --auth=on.
  TempDir plain_data;
  DaemonOptions plain_options;
  plain_options.data_dir = plain_data.path();
  ASSERT_OK_AND_ASSIGN(auto plain, DaemonProcess::Start(plain_options));
  TempDir dialer_data;
  DaemonOptions dialer_options;
  dialer_options.data_dir = dialer_data.path();
  dialer_options.extra_flags = {"--auth=on", "--peer=" + plain->address()};
  ASSERT_OK_AND_ASSIGN(auto dialer, DaemonProcess::Start(dialer_options));
  ASSERT_OK_AND_ASSIGN(std::string token, ReadTextFile(dialer_data.path() / "admin.token"));
  // gRPC sends call credentials only over TLS: the token as metadata.
  const std::string bearer = absl::StrCat("Bearer ", absl::StripAsciiWhitespace(token));
  auto admin = v1::Admin::NewStub(dialer->NewChannel());
  std::string last_error;
  EXPECT_TRUE(Eventually([&] {
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    ctx.AddMetadata("authorization", bearer);
    v1::ListPeersResponse response;
    if (!admin->ListPeers(&ctx, v1::ListPeersRequest(), &response).ok()) return false;
    if (response.peers_size() != 1) return false;
    last_error = response.peers(0).last_error();
    return !last_error.empty();
  })) << dialer->log();
  EXPECT_THAT(last_error, AllOf(HasSubstr("PERMISSION_DENIED"), HasSubstr("(none verified)"),
                                HasSubstr("maps to no principal")));
  admin.reset();
  for (auto* daemon : {&dialer, &plain}) {
    ASSERT_OK_AND_ASSIGN(int code, (*daemon)->Stop());
    EXPECT_EQ(code, 0);
  }
}

// A todo written on a by a non-admin principal's token, relayed a -> b -> c:
// every node's GetRecordHistory names that principal, a's node id and the
// same create time.
TEST_F(SecuredMeshTest, TheAuditTrailOfARelayedWriteIsTheSameOnEveryNode) {
  SecuredNode& a = Node("a");
  ASSERT_OK(a.Start({Peer("b")}));
  SecuredNode& b = Node("b");
  ASSERT_OK(b.Start({Peer("a"), {"c", {{"todos", kPullPush}}}}, {a.address()}));
  SecuredNode& c = Node("c");
  ASSERT_OK(c.Start({Peer("b")}, {b.address()}));
  CreateTables(a);
  ASSERT_OK_AND_ASSIGN(
      const std::string writer_token,
      a.MakeClientPrincipal("writer", {v1::PERMISSION_READ, v1::PERMISSION_WRITE}));
  const absl::Time before = absl::Now();
  {
    auto db = a.Db(writer_token);
    ASSERT_OK(db->Create("todos", {{"title", StringValue("audited")}}, "t1"));
  }
  const absl::Time after = absl::Now();
  EXPECT_TRUE(Eventually([&] { return c.Has("todos", "t1"); }))
      << "b: " << Describe(b.ListPeers()) << "c: " << Describe(c.ListPeers());

  ASSERT_OK_AND_ASSIGN(v1::GetRecordHistoryResponse on_a,
                       a.Db(writer_token)->GetRecordHistory("todos", "t1"));
  ASSERT_EQ(on_a.entries_size(), 1);
  const v1::HistoryEntry& made = on_a.entries(0);
  EXPECT_EQ(made.author(), "writer");
  EXPECT_EQ(made.origin_node(), a.node_id());
  const int64_t created = TimeUtil::TimestampToMicroseconds(made.create_time());
  EXPECT_LE(absl::ToUnixMicros(before), created);
  EXPECT_LE(created, absl::ToUnixMicros(after));
  for (SecuredNode* node : {&b, &c}) {
    ASSERT_OK_AND_ASSIGN(v1::GetRecordHistoryResponse history,
                         node->AdminDb()->GetRecordHistory("todos", "t1"));
    ASSERT_EQ(history.entries_size(), 1) << node->name();
    const v1::HistoryEntry& entry = history.entries(0);
    EXPECT_EQ(entry.record().revision(), made.record().revision()) << node->name();
    EXPECT_EQ(entry.author(), "writer") << node->name();
    EXPECT_EQ(entry.origin_node(), a.node_id()) << node->name();
    EXPECT_EQ(TimeUtil::TimestampToMicroseconds(entry.create_time()), created) << node->name();
  }
}

}  // namespace
}  // namespace recondb::testing
