// The write operations of the SQLite backend's write transaction, run on the
// writer session inside its BEGIN IMMEDIATE ... COMMIT.
#ifndef RECONDB_STORAGE_INTERNAL_SQLITE_WRITER_H_
#define RECONDB_STORAGE_INTERNAL_SQLITE_WRITER_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recondb/v1/types.pb.h"
#include "storage/internal/sqlite_reader.h"
#include "storage/storage.h"

namespace recondb::storage::internal {

// The WriteTransaction write operations over `session` (not owned; must
// outlive this). Contracts: storage/storage.h. Each operation either does all
// of its writes or, when it fails, none of them, unless SQLite itself rolled
// the whole transaction back (see Connection::InTransaction). Not
// thread-safe.
class SessionWriter {
 public:
  explicit SessionWriter(Session* session) : session_(session) {}

  absl::Status CreateTable(const v1::Table& table);
  absl::Status AppendColumns(const v1::Table& table);
  absl::Status InsertRevision(const v1::Table& table, const StoredRevision& rev);
  absl::Status FillStub(const v1::Table& table, const StoredRevision& rev);
  absl::Status SetRevisionAudit(const v1::Table& table, std::string_view id,
                                std::string_view revision, const RevisionAudit& audit);
  absl::Status UpsertViewRow(const v1::Table& table, const v1::Record& winner);
  absl::Status DeleteViewRow(const v1::Table& table, std::string_view id);
  absl::StatusOr<int64_t> AppendChange(const v1::Change& change);
  absl::Status SetMeta(std::string_view key, std::string_view value);

 private:
  Connection& connection() { return *session_->connection; }
  // CreateTable and AppendColumns without their savepoint.
  absl::Status CreateTableUnguarded(const v1::Table& table);
  absl::Status AppendColumnsUnguarded(const v1::Table& table);
  // Runs `op` in a savepoint: when it fails, its writes are undone and the
  // transaction stays usable.
  template <typename Op>
  absl::Status InSavepoint(Op op);
  // Whether `rev` already has a stored child (grafted before it).
  absl::StatusOr<bool> HasChild(const TableSql& sql, const StoredRevision& rev);

  Session* session_;
};

}  // namespace recondb::storage::internal

#endif  // RECONDB_STORAGE_INTERNAL_SQLITE_WRITER_H_
