// A small synchronous client of recondb.v1.Database for tests: every call has
// a deadline and answers absl::Status / absl::StatusOr, so the status
// matchers of tests/support/status_matchers.h apply to gRPC results:
//
//   DbClient db(daemon->NewChannel());
//   EXPECT_THAT(db.GetTable("nope"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
//
// Plus builders of records and of the todo table of DESIGN.md's worked
// example; the Value builders of tests/support/values.h come with it.
#ifndef RECONDB_TESTS_SUPPORT_DB_CLIENT_H_
#define RECONDB_TESTS_SUPPORT_DB_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "recondb/v1/database.grpc.pb.h"
#include "recondb/v1/types.pb.h"
#include "tests/support/values.h"

namespace recondb::testing {

// gRPC status -> absl::Status (the codes have the same numbers).
absl::Status ToAbslStatus(const grpc::Status& status);

// Sets a deadline `timeout` from now on `ctx`.
void SetDeadline(grpc::ClientContext* ctx, absl::Duration timeout = absl::Seconds(10));

using Attributes = std::map<std::string, v1::Value>;

// A Record with table, id (may be empty), revision (may be empty) and
// attributes.
v1::Record MakeRecord(std::string_view table, std::string_view id, std::string_view revision,
                      const Attributes& attributes);

// The todo table of DESIGN.md: title (string, not null, max 80), description
// (string, nullable, max 120), completed (bool, default false), deadline_at
// (timestamp, nullable).
v1::Table TodoTable(std::string_view name = "todos");

// "<generation>-<32 lowercase hex>" parsed loosely: the generation, or -1.
int64_t GenerationOf(std::string_view revision);

// RE2-free checks of the id and revision shapes.
bool IsRevision(std::string_view revision);
bool IsUuidV7(std::string_view id);

class DbClient {
 public:
  explicit DbClient(std::shared_ptr<grpc::Channel> channel,
                    absl::Duration timeout = absl::Seconds(10));

  v1::Database::Stub* stub() { return stub_.get(); }

  // Drops the stub and with it (if nothing else holds it) the channel and
  // its connection. A server that is asked to stop while clients keep idle
  // connections open waits for them (gRPC's graceful GOAWAY: about 5 s), so
  // tests close their clients before stopping a daemon. No call may be made
  // after Close().
  void Close() { stub_.reset(); }

  absl::StatusOr<v1::Table> CreateTable(const v1::Table& table);
  absl::StatusOr<v1::Table> GetTable(std::string_view name);
  absl::StatusOr<std::vector<v1::Table>> ListTables();

  // `mask`: nullopt = no update_mask; otherwise its paths (possibly none).
  absl::StatusOr<v1::Record> PutRecord(const v1::Record& record,
                                       std::optional<std::vector<std::string>> mask = std::nullopt);
  // Creates a record (no revision) in `table` with `id` (may be empty).
  absl::StatusOr<v1::Record> Create(std::string_view table, const Attributes& attributes,
                                    std::string_view id = "");
  absl::StatusOr<v1::Record> GetRecord(std::string_view table, std::string_view id,
                                       std::string_view revision = "",
                                       bool include_conflicts = false);
  absl::StatusOr<v1::Record> DeleteRecord(std::string_view table, std::string_view id,
                                          std::string_view revision = "");
  absl::StatusOr<v1::ListRecordsResponse> ListRecords(const v1::ListRecordsRequest& request);
  // Every page of `request` (its page_token is ignored), in order. Fails
  // with INTERNAL if it takes more than `max_pages` pages.
  absl::StatusOr<std::vector<v1::Record>> ListAll(v1::ListRecordsRequest request,
                                                  int max_pages = 1000);
  absl::StatusOr<v1::GetRecordHistoryResponse> GetRecordHistory(std::string_view table,
                                                                std::string_view id);
  // Non-follow GetChanges: everything after `since`.
  absl::StatusOr<std::vector<v1::Change>> GetChanges(int64_t since,
                                                     const std::vector<std::string>& tables = {});
  // The highest seq of the change feed (0 if empty), through GetChanges.
  absl::StatusOr<int64_t> LastSeq();

 private:
  std::unique_ptr<v1::Database::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace recondb::testing

#endif  // RECONDB_TESTS_SUPPORT_DB_CLIENT_H_
