// A thin RAII layer over one sqlite3 connection: opening with recondb's
// pragmas, a cache of prepared statements keyed by SQL text, and borrowed
// statements that reset themselves. Knows nothing of recondb's tables.
#ifndef RECONDB_STORAGE_INTERNAL_SQLITE_CONNECTION_H_
#define RECONDB_STORAGE_INTERNAL_SQLITE_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct sqlite3;
struct sqlite3_stmt;

namespace recondb::storage::internal {

struct ConnectionOptions {
  std::string path;  // Required.
  // The writer creates the file and switches it to WAL; a reader connection
  // is read-only (PRAGMA query_only) and expects the file to exist.
  bool writer = false;
  // synchronous=FULL when true, NORMAL otherwise.
  bool full_sync = true;
  // How long to wait for a lock held by another connection or process.
  int busy_timeout_ms = 5000;
  // The writer's page size for a new (empty) file; 0 leaves SQLite's
  // default. A file that has pages keeps its own.
  int page_size = 0;
  // The registered SQLite VFS to open through; empty: the default.
  std::string vfs;
};

// One cached prepared statement. Owned by its Connection.
struct CachedStatement {
  sqlite3_stmt* stmt = nullptr;
  bool borrowed = false;
};

// A prepared statement borrowed from a Connection's cache. Parameters are
// 1-based, columns 0-based (as in SQLite). On destruction the statement is
// reset and its bindings cleared, which also releases any read snapshot it
// held; so bound text and blobs need only outlive the last Step() call.
// Move-only. Must not outlive its Connection. Not thread-safe.
class Statement {
 public:
  Statement(CachedStatement* cached, sqlite3* db);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  // Binders. A failure (out of range, too big) is reported by the next Step.
  void BindNull(int index);
  void BindInt(int index, int64_t value);
  void BindDouble(int index, double value);
  // The bytes are not copied: they must stay alive until the last Step().
  void BindText(int index, std::string_view value);
  void BindBlob(int index, std::string_view value);
  // Copies the bytes (for temporaries).
  void BindTextCopy(int index, std::string_view value);

  // Runs one step. Returns true when a row is ready, false when done.
  absl::StatusOr<bool> Step();
  // Steps until done, ignoring any row (for INSERT/UPDATE/DELETE).
  absl::Status Run();

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  double Double(int column) const;
  // Valid until the next Step or the statement's destruction.
  std::string_view Text(int column) const;
  std::string_view Blob(int column) const;

  // The statement's SQL text, for error messages.
  std::string_view Sql() const;

 private:
  void NoteBind(int rc);

  CachedStatement* cached_;
  sqlite3* db_;
  int bind_rc_ = 0;
};

// Which cache a statement lives in.
enum class StatementCache {
  // Fixed and per-table statements: a bounded set, kept for the connection's
  // life.
  kStable,
  // Query shapes built per call (filters, orders): kept in a bounded cache
  // whose idle entries are dropped when it is full.
  kQuery,
};

// One open sqlite3 connection. Not thread-safe: one thread at a time.
class Connection {
 public:
  // Opens options.path with recondb's pragmas (see ConnectionOptions).
  // UNAVAILABLE if it cannot be opened or is not a database.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const ConnectionOptions& options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  // REQUIRES: no Statement borrowed from this connection is alive.
  ~Connection();

  sqlite3* db() const { return db_; }

  // Runs `sql` (one or more statements without parameters), discarding rows.
  // For DDL and pragmas: not cached, not for hot paths.
  absl::Status Exec(const std::string& sql);

  // The prepared statement for `sql`, prepared on first use. INTERNAL if the
  // statement is already borrowed or `sql` holds more than one statement;
  // SQLite's error (e.g. INTERNAL for a missing table) if it does not compile.
  absl::StatusOr<Statement> Prepare(std::string_view sql,
                                    StatementCache cache = StatementCache::kStable);

  // True inside BEGIN ... COMMIT/ROLLBACK. SQLite ends a transaction on its
  // own after some errors (disk full, I/O error); callers check this.
  bool InTransaction() const;

  // The status for result code `rc` of the last call on this connection.
  absl::Status Error(int rc, std::string_view context) const;

 private:
  using Cache = absl::flat_hash_map<std::string, std::unique_ptr<CachedStatement>>;
  static constexpr size_t kMaxQueryStatements = 64;

  explicit Connection(sqlite3* db) : db_(db) {}
  absl::Status Configure(const ConnectionOptions& options);
  // Drops the idle statements of the query cache.
  void TrimQueryCache();

  sqlite3* db_;
  Cache stable_;
  Cache queries_;
};

}  // namespace recondb::storage::internal

#endif  // RECONDB_STORAGE_INTERNAL_SQLITE_CONNECTION_H_
