// The whole daemon in-process: start, health, data directory lock, port
// conflicts, restart, and the shutdown of follow streams.
#include "daemon/daemon.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "common/null_logger.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/impl/rpc_method.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/sync_stream.h"
#include "gtest/gtest.h"
#include "recondb/v1/database.grpc.pb.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::daemon {
namespace {

using ::recondb::testing::StatusIs;
using ::recondb::testing::TempDir;
using ::testing::HasSubstr;

constexpr auto kDeadline = std::chrono::seconds(30);

Config MemoryConfig() {
  Config config;
  config.listen = "127.0.0.1:0";
  config.storage = StorageKind::kMemory;
  config.worker_threads = 2;
  return config;
}

Config SqliteConfig(const TempDir& dir) {
  Config config;
  config.listen = "127.0.0.1:0";
  config.storage = StorageKind::kSqlite;
  config.data_dir = dir.File("data");
  config.durability = storage::Durability::kNormal;
  config.worker_threads = 2;
  return config;
}

v1::Table TodosTable() {
  v1::Table table;
  table.set_name("todos");
  v1::Column* title = table.add_columns();
  title->set_name("title");
  title->set_type(v1::COLUMN_TYPE_STRING);
  return table;
}

std::shared_ptr<grpc::Channel> Connect(const Daemon& daemon) {
  return grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials());
}

// grpc.health.v1.Health/Check without generated service stubs.
grpc::Status CheckHealth(grpc::Channel* channel, const std::string& service,
                         grpc::health::v1::HealthCheckResponse* response) {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kDeadline);
  static const grpc::internal::RpcMethod kCheck("/grpc.health.v1.Health/Check",
                                                grpc::internal::RpcMethod::NORMAL_RPC);
  return grpc::internal::BlockingUnaryCall(channel, kCheck, &context, request, response);
}

TEST(DaemonTest, ServesOnAFreePortAndReportsServing) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Daemon> daemon, Daemon::Start(MemoryConfig(), NullLogger()));
  EXPECT_GT(daemon->port(), 0);
  EXPECT_EQ(daemon->address(), "127.0.0.1:" + std::to_string(daemon->port()));
  auto channel = Connect(*daemon);
  for (const std::string service : {"", "recondb.v1.Database"}) {
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = CheckHealth(channel.get(), service, &response);
    ASSERT_TRUE(status.ok()) << service << ": " << status.error_message();
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }
  daemon->Shutdown();
  daemon->Shutdown();  // Idempotent.
}

TEST(DaemonTest, SecondDaemonOnTheSameDataDirectoryFails) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Daemon> first,
                       Daemon::Start(SqliteConfig(dir), NullLogger()));
  EXPECT_THAT(
      Daemon::Start(SqliteConfig(dir), NullLogger()),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("data directory " + dir.File("data") + " is locked by another recondbd")));
}

TEST(DaemonTest, SecondDaemonOnTheSamePortFails) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Daemon> first, Daemon::Start(MemoryConfig(), NullLogger()));
  Config config = MemoryConfig();
  config.listen = first->address();
  EXPECT_THAT(Daemon::Start(config, NullLogger()),
              StatusIs(absl::StatusCode::kUnavailable,
                       "cannot listen on " + first->address() +
                           ": address already in use (is another recondbd running?)"));
}

// Issue 15: a start that failed on a port in use left an empty data
// directory behind.
TEST(DaemonTest, AStartThatCannotListenCreatesNoDataDirectory) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Daemon> first, Daemon::Start(MemoryConfig(), NullLogger()));
  TempDir dir;
  Config config = SqliteConfig(dir);
  config.data_dir = dir.File("new/data");
  config.listen = first->address();
  EXPECT_THAT(Daemon::Start(config, NullLogger()), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_FALSE(std::filesystem::exists(dir.File("new")));
}

// A failure after the store is open (here: the Unix socket path is a
// regular file) removes the data directory that start created...
TEST(DaemonTest, AStartThatFailsLateRemovesTheDataDirectoryItCreated) {
  TempDir dir;
  std::ofstream(dir.File("not-a-socket")) << "x";
  Config config = SqliteConfig(dir);
  config.data_dir = dir.File("new/data");
  config.listen = "unix:" + dir.File("not-a-socket");
  EXPECT_THAT(Daemon::Start(config, NullLogger()), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_FALSE(std::filesystem::exists(dir.File("new")));
  EXPECT_TRUE(std::filesystem::exists(dir.File("not-a-socket")));
}

// ... but leaves one that existed as it was, with its store.
TEST(DaemonTest, AStartThatFailsLeavesAnExistingDataDirectoryWithItsStore) {
  TempDir dir;
  std::string node_id;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Daemon> daemon,
                         Daemon::Start(SqliteConfig(dir), NullLogger()));
    node_id = daemon->engine().node_id();
    ASSERT_OK(daemon->engine().CreateTable(TodosTable()).status());
  }
  std::ofstream(dir.File("not-a-socket")) << "x";
  Config config = SqliteConfig(dir);
  config.listen = "unix:" + dir.File("not-a-socket");
  EXPECT_THAT(Daemon::Start(config, NullLogger()), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Daemon> daemon,
                       Daemon::Start(SqliteConfig(dir), NullLogger()));
  EXPECT_EQ(daemon->engine().node_id(), node_id);
  EXPECT_OK(daemon->engine().GetTable("todos").status());
}

TEST(DaemonTest, RestartKeepsTheNodeIdAndTheData) {
  TempDir dir;
  std::string node_id;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Daemon> daemon,
                         Daemon::Start(SqliteConfig(dir), NullLogger()));
    node_id = daemon->engine().node_id();
    ASSERT_OK(daemon->engine().CreateTable(TodosTable()).status());
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Daemon> daemon,
                       Daemon::Start(SqliteConfig(dir), NullLogger()));
  EXPECT_EQ(daemon->engine().node_id(), node_id);
  EXPECT_OK(daemon->engine().GetTable("todos").status());
}

TEST(DaemonTest, ShutdownEndsOpenFollowStreams) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Daemon> daemon, Daemon::Start(MemoryConfig(), NullLogger()));
  ASSERT_OK(daemon->engine().CreateTable(TodosTable()).status());

  auto stub = v1::Database::NewStub(Connect(*daemon));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kDeadline);
  v1::GetChangesRequest request;
  request.set_follow(true);
  auto reader = stub->GetChanges(&context, request);
  v1::Change change;
  ASSERT_TRUE(reader->Read(&change));  // Open and caught up.

  daemon->Shutdown();  // Would wait kShutdownGrace if the stream stayed open.
  EXPECT_FALSE(reader->Read(&change));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "server shutting down");
}

TEST(DaemonTest, HealthWatchersSeeNotServingAtShutdown) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Daemon> daemon, Daemon::Start(MemoryConfig(), NullLogger()));
  auto channel = Connect(*daemon);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kDeadline);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("recondb.v1.Database");
  static const grpc::internal::RpcMethod kWatch("/grpc.health.v1.Health/Watch",
                                                grpc::internal::RpcMethod::SERVER_STREAMING);
  std::unique_ptr<grpc::ClientReader<grpc::health::v1::HealthCheckResponse>> reader(
      grpc::internal::ClientReaderFactory<grpc::health::v1::HealthCheckResponse>::Create(
          channel.get(), kWatch, &context, request));
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  std::thread stopper([&] { daemon->Shutdown(); });
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  // The default health service keeps Watch streams open until the server's
  // grace period ends; a client that saw NOT_SERVING goes away, as this one.
  context.TryCancel();
  while (reader->Read(&response)) {
  }
  EXPECT_FALSE(reader->Finish().ok());
  stopper.join();
}

}  // namespace
}  // namespace recondb::daemon
