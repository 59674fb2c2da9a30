// The SQLite backend: the transactions and the store (one writer session
// behind a gate, a pool of reader sessions). Design: storage/DESIGN.md;
// layout: docs/storage-format.md.
#include "storage/sqlite_storage.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "storage/internal/file_identity.h"
#include "storage/internal/sqlite_backup.h"
#include "storage/internal/sqlite_connection.h"
#include "storage/internal/sqlite_reader.h"
#include "storage/internal/sqlite_schema.h"
#include "storage/internal/sqlite_testing.h"
#include "storage/internal/sqlite_writer.h"

namespace recondb::storage {
namespace {

using internal::Connection;
using internal::ConnectionOptions;
using internal::Session;
using internal::SessionReader;
using internal::SessionWriter;
using internal::Statement;

constexpr char kBeginRead[] = "BEGIN";
// A deferred BEGIN takes its snapshot at the first read; reading at once
// pins the snapshot to BeginRead.
constexpr char kPinSnapshot[] = "SELECT 1 FROM \"_meta\" LIMIT 1";
// The writer takes SQLite's write lock at BEGIN, so a write transaction
// never fails half way for want of it.
constexpr char kBeginWrite[] = "BEGIN IMMEDIATE";
constexpr char kCommit[] = "COMMIT";
constexpr char kRollback[] = "ROLLBACK";
constexpr char kSchemaState[] =
    "SELECT count(*), coalesce(sum(\"type\" = 'table' AND \"name\" = '_meta'), 0)"
    " FROM \"sqlite_schema\"";

ConnectionOptions ConnectionOptionsFor(const SqliteOptions& options, bool writer) {
  ConnectionOptions out;
  out.path = options.path;
  out.writer = writer;
  out.full_sync = options.durability == Durability::kFull;
  out.busy_timeout_ms = options.busy_timeout_ms;
  out.page_size = options.page_size;
  out.vfs = options.vfs;
  return out;
}

// Idle reader connections kept open; more may be open while in use.
constexpr size_t kMaxIdleReaders = 16;

// Query planner statistics (sqlite_stat1). Without them SQLite may walk the
// index of a low-cardinality filter (a bool) and sort, instead of walking
// the index of the order column and stopping at the limit. The sample size
// bounds the cost (a few ms) whatever the size of the store; statistics are
// refreshed at open and every kAnalyzeEveryCommits commits as tables grow.
constexpr char kAnalyze[] = "PRAGMA analysis_limit=1000; ANALYZE";
constexpr int64_t kAnalyzeEveryCommits = 10000;

absl::Status RunCached(Connection& connection, const char* sql) {
  ASSIGN_OR_RETURN(Statement stmt, connection.Prepare(sql));
  return stmt.Run();
}

// Ends the transaction of `connection` if one is open. False if it could
// not be ended (the connection should not be reused).
bool RollbackIfOpen(Connection& connection) {
  if (!connection.InTransaction()) return true;
  RunCached(connection, kRollback).IgnoreError();
  return !connection.InTransaction();
}

const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}

// Runs the operations of one transaction on `connection`, and notices when
// SQLite ended the transaction on its own after an error (disk full, I/O
// error): every later operation then fails instead of running outside it.
class TransactionGuard {
 public:
  explicit TransactionGuard(Connection* connection) : connection_(connection) {}

  const absl::Status& state() const { return state_; }

  template <typename Op>
  auto Run(Op&& op) -> decltype(op()) {
    if (!state_.ok()) return state_;
    auto result = op();
    const absl::Status& status = StatusOf(result);
    if (!status.ok() && !connection_->InTransaction()) {
      // The cause's code (UNAVAILABLE for an I/O error, RESOURCE_EXHAUSTED
      // for a full disk) tells the caller what to do next.
      state_ = absl::Status(status.code(), absl::StrCat("the transaction was rolled back after an error: ",
                                                        status.message()));
    }
    return result;
  }

  void Fail(absl::Status status) { state_ = std::move(status); }

 private:
  Connection* connection_;
  absl::Status state_;
};

class SqliteStorage;

// The ReadTransaction operations, shared by both transaction classes: each
// runs on the transaction's session through its guard. `Base` is
// ReadTransaction or WriteTransaction.
template <typename Base>
class SqliteReads : public Base {
 public:
  absl::StatusOr<std::vector<v1::Table>> ListTables() final {
    return guard_.Run([&] { return reader_.ListTables(); });
  }
  absl::StatusOr<v1::Table> GetTable(std::string_view name) final {
    return guard_.Run([&] { return reader_.GetTable(name); });
  }
  absl::StatusOr<StoredRevision> GetRevision(const v1::Table& table, std::string_view id,
                                             std::string_view revision) final {
    return guard_.Run([&] { return reader_.GetRevision(table, id, revision); });
  }
  absl::StatusOr<std::vector<StoredRevision>> GetLeaves(const v1::Table& table,
                                                        std::string_view id) final {
    return guard_.Run([&] { return reader_.GetLeaves(table, id); });
  }
  absl::StatusOr<std::vector<StoredRevision>> GetHistory(const v1::Table& table,
                                                         std::string_view id) final {
    return guard_.Run([&] { return reader_.GetHistory(table, id); });
  }
  absl::StatusOr<v1::Record> GetViewRow(const v1::Table& table, std::string_view id) final {
    return guard_.Run([&] { return reader_.GetViewRow(table, id); });
  }
  absl::StatusOr<std::vector<v1::Record>> QueryView(const v1::Table& table,
                                                    const ViewQuery& query) final {
    return guard_.Run([&] { return reader_.QueryView(table, query); });
  }
  absl::StatusOr<int64_t> CountViewRows(const v1::Table& table) final {
    return guard_.Run([&] { return reader_.CountViewRows(table); });
  }
  absl::StatusOr<std::vector<v1::Change>> ScanChanges(int64_t since,
                                                      const std::vector<std::string>& tables,
                                                      int limit) final {
    return guard_.Run([&] { return reader_.ScanChanges(since, tables, limit); });
  }
  absl::StatusOr<int64_t> CountChanges(int64_t since,
                                       const std::vector<std::string>& tables) final {
    return guard_.Run([&] { return reader_.CountChanges(since, tables); });
  }
  absl::StatusOr<int64_t> LastSeq() final {
    return guard_.Run([&] { return reader_.LastSeq(); });
  }
  absl::StatusOr<std::string> GetMeta(std::string_view key) final {
    return guard_.Run([&] { return reader_.GetMeta(key); });
  }

 protected:
  // `session` (not owned) must outlive this.
  explicit SqliteReads(Session* session) : reader_(session), guard_(session->connection.get()) {}

  SessionReader reader_;
  TransactionGuard guard_;
};

class SqliteReadTransaction final : public SqliteReads<ReadTransaction> {
 public:
  SqliteReadTransaction(SqliteStorage* storage, std::unique_ptr<Session> session)
      : SqliteReads(session.get()), storage_(storage), session_(std::move(session)) {}
  ~SqliteReadTransaction() override;

 private:
  SqliteStorage* storage_;
  std::unique_ptr<Session> session_;
};

class SqliteWriteTransaction final : public SqliteReads<WriteTransaction> {
 public:
  SqliteWriteTransaction(SqliteStorage* storage, Session* session)
      : SqliteReads(session), storage_(storage), session_(session), writer_(session) {}
  ~SqliteWriteTransaction() override;

  absl::Status CreateTable(const v1::Table& table) override {
    return guard_.Run([&] { return writer_.CreateTable(table); });
  }
  absl::Status AppendColumns(const v1::Table& table) override {
    return guard_.Run([&] { return writer_.AppendColumns(table); });
  }
  absl::Status InsertRevision(const v1::Table& table, const StoredRevision& rev) override {
    return guard_.Run([&] { return writer_.InsertRevision(table, rev); });
  }
  absl::Status FillStub(const v1::Table& table, const StoredRevision& rev) override {
    return guard_.Run([&] { return writer_.FillStub(table, rev); });
  }
  absl::Status SetRevisionAudit(const v1::Table& table, std::string_view id,
                                std::string_view revision, const RevisionAudit& audit) override {
    return guard_.Run([&] { return writer_.SetRevisionAudit(table, id, revision, audit); });
  }
  absl::Status UpsertViewRow(const v1::Table& table, const v1::Record& winner) override {
    return guard_.Run([&] { return writer_.UpsertViewRow(table, winner); });
  }
  absl::Status DeleteViewRow(const v1::Table& table, std::string_view id) override {
    return guard_.Run([&] { return writer_.DeleteViewRow(table, id); });
  }
  absl::StatusOr<int64_t> AppendChange(const v1::Change& change) override {
    return guard_.Run([&] { return writer_.AppendChange(change); });
  }
  absl::Status SetMeta(std::string_view key, std::string_view value) override {
    return guard_.Run([&] { return writer_.SetMeta(key, value); });
  }
  absl::Status Commit() override;

 private:
  SqliteStorage* storage_;
  Session* session_;
  SessionWriter writer_;
};

// Thread-safe. The writer session is used by the one open write transaction
// (writer_busy_); reader sessions move between the pool and read
// transactions.
class SqliteStorage final : public Storage {
 public:
  // Opens the writer connection and creates or checks the store.
  static absl::StatusOr<std::unique_ptr<SqliteStorage>> Open(const SqliteOptions& options);

  // Stops the checkpointer; closing the writer connection, last, then
  // checkpoints the whole WAL and removes it.
  // REQUIRES: no transaction of this store is alive.
  ~SqliteStorage() override;

  absl::StatusOr<std::unique_ptr<ReadTransaction>> BeginRead() override;
  absl::StatusOr<std::unique_ptr<WriteTransaction>> BeginWrite() override;
  absl::StatusOr<int64_t> Backup(const std::string& path, const BackupEdit& edit) override;
  std::string_view Name() const override { return "sqlite"; }
  // The page size is the file's, which may not be SqliteOptions::page_size.
  std::string Settings() const override { return absl::StrCat("page_size=", page_size_); }
  // The database file's (internal/file_identity.h), read once it exists.
  std::string Identity() const override { return identity_; }

  // Called by a read transaction as it ends, with its (idle) session.
  void ReturnReader(std::unique_ptr<Session> session);
  // Called by the write transaction as it ends.
  void ReleaseWriter();
  // Called by the write transaction after a successful COMMIT, while it
  // still holds the writer.
  void OnCommitted();

  Session& writer_session() { return *writer_; }

  internal::CheckpointCounts checkpoint_counts() {
    absl::MutexLock lock(&wake_mu_);
    return counts_;
  }

 private:
  SqliteStorage(SqliteOptions options, std::unique_ptr<Session> writer)
      : options_(std::move(options)), writer_(std::move(writer)) {}

  // Creates the internal tables of a new store, or checks the format of an
  // existing one.
  absl::Status InitializeOrCheck();
  absl::Status InitializeOrCheckInTransaction();
  absl::StatusOr<std::unique_ptr<Session>> TakeReader();
  // Waits until no write transaction is open and holds the writer off, like
  // BeginWrite; ReleaseWriter ends it.
  void AcquireWriter();

  // ---- Checkpoints (storage/DESIGN.md, "Checkpoints") ----
  // Turns SQLite's automatic checkpoint off on the writer and starts the
  // background checkpointer with its own connection.
  absl::Status StartCheckpointer();
  // The writer's sqlite3_wal_hook: runs in the committing thread after each
  // commit, SQLite's write lock released; `frames` is the WAL's size.
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int frames);
  // The checkpointer thread: one checkpoint per wake-up.
  void CheckpointLoop();
  bool CheckpointWantedOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(wake_mu_) {
    return checkpoint_wanted_ || stopping_;
  }
  // A passive checkpoint of `db`, one at a time. Returns whether every
  // frame the WAL held when it began is now in the database; frames
  // committed meanwhile are not (with the writer held off there are none,
  // and the next write restarts the WAL). Failures are not reported: the
  // next checkpoint retries, and an I/O error shows at the next commit.
  bool Checkpoint(sqlite3* db);
  // Backup's work once `path` is known to be free; may leave files behind
  // on failure (Backup removes them).
  absl::Status WriteBackup(const std::string& path, const BackupEdit& edit);

  // PRAGMA page_size, on the writer connection.
  absl::StatusOr<int64_t> ReadPageSize();

  const SqliteOptions options_;
  const std::unique_ptr<Session> writer_;
  // Read from the file once it is open.
  int64_t page_size_ = 0;
  std::string identity_;

  absl::Mutex writer_mu_;
  bool writer_busy_ ABSL_GUARDED_BY(writer_mu_) = false;

  // Used by the checkpointer thread only (and by Checkpoint, under
  // checkpoint_mu_).
  std::unique_ptr<Connection> checkpointer_connection_;
  // Taken around every checkpoint, so that the committing thread's (past
  // max_wal_frames) waits for a background one instead of failing busy.
  // Lock order: the writer gate, then checkpoint_mu_.
  absl::Mutex checkpoint_mu_;
  absl::Mutex wake_mu_;
  bool checkpoint_wanted_ ABSL_GUARDED_BY(wake_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(wake_mu_) = false;
  internal::CheckpointCounts counts_ ABSL_GUARDED_BY(wake_mu_);
  std::thread checkpointer_;
  // Commits since the statistics were refreshed; used by the writer only.
  int64_t commits_since_analyze_ = 0;

  absl::Mutex pool_mu_;
  std::vector<std::unique_ptr<Session>> idle_readers_ ABSL_GUARDED_BY(pool_mu_);
};

SqliteReadTransaction::~SqliteReadTransaction() {
  // A snapshot still held would pin the WAL: such a session is closed.
  if (RollbackIfOpen(*session_->connection)) storage_->ReturnReader(std::move(session_));
}

SqliteWriteTransaction::~SqliteWriteTransaction() {
  RollbackIfOpen(*session_->connection);
  storage_->ReleaseWriter();
}

absl::Status SqliteWriteTransaction::Commit() {
  RETURN_IF_ERROR(guard_.state());
  guard_.Fail(absl::FailedPreconditionError("the transaction was already committed"));
  Connection& connection = *session_->connection;
  absl::Status status = RunCached(connection, kCommit);
  // COMMIT can fail and leave the transaction open (e.g. SQLITE_BUSY):
  // nothing of it may be kept.
  if (!status.ok()) {
    RollbackIfOpen(connection);
    return status;
  }
  storage_->OnCommitted();
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SqliteStorage>> SqliteStorage::Open(const SqliteOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("no SQLite database path given");
  RETURN_IF_ERROR(CheckPageSize(options.page_size));
  if (options.checkpoint_frames < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SqliteOptions.checkpoint_frames must be at least 1, got ", options.checkpoint_frames));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                   Connection::Open(ConnectionOptionsFor(options, /*writer=*/true)));
  auto session = std::make_unique<Session>();
  session->connection = std::move(connection);
  std::unique_ptr<SqliteStorage> storage(new SqliteStorage(options, std::move(session)));
  RETURN_IF_ERROR(storage->InitializeOrCheck());
  ASSIGN_OR_RETURN(storage->page_size_, storage->ReadPageSize());
  storage->identity_ = internal::FileIdentity(options.path);
  RETURN_IF_ERROR(storage->StartCheckpointer());
  // Statistics only guide the planner: a store that cannot refresh them
  // still works, and any real write problem shows at the next commit.
  storage->writer_->connection->Exec(kAnalyze).IgnoreError();
  return storage;
}

SqliteStorage::~SqliteStorage() {
  if (!checkpointer_.joinable()) return;
  {
    absl::MutexLock lock(&wake_mu_);
    stopping_ = true;
  }
  checkpointer_.join();
  // The writer connection, destroyed after this body, closes last: SQLite
  // then checkpoints the whole WAL and deletes it.
  checkpointer_connection_.reset();
}

absl::Status SqliteStorage::StartCheckpointer() {
  ASSIGN_OR_RETURN(checkpointer_connection_,
                   Connection::Open(ConnectionOptionsFor(options_, /*writer=*/false)));
  sqlite3* db = writer_->connection->db();
  // Turning the automatic checkpoint off removes SQLite's own WAL hook,
  // which this one then replaces.
  sqlite3_wal_autocheckpoint(db, 0);
  sqlite3_wal_hook(db, &SqliteStorage::OnWalCommit, this);
  checkpointer_ = std::thread([this] { CheckpointLoop(); });
  return absl::OkStatus();
}

int SqliteStorage::OnWalCommit(void* self, sqlite3* db, const char* /*name*/, int frames) {
  auto* storage = static_cast<SqliteStorage*>(self);
  if (frames >= storage->options_.max_wal_frames) {
    // The background checkpoints do not keep up: bound the WAL here. Any
    // failure (a reader pins the WAL) is retried at the next commit.
    const bool whole = storage->Checkpoint(db);
    absl::MutexLock lock(&storage->wake_mu_);
    ++storage->counts_.in_commit;
    if (whole) return SQLITE_OK;
  }
  if (frames >= storage->options_.checkpoint_frames) {
    absl::MutexLock lock(&storage->wake_mu_);
    storage->checkpoint_wanted_ = true;
  }
  return SQLITE_OK;
}

absl::StatusOr<int64_t> SqliteStorage::ReadPageSize() {
  ASSIGN_OR_RETURN(Statement stmt,
                   writer_->connection->Prepare("PRAGMA page_size", internal::StatementCache::kQuery));
  ASSIGN_OR_RETURN(const bool row, stmt.Step());
  if (!row) return absl::UnavailableError("PRAGMA page_size returned no row");
  return stmt.Int(0);
}

bool SqliteStorage::Checkpoint(sqlite3* db) {
  absl::MutexLock lock(&checkpoint_mu_);
  int log_frames = 0;
  int done_frames = 0;
  const int rc =
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &done_frames);
  return rc == SQLITE_OK && done_frames >= log_frames;
}

void SqliteStorage::CheckpointLoop() {
  sqlite3* db = checkpointer_connection_->db();
  while (true) {
    {
      absl::MutexLock lock(&wake_mu_);
      wake_mu_.Await(absl::Condition(this, &SqliteStorage::CheckpointWantedOrStopping));
      if (stopping_) return;
    }
    // Most of the WAL is copied while commits go on. The WAL restarts from
    // its start only when a write begins with every frame copied; the
    // frames committed meanwhile (a few, often none) are therefore copied
    // with writes held off, or under a steady load the WAL would keep
    // growing. A failure (an I/O error, a reader pinning older frames) is
    // left to the next wake-up; a commit that leaves max_wal_frames
    // checkpoints itself.
    Checkpoint(db);
    AcquireWriter();
    Checkpoint(db);
    ReleaseWriter();
    absl::MutexLock lock(&wake_mu_);
    checkpoint_wanted_ = false;
    ++counts_.background;
  }
}

absl::Status SqliteStorage::InitializeOrCheck() {
  Connection& connection = *writer_->connection;
  RETURN_IF_ERROR(RunCached(connection, kBeginWrite));
  absl::Status status = InitializeOrCheckInTransaction();
  if (status.ok()) status = RunCached(connection, kCommit);
  if (!status.ok()) RollbackIfOpen(connection);
  return status;
}

absl::Status SqliteStorage::InitializeOrCheckInTransaction() {
  Connection& connection = *writer_->connection;
  int64_t objects = 0;
  bool has_meta = false;
  {
    ASSIGN_OR_RETURN(Statement stmt, connection.Prepare(kSchemaState));
    ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (row) {
      objects = stmt.Int(0);
      has_meta = stmt.Int(1) != 0;
    }
  }
  const std::string not_recondb =
      absl::StrCat(options_.path, " is a SQLite database but not a recondb store");
  if (!has_meta) {
    // Never take over someone else's database: only an empty file becomes
    // a store.
    if (objects > 0) return absl::UnavailableError(not_recondb);
    RETURN_IF_ERROR(connection.Exec(internal::InternalSchemaSql()));
    return SessionWriter(writer_.get())
        .SetMeta(internal::kFormatVersionKey, absl::StrCat(internal::kFormatVersion));
  }
  absl::StatusOr<std::string> version =
      SessionReader(writer_.get()).GetMeta(internal::kFormatVersionKey);
  if (absl::IsNotFound(version.status())) return absl::UnavailableError(not_recondb);
  RETURN_IF_ERROR(version.status());
  int number = 0;
  if (!absl::SimpleAtoi(*version, &number) || number < 1) {
    return absl::UnavailableError(
        absl::StrCat(options_.path, " has an unreadable format version \"", *version, "\""));
  }
  if (number > internal::kFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(options_.path, " has storage format version ", number,
                     "; this build reads up to ", internal::kFormatVersion, ": upgrade recondb"));
  }
  if (number == internal::kFormatVersion) return absl::OkStatus();
  // An older format is migrated step by step in this one transaction: a
  // failure leaves the store as it was.
  ASSIGN_OR_RETURN(const std::vector<v1::Table> tables, SessionReader(writer_.get()).ListTables());
  for (int from = number; from < internal::kFormatVersion; ++from) {
    RETURN_IF_ERROR(connection.Exec(internal::MigrationSql(from, tables)));
  }
  return SessionWriter(writer_.get())
      .SetMeta(internal::kFormatVersionKey, absl::StrCat(internal::kFormatVersion));
}

absl::StatusOr<std::unique_ptr<Session>> SqliteStorage::TakeReader() {
  {
    absl::MutexLock lock(&pool_mu_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Session> session = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return session;
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                   Connection::Open(ConnectionOptionsFor(options_, /*writer=*/false)));
  auto session = std::make_unique<Session>();
  session->connection = std::move(connection);
  return session;
}

void SqliteStorage::ReturnReader(std::unique_ptr<Session> session) {
  {
    absl::MutexLock lock(&pool_mu_);
    if (idle_readers_.size() < kMaxIdleReaders) {
      idle_readers_.push_back(std::move(session));
      return;
    }
  }
  // Beyond the pool's size: closed here, outside the lock.
}

absl::StatusOr<std::unique_ptr<ReadTransaction>> SqliteStorage::BeginRead() {
  ASSIGN_OR_RETURN(std::unique_ptr<Session> session, TakeReader());
  Connection& connection = *session->connection;
  absl::Status status = RunCached(connection, kBeginRead);
  if (status.ok()) status = RunCached(connection, kPinSnapshot);
  if (!status.ok()) {
    if (RollbackIfOpen(connection)) ReturnReader(std::move(session));
    return status;
  }
  return std::make_unique<SqliteReadTransaction>(this, std::move(session));
}

void SqliteStorage::AcquireWriter() {
  // The gate is a flag rather than a held mutex so that the transaction
  // may end on another thread than the one that began it.
  absl::MutexLock lock(&writer_mu_);
  writer_mu_.Await(absl::Condition(
      +[](bool* busy) { return !*busy; }, &writer_busy_));
  writer_busy_ = true;
}

absl::StatusOr<std::unique_ptr<WriteTransaction>> SqliteStorage::BeginWrite() {
  AcquireWriter();
  Connection& connection = *writer_->connection;
  absl::Status status = RunCached(connection, kBeginWrite);
  if (!status.ok()) {
    ReleaseWriter();
    return status;
  }
  return std::make_unique<SqliteWriteTransaction>(this, writer_.get());
}

void SqliteStorage::OnCommitted() {
  if (++commits_since_analyze_ < kAnalyzeEveryCommits) return;
  commits_since_analyze_ = 0;
  // Best effort, as at open; outside any transaction, so ANALYZE commits
  // on its own.
  writer_->connection->Exec(kAnalyze).IgnoreError();
}

// The hook of SetSqliteBackupHookForTesting, taken by the next backup.
ABSL_CONST_INIT absl::Mutex backup_hook_mu(absl::kConstInit);
std::function<void()>* backup_hook ABSL_GUARDED_BY(backup_hook_mu) = nullptr;

std::unique_ptr<std::function<void()>> TakeBackupHook() {
  absl::MutexLock lock(&backup_hook_mu);
  std::unique_ptr<std::function<void()>> hook(backup_hook);
  backup_hook = nullptr;
  return hook;
}

// sqlite3_progress_handler callback: runs the hook the first time.
int RunBackupHookOnce(void* arg) {
  auto* hook = static_cast<std::unique_ptr<std::function<void()>>*>(arg);
  if (*hook != nullptr) {
    (**hook)();
    hook->reset();
  }
  return 0;  // Go on.
}

absl::StatusOr<int64_t> SqliteStorage::Backup(const std::string& path, const BackupEdit& edit) {
  if (path.empty()) return absl::InvalidArgumentError("no backup path given");
  // lstat: a dangling symbolic link is a name in use too.
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    return absl::AlreadyExistsError(absl::StrCat("backup to ", path, ": the file exists"));
  }
  absl::Status status = WriteBackup(path, edit);
  absl::StatusOr<int64_t> size =
      status.ok() ? internal::FileSize(path) : absl::StatusOr<int64_t>(status);
  if (size.ok()) return size;
  internal::RemoveDatabaseFiles(path);
  const absl::Status& error = size.status();
  return absl::Status(error.code(), absl::StrCat("backup to ", path, ": ", error.message()));
}

absl::Status SqliteStorage::WriteBackup(const std::string& path, const BackupEdit& edit) {
  // Its own connection, outside the pool: VACUUM INTO runs outside any
  // transaction (it takes its own read snapshot) and writes a file, which a
  // reader's query_only forbids.
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> source,
                   Connection::Open(ConnectionOptionsFor(options_, /*writer=*/false)));
  RETURN_IF_ERROR(source->Exec("PRAGMA query_only=0"));
  std::unique_ptr<std::function<void()>> hook = TakeBackupHook();
  if (hook != nullptr) sqlite3_progress_handler(source->db(), 100, &RunBackupHookOnce, &hook);
  RETURN_IF_ERROR(internal::VacuumInto(*source, path));
  source.reset();
  {
    // The copy is opened as a store of its own (which checks its format
    // and turns it to WAL like any store) so that the edit goes through
    // the same writer as every write. Closing it checkpoints the WAL into
    // the file and removes the WAL.
    SqliteOptions copy_options;
    copy_options.path = path;
    copy_options.durability = Durability::kFull;
    copy_options.busy_timeout_ms = options_.busy_timeout_ms;
    copy_options.vfs = options_.vfs;
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteStorage> copy, SqliteStorage::Open(copy_options));
    if (edit) {
      ASSIGN_OR_RETURN(std::unique_ptr<WriteTransaction> txn, copy->BeginWrite());
      RETURN_IF_ERROR(edit(*txn));
      RETURN_IF_ERROR(txn->Commit());
    }
  }
  // SQLite does not sync what VACUUM INTO wrote; the checkpoint at close
  // synced the file, but not the directory entry that names it.
  return internal::SyncFileAndDirectory(path);
}

void SqliteStorage::ReleaseWriter() {
  absl::MutexLock lock(&writer_mu_);
  writer_busy_ = false;
}

}  // namespace

absl::Status CheckPageSize(int page_size) {
  if (page_size >= 512 && page_size <= 65536 && (page_size & (page_size - 1)) == 0) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "the SQLite page size must be a power of two from 512 to 65536, got ", page_size));
}

absl::StatusOr<std::unique_ptr<Storage>> OpenSqliteStorage(const SqliteOptions& options) {
  absl::StatusOr<std::unique_ptr<SqliteStorage>> storage = SqliteStorage::Open(options);
  if (storage.ok()) return std::unique_ptr<Storage>(std::move(storage).value());
  const absl::Status& status = storage.status();
  // The contract of OpenSqliteStorage: a newer format is the one reason not
  // to retry; whatever else stops the open (no such directory, not a
  // database, a lock held too long) is UNAVAILABLE.
  if (absl::IsFailedPrecondition(status) || absl::IsInvalidArgument(status)) return status;
  if (absl::IsUnavailable(status)) return status;
  return absl::UnavailableError(
      absl::StrCat("cannot open ", options.path, " as a recondb store: ", status.message()));
}

namespace internal {

absl::StatusOr<std::string> SqliteWriterPragmaForTesting(Storage& storage,
                                                         std::string_view pragma) {
  auto* sqlite = dynamic_cast<SqliteStorage*>(&storage);
  if (sqlite == nullptr) return absl::InvalidArgumentError("not a SQLite store");
  // Through a write transaction, so the writer session is free.
  ASSIGN_OR_RETURN(std::unique_ptr<WriteTransaction> txn, sqlite->BeginWrite());
  ASSIGN_OR_RETURN(Statement stmt,
                   sqlite->writer_session().connection->Prepare(
                       absl::StrCat("PRAGMA ", std::string(pragma)), StatementCache::kQuery));
  ASSIGN_OR_RETURN(const bool row, stmt.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("PRAGMA ", std::string(pragma), " is empty"));
  return std::string(stmt.Text(0));
}

void SetSqliteBackupHookForTesting(std::function<void()> hook) {
  absl::MutexLock lock(&backup_hook_mu);
  delete backup_hook;
  backup_hook = hook ? new std::function<void()>(std::move(hook)) : nullptr;
}

absl::StatusOr<CheckpointCounts> SqliteCheckpointsForTesting(Storage& storage) {
  auto* sqlite = dynamic_cast<SqliteStorage*>(&storage);
  if (sqlite == nullptr) return absl::InvalidArgumentError("not a SQLite store");
  return sqlite->checkpoint_counts();
}

}  // namespace internal
}  // namespace recondb::storage
