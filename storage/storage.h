// The storage seam: what the engine needs from a place to keep tables,
// revision trees, winners, the change feed and node metadata. Backends:
// sqlite (storage/sqlite_storage.h) and memory (storage/memory_storage.h).
// Every backend passes storage/storage_conformance_test.cc.
//
// The on-disk layout of the SQLite backend is docs/storage-format.md.
#ifndef RECONDB_STORAGE_STORAGE_H_
#define RECONDB_STORAGE_STORAGE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recondb/v1/database.pb.h"
#include "recondb/v1/types.pb.h"

namespace recondb::storage {

// Column name -> value, ordered by name (the canonical order of revisions).
// Values read back exactly as written, except that a float -0.0 may read
// back as 0.0 (SQLite's REAL columns); the engine stores 0.0 for both.
using Attributes = std::map<std::string, v1::Value>;

// Who made a revision, on which node and when: the audit trail
// (docs/revision-encoding.md, "Audit metadata"). Not covered by the revision
// id. Unknown (every field empty/0, known() false) for a revision made
// before audit existed or received from a peer that sent none. REQUIRES: unknown
// or valid per engine/internal/audit.h (the engine checks it); read back exactly.
struct RevisionAudit {
  std::string author;       // The principal's name ("anonymous" with auth off).
  std::string origin_node;  // The node id of the node that made the revision.
  int64_t create_time_micros = 0;  // Wall clock there, µs since the Unix epoch.

  bool known() const { return !origin_node.empty(); }
  friend bool operator==(const RevisionAudit& a, const RevisionAudit& b) {
    return a.author == b.author && a.origin_node == b.origin_node &&
           a.create_time_micros == b.create_time_micros;
  }
  friend bool operator!=(const RevisionAudit& a, const RevisionAudit& b) { return !(a == b); }
};

// One node of a record's revision tree, as stored in the history.
struct StoredRevision {
  std::string id;        // The record id.
  std::string revision;  // "<generation>-<hex>".
  std::string parent;    // Empty for a first revision.
  int64_t generation = 0;
  bool deleted = false;
  // Known by id only: an ancestor replicated without its content (see
  // docs/replication-protocol.md). A stub has no attributes, is never a
  // leaf and is never read as a record's content.
  bool stub = false;
  // Output of reads: no stored revision has this one as parent. Ignored by
  // InsertRevision.
  bool leaf = true;
  // A live revision holds the columns its table had when it was written:
  // the first k columns of the table in definition order (additive changes
  // only append), 0 <= k <= the table's column count. Empty for a tombstone
  // and a stub. Read back exactly as inserted: a column the revision does
  // not hold is absent, not null.
  Attributes attributes;
  // Stored as given by InsertRevision, changed only by SetRevisionAudit
  // (FillStub keeps it).
  RevisionAudit audit;
};

// One condition of a view query; the engine has validated the column name
// (a column of the table or "id") and the value's kind against its type.
struct ViewCondition {
  std::string column;
  v1::Operator op = v1::OPERATOR_UNSPECIFIED;
  v1::Value value;  // Unset for IS_NULL / IS_NOT_NULL.
};

// Keyset position: the query continues strictly after this row.
struct ViewCursor {
  v1::Value order_value;  // The order column's value (unset when ordering by id).
  std::string id;
};

// A query over the view (the winners of live records).
// Order: by `order_by`, then by id, in the same direction. Nulls sort after
// every value ascending and before every value descending.
struct ViewQuery {
  std::vector<ViewCondition> conditions;  // ANDed.
  // Only rows stored with conflicted = true. Backends keep those rows
  // indexed: such a query does not read the other rows.
  bool conflicted_only = false;
  std::string order_by = "id";            // A column of the table, or "id".
  bool descending = false;
  int limit = 100;  // REQUIRES: > 0.
  std::optional<ViewCursor> after;
};

// A consistent snapshot of the store. Reads see every write committed before
// the transaction began and, for a WriteTransaction, its own writes.
// Not thread-safe: one thread at a time. Destroying it ends it.
class ReadTransaction {
 public:
  virtual ~ReadTransaction() = default;

  // Every table, ordered by name.
  virtual absl::StatusOr<std::vector<v1::Table>> ListTables() = 0;
  // NOT_FOUND if there is no table `name`.
  virtual absl::StatusOr<v1::Table> GetTable(std::string_view name) = 0;

  // One revision of record `id`; NOT_FOUND if absent.
  virtual absl::StatusOr<StoredRevision> GetRevision(
      const v1::Table& table, std::string_view id, std::string_view revision) = 0;
  // The leaves of record `id`, in no particular order; empty if the record
  // has no revision.
  virtual absl::StatusOr<std::vector<StoredRevision>> GetLeaves(
      const v1::Table& table, std::string_view id) = 0;
  // Every revision of record `id`, in no particular order.
  virtual absl::StatusOr<std::vector<StoredRevision>> GetHistory(
      const v1::Table& table, std::string_view id) = 0;

  // The view row of record `id` (table, id, revision, conflicted and every
  // column); NOT_FOUND if the record has no live winner.
  virtual absl::StatusOr<v1::Record> GetViewRow(const v1::Table& table,
                                                std::string_view id) = 0;
  // How many view rows (live records) the table has.
  virtual absl::StatusOr<int64_t> CountViewRows(const v1::Table& table) = 0;
  // View rows matching `query`, in its order, at most query.limit, each as
  // GetViewRow returns it.
  virtual absl::StatusOr<std::vector<v1::Record>> QueryView(
      const v1::Table& table, const ViewQuery& query) = 0;

  // Feed entries with seq > since, ascending, at most `limit` (> 0); only
  // those of `tables` unless it is empty. At most one entry per (kind,
  // table, id): its latest.
  virtual absl::StatusOr<std::vector<v1::Change>> ScanChanges(
      int64_t since, const std::vector<std::string>& tables, int limit) = 0;
  // How many entries ScanChanges(since, tables, unlimited) would return:
  // the feed entries with seq > since (of `tables` unless it is empty). Costs
  // a walk over those entries (no record is read): call it once per
  // catch-up, not per page.
  virtual absl::StatusOr<int64_t> CountChanges(int64_t since,
                                               const std::vector<std::string>& tables) = 0;
  // The highest seq ever assigned; 0 for a new store.
  virtual absl::StatusOr<int64_t> LastSeq() = 0;

  // Node metadata (node id, ...). NOT_FOUND if `key` was never set.
  virtual absl::StatusOr<std::string> GetMeta(std::string_view key) = 0;
};

// The single writer. Writes are visible to new transactions once Commit
// returns OK; destroying the transaction without a successful Commit rolls
// every write back.
class WriteTransaction : public ReadTransaction {
 public:
  // Creates the table with its history and view. ALREADY_EXISTS if a table
  // of that name exists.
  virtual absl::Status CreateTable(const v1::Table& table) = 0;

  // Appends columns to an existing table. `table` is its new definition:
  // the stored columns (same names, same order) followed by at least one
  // new column. The view and the history gain the new columns (an indexed
  // one gets its view index), the definition is replaced, and every view
  // row takes each new column's default_value (null when unset). Stored
  // revisions keep the columns they hold. NOT_FOUND if there is no such
  // table; INVALID_ARGUMENT if `table` does not extend the stored columns.
  virtual absl::Status AppendColumns(const v1::Table& table) = 0;

  // Adds `rev` (live, tombstone or stub) to the history of its record and
  // marks its parent (if stored) as no longer a leaf. ALREADY_EXISTS if the
  // record already has that revision (nothing is changed); INVALID_ARGUMENT
  // if a live revision's attributes are not exactly a prefix of the
  // table's columns, or a tombstone or stub has attributes.
  virtual absl::Status InsertRevision(const v1::Table& table,
                                      const StoredRevision& rev) = 0;

  // Replaces the stored stub `rev.revision` of record `rev.id` by `rev`,
  // its content (not a stub; attributes as for InsertRevision). The parent,
  // generation, deleted flag, leaf flag and audit stay as stored. NOT_FOUND if the
  // record has no such revision; FAILED_PRECONDITION if the stored revision
  // is not a stub; INVALID_ARGUMENT as for InsertRevision.
  virtual absl::Status FillStub(const v1::Table& table, const StoredRevision& rev) = 0;

  // Replaces the audit of stored revision `revision` of record `id` by
  // `audit` (unknown clears it). Nothing else of the revision changes.
  // NOT_FOUND if the record has no such revision.
  virtual absl::Status SetRevisionAudit(const v1::Table& table, std::string_view id,
                                        std::string_view revision,
                                        const RevisionAudit& audit) = 0;

  // Makes `winner` (a live revision: id, revision, conflicted, every column;
  // a column left out is null) the view row of its record, replacing any
  // previous one. The backend stores `conflicted` as given (the engine
  // computes it) and indexes the rows where it is true.
  virtual absl::Status UpsertViewRow(const v1::Table& table,
                                     const v1::Record& winner) = 0;
  // Removes the view row of record `id`; OK if there is none.
  virtual absl::Status DeleteViewRow(const v1::Table& table, std::string_view id) = 0;

  // Appends `change` (its seq is ignored; kind, table, id, revision,
  // deleted and conflicted are kept) to the feed with the next seq, dropping
  // the earlier entry of the same (kind, table, id). Returns the new seq.
  virtual absl::StatusOr<int64_t> AppendChange(const v1::Change& change) = 0;

  virtual absl::Status SetMeta(std::string_view key, std::string_view value) = 0;

  // Makes every write of the transaction durable (as the backend's
  // durability option says) and visible. After Commit, whatever it returned,
  // the transaction may only be destroyed. UNAVAILABLE if the store cannot
  // be written (disk full, I/O error): nothing of the transaction is kept.
  virtual absl::Status Commit() = 0;
};

// Changes made to a backup copy before it is reported done (Storage::Backup):
// runs in a write transaction over the copy, never over the live store. An
// error aborts the backup and is returned by it.
using BackupEdit = std::function<absl::Status(WriteTransaction& copy)>;

// A store. Thread-safe: any number of read transactions run concurrently
// with at most one write transaction; BeginWrite waits for the current writer
// to finish. A thread must not hold a read transaction while it begins a
// write transaction (the memory backend would deadlock).
class Storage {
 public:
  virtual ~Storage() = default;
  virtual absl::StatusOr<std::unique_ptr<ReadTransaction>> BeginRead() = 0;
  virtual absl::StatusOr<std::unique_ptr<WriteTransaction>> BeginWrite() = 0;
  // Writes a consistent copy of the store to a new file at `path`, a store
  // of the same backend that opens like this one: it holds every write
  // committed before Backup was called and nothing of a transaction that
  // was not committed when its snapshot was taken. Writers and readers go on
  // meanwhile. Then `edit` (may be empty) runs in a write transaction over
  // the copy, which is committed; then the file and its directory are
  // synced, so the copy survives a power loss once Backup returns. Returns
  // the size of the file in bytes.
  //
  // ALREADY_EXISTS if `path` exists (it is left alone); FAILED_PRECONDITION
  // if the backend keeps nothing on disk (memory); UNAVAILABLE if the copy
  // cannot be written (no such directory, disk full, I/O error); `edit`'s
  // error as it is. On any failure nothing is left at `path`. The live
  // store is never changed.
  virtual absl::StatusOr<int64_t> Backup(const std::string& path, const BackupEdit& edit) = 0;

  // "sqlite" or "memory".
  virtual std::string_view Name() const = 0;
  // The settings the store itself keeps, which options cannot change once
  // it exists, as `key=value` words for status output ("page_size=4096" for
  // SQLite); empty if there are none.
  virtual std::string Settings() const = 0;
  // A name for this physical copy of the store, which a copy of it does not
  // share: for SQLite the database file's inode number and birth time (a
  // copied, restored or unpacked file is a new file); for memory a random
  // id per store. Stable for the life of the store. The engine keeps it to
  // notice that it was opened from a copy (docs/replication-protocol.md,
  // "Identity"). Empty if the backend cannot tell.
  virtual std::string Identity() const = 0;
};

}  // namespace recondb::storage

#endif  // RECONDB_STORAGE_STORAGE_H_
