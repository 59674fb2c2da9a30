// The read operations of the SQLite backend, shared by its read and write
// transactions: each runs cached statements on one session's connection,
// inside the transaction that the caller opened.
#ifndef RECONDB_STORAGE_INTERNAL_SQLITE_READER_H_
#define RECONDB_STORAGE_INTERNAL_SQLITE_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "recondb/v1/types.pb.h"
#include "storage/internal/sqlite_connection.h"
#include "storage/internal/sqlite_table_sql.h"
#include "storage/storage.h"

namespace recondb::storage::internal {

// A connection and what is cached for it. Used by one transaction at a time.
struct Session {
  std::unique_ptr<Connection> connection;
  TableSqlCache tables;
};

// The ReadTransaction operations over `session` (not owned; must outlive
// this). Contracts: storage/storage.h. Not thread-safe.
class SessionReader {
 public:
  explicit SessionReader(Session* session) : session_(session) {}

  absl::StatusOr<std::vector<v1::Table>> ListTables();
  absl::StatusOr<v1::Table> GetTable(std::string_view name);
  absl::StatusOr<StoredRevision> GetRevision(const v1::Table& table, std::string_view id,
                                             std::string_view revision);
  absl::StatusOr<std::vector<StoredRevision>> GetLeaves(const v1::Table& table,
                                                        std::string_view id);
  absl::StatusOr<std::vector<StoredRevision>> GetHistory(const v1::Table& table,
                                                         std::string_view id);
  absl::StatusOr<v1::Record> GetViewRow(const v1::Table& table, std::string_view id);
  absl::StatusOr<int64_t> CountViewRows(const v1::Table& table);
  absl::StatusOr<std::vector<v1::Record>> QueryView(const v1::Table& table, const ViewQuery& query);
  absl::StatusOr<std::vector<v1::Change>> ScanChanges(int64_t since,
                                                      const std::vector<std::string>& tables,
                                                      int limit);
  absl::StatusOr<int64_t> CountChanges(int64_t since, const std::vector<std::string>& tables);
  absl::StatusOr<int64_t> LastSeq();
  absl::StatusOr<std::string> GetMeta(std::string_view key);

 private:
  Connection& connection() { return *session_->connection; }
  // Every history row `stmt` (bound) returns.
  absl::StatusOr<std::vector<StoredRevision>> HistoryRows(Statement& stmt, const v1::Table& table);

  Session* session_;
};

}  // namespace recondb::storage::internal

#endif  // RECONDB_STORAGE_INTERNAL_SQLITE_READER_H_
