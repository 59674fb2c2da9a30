// A real recondbd holds its port: per-principal stream limits over
// GetChanges and Replicate (--max_streams_per_principal), and, with
// --auth=off, replication that stays allowed as before grants. The grant
// semantics themselves (withheld pulls, refused pushes, node ids bound to
// principals) are tested in-process in reconciler/grants_test.cc and
// against the Authorizer in daemon/replication_access_test.cc.
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "recondb/v1/database.grpc.pb.h"
#include "recondb/v1/replication.grpc.pb.h"
#include "tests/support/daemon_process.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// One open GetChanges follow stream that has received its first change
// (so the daemon has admitted it).
struct FollowStream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::Change>> reader;
};

// Opens a follow stream from 0; OK once a change arrived, else the call's
// status.
absl::Status OpenFollow(v1::Database::Stub& stub, FollowStream& s) {
  SetDeadline(&s.context, absl::Seconds(30));
  v1::GetChangesRequest request;
  request.set_follow(true);
  s.reader = stub.GetChanges(&s.context, request);
  v1::Change change;
  if (s.reader->Read(&change)) return absl::OkStatus();
  return ToAbslStatus(s.reader->Finish());
}

// A raw Replicate call: the status the daemon ends it with if it does so
// before answering a Hello, or OK if it answers.
absl::Status ReplicateOnce(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::Replication::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(10));
  auto stream = stub->Replicate(&context);
  v1::ReplicateMessage hello;
  hello.mutable_hello()->set_node_id("raw-client");
  hello.mutable_hello()->set_protocol_version(1);
  hello.mutable_hello()->set_mode(v1::SESSION_MODE_ONE_SHOT);
  stream->Write(hello);
  v1::ReplicateMessage answer;
  if (stream->Read(&answer) && answer.has_hello()) {
    context.TryCancel();
    stream->Finish();
    return absl::OkStatus();
  }
  return ToAbslStatus(stream->Finish());
}

class StreamLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DaemonOptions options;
    options.data_dir = dir_.path();
    options.extra_flags = {"--max_streams_per_principal=2"};
    auto daemon = DaemonProcess::Start(options);
    ASSERT_THAT(daemon, IsOk());
    daemon_ = *std::move(daemon);
    DbClient db(daemon_->NewChannel());
    ASSERT_THAT(db.CreateTable(TodoTable()), IsOk());
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(StreamLimitTest, AThirdStreamOfOneCallerIsRefusedNamingThePrincipalAndTheLimit) {
  auto channel = daemon_->NewChannel();
  auto stub = v1::Database::NewStub(channel);
  FollowStream first, second, third;
  ASSERT_THAT(OpenFollow(*stub, first), IsOk());
  ASSERT_THAT(OpenFollow(*stub, second), IsOk());
  // With --auth=off every caller is "anonymous": counted by its host.
  EXPECT_THAT(OpenFollow(*stub, third),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("principal \"anonymous@ipv4:127.0.0.1\""),
                             HasSubstr("--max_streams_per_principal=2"))));
  // Replicate streams count against the same limit.
  EXPECT_THAT(ReplicateOnce(channel), StatusIs(absl::StatusCode::kResourceExhausted,
                                               HasSubstr("max_streams_per_principal")));
  // A stream that ends frees its place (once the daemon is done with it).
  first.context.TryCancel();
  first.reader->Finish();
  absl::Status again = absl::UnknownError("not tried");
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::vector<std::unique_ptr<FollowStream>> tries;
  while (absl::Now() < deadline) {
    tries.push_back(std::make_unique<FollowStream>());
    again = OpenFollow(*stub, *tries.back());
    if (again.ok()) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(again, IsOk());
  second.context.TryCancel();
  second.reader->Finish();
  if (again.ok()) {
    tries.back()->context.TryCancel();
    tries.back()->reader->Finish();
  }
}

TEST_F(StreamLimitTest, WithAuthOffAReplicateCallIsAnsweredAsBefore) {
  EXPECT_THAT(ReplicateOnce(daemon_->NewChannel()), IsOk());
}

}  // namespace
}  // namespace recondb::testing
