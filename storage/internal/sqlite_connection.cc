#include "storage/internal/sqlite_connection.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "storage/internal/sqlite_status.h"

namespace recondb::storage::internal {
namespace {

// The start of `sql`, enough to recognise the statement in an error message.
std::string SqlForMessage(std::string_view sql) {
  constexpr size_t kMaxChars = 120;
  if (sql.size() <= kMaxChars) return std::string(sql);
  return absl::StrCat(absl::string_view(sql.data(), kMaxChars), "...");
}

}  // namespace

// ---- Statement ----

Statement::Statement(CachedStatement* cached, sqlite3* db) : cached_(cached), db_(db) {}

Statement::Statement(Statement&& other) noexcept
    : cached_(std::exchange(other.cached_, nullptr)), db_(other.db_), bind_rc_(other.bind_rc_) {}

Statement::~Statement() {
  if (cached_ == nullptr) return;
  // reset() repeats the error of a failed step, which was already reported.
  sqlite3_reset(cached_->stmt);
  sqlite3_clear_bindings(cached_->stmt);
  cached_->borrowed = false;
}

void Statement::NoteBind(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::BindNull(int index) { NoteBind(sqlite3_bind_null(cached_->stmt, index)); }

void Statement::BindInt(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(cached_->stmt, index, value));
}

void Statement::BindDouble(int index, double value) {
  NoteBind(sqlite3_bind_double(cached_->stmt, index, value));
}

// data() of an empty string_view may be null, which SQLite would bind as
// NULL; "" keeps an empty value a value.
void Statement::BindText(int index, std::string_view value) {
  const char* data = value.empty() ? "" : value.data();
  NoteBind(
      sqlite3_bind_text64(cached_->stmt, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8));
}

void Statement::BindTextCopy(int index, std::string_view value) {
  const char* data = value.empty() ? "" : value.data();
  NoteBind(
      sqlite3_bind_text64(cached_->stmt, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

void Statement::BindBlob(int index, std::string_view value) {
  const char* data = value.empty() ? "" : value.data();
  NoteBind(sqlite3_bind_blob64(cached_->stmt, index, data, value.size(), SQLITE_STATIC));
}

absl::StatusOr<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) {
    return SqliteError(bind_rc_, db_, absl::StrCat("cannot bind ", SqlForMessage(Sql())));
  }
  const int rc = sqlite3_step(cached_->stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(rc, db_, absl::StrCat("cannot run ", SqlForMessage(Sql())));
}

absl::Status Statement::Run() {
  while (true) {
    ASSIGN_OR_RETURN(const bool row, Step());
    if (!row) return absl::OkStatus();
  }
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(cached_->stmt, column) == SQLITE_NULL;
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(cached_->stmt, column); }

double Statement::Double(int column) const { return sqlite3_column_double(cached_->stmt, column); }

std::string_view Statement::Text(int column) const {
  const unsigned char* data = sqlite3_column_text(cached_->stmt, column);
  const int size = sqlite3_column_bytes(cached_->stmt, column);
  if (data == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

std::string_view Statement::Blob(int column) const {
  const void* data = sqlite3_column_blob(cached_->stmt, column);
  const int size = sqlite3_column_bytes(cached_->stmt, column);
  if (data == nullptr) return {};
  return std::string_view(static_cast<const char*>(data), size);
}

std::string_view Statement::Sql() const {
  const char* sql = sqlite3_sql(cached_->stmt);
  return sql == nullptr ? std::string_view() : std::string_view(sql);
}

// ---- Connection ----

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const ConnectionOptions& options) {
  // NOMUTEX: each connection is used by one thread at a time (the storage
  // hands a connection to one transaction), so SQLite's own locking of the
  // connection is not needed.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.writer) flags |= SQLITE_OPEN_CREATE;
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(options.path.c_str(), &db, flags,
                                   options.vfs.empty() ? nullptr : options.vfs.c_str());
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(rc, db, absl::StrCat("cannot open ", options.path));
    sqlite3_close(db);  // Allocated even on failure (NULL-safe).
    return absl::UnavailableError(status.message());
  }
  std::unique_ptr<Connection> connection(new Connection(db));
  RETURN_IF_ERROR(connection->Configure(options));
  return connection;
}

absl::Status Connection::Configure(const ConnectionOptions& options) {
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options.busy_timeout_ms);
  // A double-quoted name that is no column must be an error, not the string
  // of that name (SQLite's legacy default): a statement built for a table
  // shape the snapshot does not have would otherwise read column names as
  // values.
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
  if (options.writer) {
    // Must come before the first write (here, switching to WAL); SQLite
    // ignores it for a file that already has pages.
    if (options.page_size > 0) {
      RETURN_IF_ERROR(Exec(absl::StrCat("PRAGMA page_size=", options.page_size)));
    }
    // journal_mode is persistent in the file; it returns the mode in effect,
    // which is not WAL if the file system cannot support it.
    {
      ASSIGN_OR_RETURN(Statement wal, Prepare("PRAGMA journal_mode=WAL"));
      ASSIGN_OR_RETURN(const bool row, wal.Step());
      const std::string_view mode = row ? wal.Text(0) : std::string_view();
      if (absl::AsciiStrToLower(Sv(mode)) != "wal") {
        return absl::UnavailableError(
            absl::StrCat("cannot switch ", sqlite3_db_filename(db_, "main"), " to WAL mode"));
      }
    }
    // A checkpoint leaves the WAL file at its largest size unless told to
    // truncate it; 64 MiB keeps a burst from holding disk space for good.
    RETURN_IF_ERROR(Exec("PRAGMA journal_size_limit=67108864"));
  } else {
    RETURN_IF_ERROR(Exec("PRAGMA query_only=1"));
  }
  return Exec(options.full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

Connection::~Connection() {
  for (Cache* cache : {&stable_, &queries_}) {
    for (auto& [sql, cached] : *cache) sqlite3_finalize(cached->stmt);
  }
  // Every statement is finalized, so close cannot report SQLITE_BUSY.
  sqlite3_close(db_);
}

absl::Status Connection::Exec(const std::string& sql) {
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) return absl::OkStatus();
  return Error(rc, absl::StrCat("cannot run ", SqlForMessage(sql)));
}

absl::StatusOr<Statement> Connection::Prepare(std::string_view sql, StatementCache cache) {
  const absl::string_view key(sql.data(), sql.size());
  Cache& entries = cache == StatementCache::kStable ? stable_ : queries_;
  auto it = entries.find(key);
  if (it == entries.end()) {
    if (cache == StatementCache::kQuery && queries_.size() >= kMaxQueryStatements) {
      TrimQueryCache();
    }
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const unsigned flags = cache == StatementCache::kStable ? SQLITE_PREPARE_PERSISTENT : 0;
    const int rc =
        sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), flags, &stmt, &tail);
    if (rc != SQLITE_OK) {
      return Error(rc, absl::StrCat("cannot prepare ", SqlForMessage(sql)));
    }
    const absl::string_view rest(tail, sql.data() + sql.size() - tail);
    if (stmt == nullptr || !absl::StripAsciiWhitespace(rest).empty()) {
      sqlite3_finalize(stmt);
      return absl::InternalError(
          absl::StrCat("not exactly one SQL statement: ", SqlForMessage(sql)));
    }
    auto cached = std::make_unique<CachedStatement>();
    cached->stmt = stmt;
    it = entries.emplace(std::string(sql), std::move(cached)).first;
  }
  CachedStatement* cached = it->second.get();
  if (cached->borrowed) {
    return absl::InternalError(absl::StrCat("statement already in use: ", SqlForMessage(sql)));
  }
  cached->borrowed = true;
  return Statement(cached, db_);
}

void Connection::TrimQueryCache() {
  for (auto it = queries_.begin(); it != queries_.end();) {
    if (it->second->borrowed) {
      ++it;
      continue;
    }
    sqlite3_finalize(it->second->stmt);
    queries_.erase(it++);
  }
}

bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

absl::Status Connection::Error(int rc, std::string_view context) const {
  return SqliteError(rc, db_, context);
}

}  // namespace recondb::storage::internal
