// The recondb engine: typed tables, revisioned records, winner election,
// conflicts, tombstones and the change feed, over a storage::Storage. It
// knows nothing of gRPC or SQL. Contract of each call: docs/api.md.
#ifndef RECONDB_ENGINE_ENGINE_H_
#define RECONDB_ENGINE_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "engine/backup.h"
#include "engine/feed_lineage.h"
#include "engine/checkpoint.h"
#include "google/protobuf/field_mask.pb.h"
#include "recondb/v1/database.pb.h"
#include "recondb/v1/types.pb.h"
#include "spdlog/logger.h"
#include "storage/storage.h"

namespace recondb::engine {

namespace internal {
struct NodeIdentity;
}  // namespace internal

struct EngineOptions {
  // Where everything is kept. Not owned; must outlive the engine. Required.
  storage::Storage* storage = nullptr;
  // Default: the system clock. Not owned.
  Clock* clock = Clock::System();
  // Default: a logger that drops everything.
  std::shared_ptr<spdlog::logger> logger;
  // The canonical encoding of one revision may not exceed this
  // (RESOURCE_EXHAUSTED). Default: 1 MiB.
  int64_t max_record_bytes = 1 << 20;
};

// The principal a local write is made for when the caller names none (the
// built-in principal of a node without authentication).
inline constexpr char kAnonymousAuthor[] = "anonymous";

// A revision sent by another node, grafted as it is. `rev.audit` is the
// audit the sender holds for it (unknown if it sent none).
struct ForeignRevision {
  std::string table;
  storage::StoredRevision rev;  // `leaf` is ignored.
};


// One record of a page of the change feed, for replication.
struct ChangedRecord {
  std::string table;
  std::string id;
  std::vector<std::string> leaves;  // Every leaf of the record's tree.
  // The audit of each leaf, in the order of `leaves`; empty when the sender
  // sent none (a version 2 peer), an unknown entry for a leaf whose audit
  // the sender does not know.
  std::vector<storage::RevisionAudit> leaf_audits;
};

// A page of the change feed, for replication.
struct ChangePage {
  // Tables whose definition changed in the page (CHANGE_KIND_TABLE).
  std::vector<v1::Table> tables;
  std::vector<ChangedRecord> records;
  // The page covers the feed up to this seq: the last entry's seq, or the
  // feed's last seq when the page is the end of the (filtered) feed.
  int64_t up_to_seq = 0;
  // True when the page reaches the end of the feed as it was when read.
  bool end_of_feed = false;
};

// What a receiver lacks of one record (answer to a ChangedRecord).
struct RevisionWant {
  std::string table;
  std::string id;
  std::vector<std::string> missing;      // Offered leaves not stored here.
  std::vector<std::string> known_leaves;  // The receiver's own leaves.
};

// Called after each commit that appended to the change feed, with the last
// seq of that commit, on the committing thread. Must not block.
using ChangeListener = std::function<void(int64_t last_seq)>;

// Thread-safe. Reads run concurrently; writes are serialized by the storage's
// single writer and hold no engine-wide lock while they wait for it.
class Engine {
 public:
  // Opens the engine over options.storage, creating the node id on first
  // use. INVALID_ARGUMENT if options.storage is null; storage errors as is.
  static absl::StatusOr<std::unique_ptr<Engine>> Open(EngineOptions options);

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine();

  // The id of this node (a UUID): made on first open, and made anew when
  // the store is opened from a copy (internal/node_identity.h).
  const std::string& node_id() const { return node_id_; }
  // The node id the store had until this open found it to be a copy (a
  // restored backup, a cloned directory); empty otherwise.
  const std::string& copied_from() const { return copied_from_; }
  // This opening of the store: a random id no other process, and no other
  // copy of the store, ever has. It names the feed the seqs of this process
  // belong to (engine/feed_lineage.h).
  const std::string& incarnation() const { return lineage_.back().id; }
  // Every incarnation of this store's feed, this one last.
  const FeedLineage& lineage() const { return lineage_; }
  // Where this node, as a source, may resume a receiver whose checkpoint is
  // `seq` of the feed of `incarnation` (VerifiedResumePoint): `seq` itself
  // when that is provably part of this node's feed, else an earlier safe
  // point, 0 at worst.
  int64_t ResumePoint(std::string_view incarnation, int64_t seq) const;

  // ---- Tables ----
  // INVALID_ARGUMENT for a bad name, column or default; ALREADY_EXISTS.
  // Returns the stored definition (with create_time and created_by).
  absl::StatusOr<v1::Table> CreateTable(const v1::Table& table);
  absl::StatusOr<v1::Table> GetTable(std::string_view name);
  absl::StatusOr<std::vector<v1::Table>> ListTables();
  // Appends `columns` to table `table_name` (an additive change: records
  // written before it keep their revisions and read the new columns as
  // their default, or null). INVALID_ARGUMENT for no column, a bad name,
  // type or default, or a name given twice; NOT_FOUND for an unknown table;
  // ALREADY_EXISTS for a column the table has; FAILED_PRECONDITION for a
  // column that is neither nullable nor has a default. Returns the new
  // definition; a CHANGE_KIND_TABLE entry is appended to the feed.
  absl::StatusOr<v1::Table> AddColumns(std::string_view table_name,
                                       const std::vector<v1::Column>& columns);

  // ---- Records ----
  // Creates (record.revision empty) or updates (record.revision a live leaf)
  // a record; `mask` may be null. Returns the new revision with every column
  // and the record's conflicted flag. A create over a deleted record
  // (recreation) also acknowledges the record's other unreviewed deletes
  // (engine/DESIGN.md "Deleted conflicts"). INVALID_ARGUMENT (output-only
  // fields set among them), NOT_FOUND (table, record or revision), ALREADY_EXISTS
  // (create over a live record), ABORTED (revision not a live leaf: stale),
  // RESOURCE_EXHAUSTED (over max_record_bytes).
  //
  // Every local write (PutRecord, ResolveConflict, DeleteRecord) stamps the
  // revisions it makes with their audit: `author` (a principal name, else
  // INVALID_ARGUMENT), this node's id and the clock's time
  // (docs/revision-encoding.md, "Audit metadata").
  absl::StatusOr<v1::Record> PutRecord(const v1::Record& record,
                                       const google::protobuf::FieldMask* mask,
                                       std::string_view author = kAnonymousAuthor);
  // Resolves the conflicts of record (record.table, record.id) in one
  // transaction: writes record.attributes (validated, defaulted and masked
  // exactly as PutRecord does, the winner being the parent) as a child of
  // the winner, closes every other live leaf L with a tombstone L' and its
  // acknowledgement L'', and acknowledges every deleted conflict T with a
  // tombstone child T'; one change-feed entry. With record.deleted (no
  // attributes, no mask) the resolution chooses the delete: the winner is
  // closed like the other live leaves and the record is deleted.
  // record.revision must be the current winner. With no conflicts this is
  // an update (or a delete) of the winner. Returns the new winner (with
  // every column; it has no conflicts), or the winning tombstone.
  // INVALID_ARGUMENT (bad input, no revision, output-only fields, attributes
  // or mask with deleted), NOT_FOUND (table, record, revision; deleted record), ABORTED
  // (record.revision is not the current winner: the message names it),
  // RESOURCE_EXHAUSTED (over max_record_bytes). docs/api.md#conflicts.
  absl::StatusOr<v1::Record> ResolveConflict(const v1::Record& record,
                                             const google::protobuf::FieldMask* mask,
                                             std::string_view author = kAnonymousAuthor);
  // The winner (with its conflicted flag), or the asked revision (conflicted
  // unset). With include_conflicts, the record's conflicts and deleted
  // conflicts (none for a deleted record). NOT_FOUND for a deleted record
  // unless a revision is given.
  absl::StatusOr<v1::Record> GetRecord(const v1::GetRecordRequest& request);
  // Writes a tombstone child of request.revision (or of the winner) and
  // returns it. A revision that is a live leaf but not the winner is a
  // conflict being dismissed: its tombstone is acknowledged at once (a
  // tombstone child, returned instead) so that it is not a deleted
  // conflict. The result carries the record's conflicted flag after the
  // write. NOT_FOUND if the record is already deleted.
  absl::StatusOr<v1::Record> DeleteRecord(const v1::DeleteRecordRequest& request,
                                          std::string_view author = kAnonymousAuthor);
  absl::StatusOr<v1::ListRecordsResponse> ListRecords(
      const v1::ListRecordsRequest& request);
  // The number of live records of `table` (rows of its view). NOT_FOUND.
  absl::StatusOr<int64_t> CountLiveRecords(std::string_view table);
  absl::StatusOr<v1::GetRecordHistoryResponse> GetRecordHistory(
      const v1::GetRecordHistoryRequest& request);

  // ---- Change feed ----
  // Up to `limit` changes with seq > since, for `tables` (empty: all).
  // NOT_FOUND if a named table does not exist.
  absl::StatusOr<std::vector<v1::Change>> GetChanges(
      int64_t since, const std::vector<std::string>& tables, int limit);
  // The last committed seq.
  int64_t LastSeq() const { return last_seq_.load(std::memory_order_acquire); }
  // Registers `listener`; returns an id for RemoveChangeListener.
  int64_t AddChangeListener(ChangeListener listener);
  // After it returns, the listener is not running and will not be called.
  void RemoveChangeListener(int64_t id);

  // ---- Replication ----
  // Grafts `revisions` (any order, duplicates allowed) in one transaction,
  // without making anything new: each must have a parent either stored or in
  // the batch, a matching hash and valid content (normalized before hashing
  // as a local write is: -0.0 is stored and hashed as 0.0). Already stored
  // revisions are skipped when the copy agrees with the stored one (a body
  // fills a stored stub). Applying the same revisions in any order any number
  // of times gives the same state. INVALID_ARGUMENT (any bad revision; two
  // copies of one revision id, in the batch or stored, that differ in parent,
  // deleted flag or content) or NOT_FOUND (unknown table, missing parent)
  // refuse the whole batch. Each revision keeps the audit it carries
  // (validated: INVALID_ARGUMENT naming the field); for a revision already
  // stored, the stored audit is replaced when the carried one precedes it
  // (internal::AuditPrecedes), and the record gets a feed entry so that the
  // change is relayed. Returns how many were new.
  absl::StatusOr<int64_t> ApplyForeignRevisions(
      const std::vector<ForeignRevision>& revisions);
  // The same, also writing `checkpoint` (when not null) in the transaction.
  absl::StatusOr<int64_t> ApplyForeignRevisions(const std::vector<ForeignRevision>& revisions,
                                                const Checkpoint* checkpoint);
  // The stored checkpoint `key` (key, seq and source incarnation); seq 0
  // if never written. DATA_LOSS if the stored value is damaged.
  absl::StatusOr<Checkpoint> GetCheckpoint(std::string_view key);

  // Applies a table definition made elsewhere: creates the table if it is
  // new here, adds the columns it has beyond ours if it extends ours, does
  // nothing if ours extends it or equals it. FAILED_PRECONDITION if the two
  // definitions diverge (a column differs at the same position);
  // INVALID_ARGUMENT for an invalid definition. Returns true if anything
  // changed.
  absl::StatusOr<bool> ApplyForeignTable(const v1::Table& table);

  // Up to `limit` records changed after `since` (and table definitions
  // changed there), for `tables` (empty: all; tables that do not exist are
  // ignored), each with its leaves. One consistent snapshot.
  absl::StatusOr<ChangePage> ReadChangePage(int64_t since, const std::vector<std::string>& tables,
                                            int limit);
  // How many feed entries (records and table definitions) ReadChangePage
  // would still return after `since` for `tables` (same filter rules): what
  // a catch-up from `since` has left to offer. Walks those entries once
  // (storage::ReadTransaction::CountChanges): for the start of a catch-up,
  // not for every page.
  absl::StatusOr<int64_t> CountChangesAfter(int64_t since, const std::vector<std::string>& tables);
  // For each offered record, what of it is not stored here; records with
  // nothing missing are left out. NOT_FOUND for an unknown table;
  // INVALID_ARGUMENT for a malformed id or revision.
  absl::StatusOr<std::vector<RevisionWant>> DiffRevisions(
      const std::vector<ChangedRecord>& offered);
  // Applies the audits `offered` carries (ChangedRecord::leaf_audits) to the
  // revisions of them this node has, by the rule of ApplyForeignRevisions
  // (a stored audit is replaced only by one that precedes it; the record
  // gets a feed entry). When an offered audit is worse than the stored one,
  // the record also gets a feed entry, so that the better audit is offered
  // back to the sender. Writes nothing when every offered audit equals the
  // stored one, or is unknown. Returns how many revisions changed. INVALID_ARGUMENT for an invalid audit or a
  // leaf_audits list that does not match the leaves; NOT_FOUND for an
  // unknown table.
  absl::StatusOr<int64_t> MergeForeignAudit(const std::vector<ChangedRecord>& offered);
  // The revisions `wants` ask for, each with its ancestry down to (not
  // including) what the receiver's known leaves already cover, parents
  // before children. Wanted revisions carry their body; ancestors are
  // stubs (storage::StoredRevision::stub). A wanted revision this node does
  // not have is NOT_FOUND.
  absl::StatusOr<std::vector<ForeignRevision>> CollectRevisions(
      const std::vector<RevisionWant>& wants);

  // ---- Backup ----
  // Writes a consistent copy of the store to a new file at `path`
  // (storage::Storage::Backup: every write acknowledged before the call is
  // in it; writes go on meanwhile), marked as a copy: its store anchor is
  // "copy" and its backup/* keys say which node, up to which seq and when
  // (engine/backup.h). The live store is not changed. Returns what the copy
  // holds. ALREADY_EXISTS, FAILED_PRECONDITION (a backend that cannot be
  // backed up) and UNAVAILABLE as the storage says; nothing is left at
  // `path` on failure.
  absl::StatusOr<BackupInfo> Backup(const std::string& path);

  // Node metadata for other modules (the reconciler's peers...). The
  // engine's own keys ("node_id", "store_anchor", "checkpoint/...",
  // "backup/...") are refused
  // (INVALID_ARGUMENT). NOT_FOUND if never set.
  absl::StatusOr<std::string> GetNodeMeta(std::string_view key);
  absl::Status SetNodeMeta(std::string_view key, std::string_view value);

 private:
  Engine(EngineOptions options, internal::NodeIdentity identity);

  // The definition of table `name`, from the cache or read through `txn`
  // (a fresh read transaction when null). NOT_FOUND names the table.
  absl::StatusOr<std::shared_ptr<const v1::Table>> FindTable(storage::ReadTransaction* txn,
                                                             std::string_view name);

  // A read transaction and the definition of table `name` as that
  // transaction sees it (a schema change never falls between the two).
  struct TableRead {
    std::unique_ptr<storage::ReadTransaction> txn;
    std::shared_ptr<const v1::Table> table;
  };
  absl::StatusOr<TableRead> BeginReadOf(std::string_view name) ABSL_LOCKS_EXCLUDED(schema_mu_);
  // A read transaction and every table's definition as it sees them (for
  // reads that span tables: replication).
  struct SchemaRead {
    std::unique_ptr<storage::ReadTransaction> txn;
    absl::flat_hash_map<std::string, std::shared_ptr<const v1::Table>> tables;
    // NOT_FOUND naming the table if the snapshot has no table `name`.
    absl::StatusOr<std::shared_ptr<const v1::Table>> Find(std::string_view name) const;
  };
  absl::StatusOr<SchemaRead> BeginSchemaRead() ABSL_LOCKS_EXCLUDED(schema_mu_);

  // Appends the CHANGE_KIND_TABLE entry of `table` (created or extended in
  // `txn`), caches the definition and commits, without telling listeners
  // (the caller does once it has released schema_mu_). Returns the seq.
  absl::StatusOr<int64_t> CommitTableChange(std::unique_ptr<storage::WriteTransaction> txn,
                                            const v1::Table& table)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(schema_mu_);
  // Appends the columns of `table` beyond those of `current` (which it
  // extends), after checking that each is additive (FAILED_PRECONDITION).
  absl::Status AppendColumnsInTxn(storage::WriteTransaction& txn, const v1::Table& current,
                                  const v1::Table& table) ABSL_EXCLUSIVE_LOCKS_REQUIRED(schema_mu_);

  // After revisions of record `id` were inserted: makes the best of `leaves`
  // (all the record's leaves) the view row, with the record's conflicted
  // flag (internal::FindConflicts), or removes the row when every leaf is
  // deleted, and appends the record's change with the same flag.
  struct Published {
    int64_t seq = 0;          // Of the change.
    bool conflicted = false;  // The record's flag after the write.
  };
  absl::StatusOr<Published> PublishWinner(storage::WriteTransaction& txn, const v1::Table& table,
                                          std::string_view id,
                                          std::vector<storage::StoredRevision> leaves);

  // Commits `txn`, ends it, then tells listeners about `last_seq` (0: the
  // transaction appended nothing to the feed).
  absl::Status CommitAndNotify(std::unique_ptr<storage::WriteTransaction> txn, int64_t last_seq);
  // The two halves of CommitAndNotify.
  absl::Status Commit(std::unique_ptr<storage::WriteTransaction> txn, int64_t last_seq);
  void NotifyListeners(int64_t last_seq);

  // The audit of a local write by `author`: this node, now.
  // INVALID_ARGUMENT if `author` is not a principal name.
  absl::StatusOr<storage::RevisionAudit> LocalAudit(std::string_view author) const;

  // Local writes: the child of `parent` (null for a first revision; else one
  // of `leaves`, the record's leaves), and in the same transaction, for each
  // of `close` (other leaves), internal::InsertReviewedClose. With
  // `acknowledge` (a tombstone only) the child is itself acknowledged by a
  // tombstone child (a dismissed conflict). Returns the last revision made
  // from `parent`, with the record's conflicted flag after the write.
  // Every revision made gets `audit`.
  absl::StatusOr<v1::Record> WriteLocalRevision(std::unique_ptr<storage::WriteTransaction> txn,
                                                const storage::RevisionAudit& audit,
                                                const v1::Table& table, std::string_view id,
                                                const storage::StoredRevision* parent,
                                                std::vector<storage::StoredRevision> leaves,
                                                bool deleted, storage::Attributes attributes,
                                                bool acknowledge = false,
                                                std::vector<storage::StoredRevision> close = {});

  EngineOptions options_;
  const std::string node_id_;
  const std::string copied_from_;
  const FeedLineage lineage_;
  std::atomic<int64_t> last_seq_;

  // Held exclusively by a schema change (CreateTable, AddColumns,
  // ApplyForeignTable) from before its write transaction begins until it
  // commits; shared by BeginReadOf. So a reader never pairs a snapshot from
  // before a change with a definition from after it (whose columns its
  // snapshot would not have). Taken before any storage transaction.
  absl::Mutex schema_mu_;

  absl::Mutex tables_mu_;
  // Tables are never dropped and only change by commit, so cached
  // definitions stay true.
  absl::flat_hash_map<std::string, std::shared_ptr<const v1::Table>> tables_
      ABSL_GUARDED_BY(tables_mu_);

  absl::Mutex listeners_mu_;
  int64_t next_listener_id_ ABSL_GUARDED_BY(listeners_mu_) = 1;
  std::vector<std::pair<int64_t, ChangeListener>> listeners_ ABSL_GUARDED_BY(listeners_mu_);
};

}  // namespace recondb::engine

#endif  // RECONDB_ENGINE_ENGINE_H_
