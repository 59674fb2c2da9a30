// What only the SQLite backend promises, beyond the conformance suite: a real
// file that survives a reopen, its pragmas, a layout that plain SQL tools read
// (docs/storage-format.md), quoted identifiers, the format version check, and
// its locking.
#include "storage/sqlite_storage.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/internal/sqlite_table_sql.h"
#include "storage/internal/sqlite_testing.h"
#include "storage/storage.h"
#include "tests/support/status_matchers.h"
#include "tests/support/tables.h"
#include "tests/support/temp_dir.h"
#include "tests/support/values.h"

namespace recondb::storage {
namespace {

using ::recondb::testing::AddColumn;
using ::recondb::testing::BoolValue;
using ::recondb::testing::BytesValue;
using ::recondb::testing::FloatValue;
using ::recondb::testing::IntValue;
using ::recondb::testing::IsOkAndHolds;
using ::recondb::testing::NullValue;
using ::recondb::testing::StatusIs;
using ::recondb::testing::StringValue;
using ::recondb::testing::TempDir;
using ::recondb::testing::TimestampValue;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using Row = std::vector<std::string>;

// 2026-01-02T03:04:05.123456789Z.
constexpr int64_t kDeadlineSeconds = 1767323045;
constexpr int32_t kDeadlineNanos = 123456789;

// A plain sqlite3 connection, as a user's shell would open the file.
class PlainDb {
 public:
  explicit PlainDb(const std::string& path, bool writable = false, bool create = false) {
    const int flags = (writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) |
                      (create ? SQLITE_OPEN_CREATE : 0);
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, flags, nullptr), SQLITE_OK);
  }
  ~PlainDb() { sqlite3_close(db_); }

  // Every row of `sql`, each column as text ("NULL" for null).
  std::vector<Row> Query(const std::string& sql) {
    std::vector<Row> rows;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return rows;
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      Row& row = rows.emplace_back();
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* text = sqlite3_column_text(stmt, i);
        row.push_back(text == nullptr ? "NULL" : reinterpret_cast<const char*>(text));
      }
    }
    if (rc != SQLITE_DONE) ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    return rows;
  }

  void Exec(const std::string& sql) {
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
  }

 private:
  sqlite3* db_ = nullptr;
};

v1::Value Deadline() { return TimestampValue(kDeadlineSeconds, kDeadlineNanos); }

// The todo example, plus a float and a bytes column.
v1::Table Todos() {
  v1::Table table;
  table.set_name("todos");
  AddColumn(table, "title", v1::COLUMN_TYPE_STRING);
  AddColumn(table, "completed", v1::COLUMN_TYPE_BOOL, /*indexed=*/true);
  AddColumn(table, "deadline_at", v1::COLUMN_TYPE_TIMESTAMP, /*indexed=*/true);
  AddColumn(table, "score", v1::COLUMN_TYPE_FLOAT);
  AddColumn(table, "attachment", v1::COLUMN_TYPE_BYTES);
  AddColumn(table, "count", v1::COLUMN_TYPE_INT);
  return table;
}

Attributes TodoAttributes() {
  return {{"title", StringValue("Buy water filters")},
          {"completed", BoolValue(true)},
          {"deadline_at", Deadline()},
          {"score", FloatValue(2.5)},
          {"attachment", BytesValue("\x01\x02")},
          {"count", IntValue(1234)}};
}

std::string Rev(int generation, char c) {
  return absl::StrCat(generation, "-", std::string(32, c));
}

StoredRevision Revision(const std::string& id, const std::string& revision,
                        const std::string& parent, int64_t generation, Attributes attributes) {
  StoredRevision rev;
  rev.id = id;
  rev.revision = revision;
  rev.parent = parent;
  rev.generation = generation;
  rev.deleted = attributes.empty();
  rev.attributes = std::move(attributes);
  return rev;
}

v1::Record ViewRow(const std::string& table, const std::string& id, const std::string& revision,
                   const Attributes& attributes) {
  v1::Record record;
  record.set_table(table);
  record.set_id(id);
  record.set_revision(revision);
  for (const auto& [name, value] : attributes) (*record.mutable_attributes())[name] = value;
  return record;
}

v1::Change RecordChange(const std::string& table, const std::string& id,
                        const std::string& revision) {
  v1::Change change;
  change.set_kind(v1::CHANGE_KIND_RECORD);
  change.set_table(table);
  change.set_id(id);
  change.set_revision(revision);
  return change;
}

class SqliteStorageTest : public ::testing::Test {
 protected:
  std::string path() const { return dir_.File("recondb.sqlite3"); }

  absl::StatusOr<std::unique_ptr<Storage>> Open(Durability durability = Durability::kFull) {
    SqliteOptions options;
    options.path = path();
    options.durability = durability;
    return OpenSqliteStorage(options);
  }

  absl::StatusOr<std::unique_ptr<Storage>> OpenWithPageSize(int page_size) {
    SqliteOptions options;
    options.path = path();
    options.page_size = page_size;
    return OpenSqliteStorage(options);
  }

  // Creates todos and writes one record "t1" (revision 1, then 2 as its
  // child), its view row, its change and a meta key; commits.
  void WriteTodo(Storage& storage) {
    ASSERT_OK_AND_ASSIGN(auto txn, storage.BeginWrite());
    ASSERT_OK(txn->CreateTable(Todos()));
    ASSERT_OK(txn->InsertRevision(Todos(), Revision("t1", Rev(1, 'a'), "", 1, TodoAttributes())));
    Attributes second = TodoAttributes();
    second["completed"] = BoolValue(false);
    second["title"] = NullValue();
    ASSERT_OK(txn->InsertRevision(Todos(), Revision("t1", Rev(2, 'b'), Rev(1, 'a'), 2, second)));
    ASSERT_OK(txn->UpsertViewRow(Todos(), ViewRow("todos", "t1", Rev(2, 'b'), second)));
    ASSERT_OK(txn->AppendChange(RecordChange("todos", "t1", Rev(2, 'b'))).status());
    ASSERT_OK(txn->SetMeta("node_id", "node-1"));
    ASSERT_OK(txn->Commit());
  }

  TempDir dir_;
};

TEST_F(SqliteStorageTest, WritesSurviveClosingAndReopeningTheFile) {
  {
    ASSERT_OK_AND_ASSIGN(auto storage, Open());
    WriteTodo(*storage);
  }
  EXPECT_TRUE(std::filesystem::exists(path()));
  ASSERT_OK_AND_ASSIGN(auto storage, Open());
  ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginRead());
  EXPECT_THAT(txn->GetMeta("node_id"), IsOkAndHolds(std::string("node-1")));
  ASSERT_OK_AND_ASSIGN(v1::Table table, txn->GetTable("todos"));
  EXPECT_EQ(table.SerializeAsString(), Todos().SerializeAsString());
  ASSERT_OK_AND_ASSIGN(StoredRevision first, txn->GetRevision(Todos(), "t1", Rev(1, 'a')));
  EXPECT_FALSE(first.leaf);
  EXPECT_EQ(first.attributes.at("title").string(), "Buy water filters");
  // Stored with microsecond precision: the nanoseconds are truncated.
  EXPECT_EQ(first.attributes.at("deadline_at").timestamp().seconds(), kDeadlineSeconds);
  EXPECT_EQ(first.attributes.at("deadline_at").timestamp().nanos(), 123456000);
  ASSERT_OK_AND_ASSIGN(v1::Record row, txn->GetViewRow(Todos(), "t1"));
  EXPECT_EQ(row.revision(), Rev(2, 'b'));
  EXPECT_FALSE(row.attributes().at("completed").bool_());
  EXPECT_EQ(row.attributes().at("title").kind_case(), v1::Value::kNull);
  EXPECT_THAT(txn->LastSeq(), IsOkAndHolds(1));
}

TEST_F(SqliteStorageTest, JournalIsWalAndSynchronousFollowsDurability) {
  {
    ASSERT_OK_AND_ASSIGN(auto storage, Open(Durability::kFull));
    EXPECT_THAT(internal::SqliteWriterPragmaForTesting(*storage, "journal_mode"),
                IsOkAndHolds(std::string("wal")));
    EXPECT_THAT(internal::SqliteWriterPragmaForTesting(*storage, "synchronous"),
                IsOkAndHolds(std::string("2")));  // FULL.
    EXPECT_THAT(internal::SqliteWriterPragmaForTesting(*storage, "busy_timeout"),
                IsOkAndHolds(std::string("5000")));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto storage, Open(Durability::kNormal));
    EXPECT_THAT(internal::SqliteWriterPragmaForTesting(*storage, "synchronous"),
                IsOkAndHolds(std::string("1")));  // NORMAL.
  }
  // WAL is a property of the file, seen by any connection.
  PlainDb plain(path());
  EXPECT_THAT(plain.Query("PRAGMA journal_mode"), ElementsAre(Row{"wal"}));
}

TEST_F(SqliteStorageTest, NewStoreTakesTheConfiguredPageSize) {
  {
    ASSERT_OK_AND_ASSIGN(auto storage, Open());
    WriteTodo(*storage);
  }
  EXPECT_THAT(PlainDb(path()).Query("PRAGMA page_size"),
              ElementsAre(Row{std::to_string(kDefaultPageSize)}));

  TempDir other;
  SqliteOptions options;
  options.path = other.File("recondb.sqlite3");
  options.page_size = 8192;
  {
    ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(options));
    WriteTodo(*storage);
  }
  EXPECT_THAT(PlainDb(options.path).Query("PRAGMA page_size"), ElementsAre(Row{"8192"}));
  ASSERT_OK_AND_ASSIGN(auto reopened, OpenSqliteStorage(options));
  EXPECT_EQ(reopened->Settings(), "page_size=8192");
}

// SQLite cannot change the page size of a WAL database in place: a store
// keeps the size it was created with, whatever a later open asks for.
TEST_F(SqliteStorageTest, ExistingStoreKeepsItsPageSize) {
  {
    ASSERT_OK_AND_ASSIGN(auto storage, OpenWithPageSize(4096));
    WriteTodo(*storage);
  }
  ASSERT_OK_AND_ASSIGN(auto storage, OpenWithPageSize(1024));
  {
    ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
    ASSERT_OK(txn->UpsertViewRow(Todos(), ViewRow("todos", "t2", Rev(1, 'c'), TodoAttributes())));
    ASSERT_OK(txn->Commit());
  }
  EXPECT_THAT(internal::SqliteWriterPragmaForTesting(*storage, "page_size"),
              IsOkAndHolds(std::string("4096")));
  // What status output shows is the file's page size, not the option's.
  EXPECT_EQ(storage->Settings(), "page_size=4096");
  ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginRead());
  EXPECT_THAT(txn->CountViewRows(Todos()), IsOkAndHolds(2));
  EXPECT_THAT(txn->GetMeta("node_id"), IsOkAndHolds(std::string("node-1")));
}

TEST_F(SqliteStorageTest, PageSizeOutsideSqlitesRangeIsRefusedBeforeTheFileIsMade) {
  for (int page_size : {0, 256, 1000, 3072, 131072, -1024}) {
    SCOPED_TRACE(page_size);
    absl::StatusOr<std::unique_ptr<Storage>> storage = OpenWithPageSize(page_size);
    EXPECT_EQ(storage.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(storage.status().message(), HasSubstr("page size"));
    EXPECT_FALSE(std::filesystem::exists(path()));
  }
  EXPECT_OK(OpenWithPageSize(512).status());
}

// There is no mode without the background checkpointer (0 once meant
// SQLite's own, in the committing thread; nothing used or tested it).
TEST_F(SqliteStorageTest, CheckpointFramesBelowOneAreRefusedBeforeTheFileIsMade) {
  for (int frames : {0, -1}) {
    SCOPED_TRACE(frames);
    SqliteOptions options;
    options.path = path();
    options.checkpoint_frames = frames;
    EXPECT_THAT(OpenSqliteStorage(options),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("checkpoint_frames")));
    EXPECT_FALSE(std::filesystem::exists(path()));
  }
}

TEST_F(SqliteStorageTest, PlainSqliteSeesTypedColumnsAndIsoTimestamps) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open());
  WriteTodo(*storage);
  {
    ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
    ASSERT_OK(txn->UpsertViewRow(Todos(), ViewRow("todos", "t2", Rev(1, 'c'), TodoAttributes())));
    ASSERT_OK(txn->InsertRevision(Todos(), Revision("t1", Rev(3, 'd'), Rev(2, 'b'), 3, {})));
    // A stub and its child holding the first two columns only.
    StoredRevision stub = Revision("t3", Rev(1, 'e'), "", 1, {});
    stub.deleted = false;
    stub.stub = true;
    ASSERT_OK(txn->InsertRevision(Todos(), stub));
    ASSERT_OK(txn->InsertRevision(
        Todos(), Revision("t3", Rev(2, 'f'), Rev(1, 'e'), 2,
                          {{"title", StringValue("two")}, {"completed", NullValue()}})));
    ASSERT_OK(txn->Commit());
  }
  PlainDb plain(path());
  EXPECT_THAT(plain.Query("SELECT * FROM todos ORDER BY id"),
              ElementsAre(Row{"t1", Rev(2, 'b'), "0", "NULL", "0", "2026-01-02T03:04:05.123456Z",
                              "2.5", "\x01\x02", "1234"},
                          Row{"t2", Rev(1, 'c'), "0", "Buy water filters", "1",
                              "2026-01-02T03:04:05.123456Z", "2.5", "\x01\x02", "1234"}));
  EXPECT_THAT(
      plain.Query("SELECT typeof(id), typeof(revision), typeof(title), typeof(completed),"
                  " typeof(deadline_at), typeof(score), typeof(attachment), typeof(count)"
                  " FROM todos WHERE id = 't2'"),
      ElementsAre(Row{"text", "text", "text", "integer", "text", "real", "blob", "integer"}));
  EXPECT_THAT(plain.Query("SELECT name, type, pk FROM pragma_table_info('todos')"),
              ElementsAre(Row{"id", "TEXT", "1"}, Row{"revision", "TEXT", "0"},
                          Row{"_conflicted", "INTEGER", "0"}, Row{"title", "TEXT", "0"},
                          Row{"completed", "INTEGER", "0"}, Row{"deadline_at", "TEXT", "0"},
                          Row{"score", "REAL", "0"}, Row{"attachment", "BLOB", "0"},
                          Row{"count", "INTEGER", "0"}));
  // The history: every revision, a tombstone with every column null.
  EXPECT_THAT(plain.Query("SELECT seq, id, revision, parent, generation, deleted, leaf, title,"
                          " deadline_at FROM todos_history ORDER BY seq"),
              ElementsAre(Row{"1", "t1", Rev(1, 'a'), "", "1", "0", "0", "Buy water filters",
                              "2026-01-02T03:04:05.123456Z"},
                          Row{"2", "t1", Rev(2, 'b'), Rev(1, 'a'), "2", "0", "0", "NULL",
                              "2026-01-02T03:04:05.123456Z"},
                          Row{"3", "t1", Rev(3, 'd'), Rev(2, 'b'), "3", "1", "1", "NULL", "NULL"},
                          Row{"4", "t3", Rev(1, 'e'), "", "1", "0", "0", "NULL", "NULL"},
                          Row{"5", "t3", Rev(2, 'f'), Rev(1, 'e'), "2", "0", "1", "two", "NULL"}));
  // "_stub" flags a revision known by id only; "_columns" counts the
  // columns a revision holds (none for a tombstone or a stub).
  EXPECT_THAT(plain.Query("SELECT seq, _stub, _columns, completed FROM todos_history ORDER BY seq"),
              ElementsAre(Row{"1", "0", "6", "1"}, Row{"2", "0", "6", "0"},
                          Row{"3", "0", "0", "NULL"}, Row{"4", "1", "0", "NULL"},
                          Row{"5", "0", "2", "NULL"}));
  // Internal tables.
  EXPECT_THAT(plain.Query("SELECT key, value FROM _meta ORDER BY key"),
              ElementsAre(Row{"format_version", "5"}, Row{"node_id", "node-1"}));
  EXPECT_THAT(plain.Query("SELECT name FROM _tables"), ElementsAre(Row{"todos"}));
  EXPECT_THAT(plain.Query("SELECT seq, kind, table_name, record_id, revision, deleted, conflicted"
                          " FROM _changes"),
              ElementsAre(Row{"1", "1", "todos", "t1", Rev(2, 'b'), "0", "0"}));
  EXPECT_THAT(
      plain.Query("SELECT name, tbl_name FROM sqlite_schema WHERE type = 'index'"
                  " AND name LIKE '\\_idx\\_%' ESCAPE '\\' ORDER BY name"),
      ElementsAre(Row{"_idx__changes-entry", "_changes"}, Row{"_idx_todos-_conflicted", "todos"},
                  Row{"_idx_todos-completed", "todos"}, Row{"_idx_todos-deadline_at", "todos"},
                  Row{"_idx_todos_history-id_revision", "todos_history"},
                  Row{"_idx_todos_history-leaves", "todos_history"}));
  // Timestamps compare as text in time order, so plain SQL can filter them.
  EXPECT_THAT(plain.Query("SELECT id FROM todos WHERE deadline_at >= '2026-01-02' ORDER BY id"),
              ElementsAre(Row{"t1"}, Row{"t2"}));
}

TEST_F(SqliteStorageTest, SqlKeywordsAreValidTableAndColumnNames) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open());
  std::vector<v1::Table> tables;
  for (const char* name : {"select", "drop_table", "order", "table"}) {
    v1::Table table;
    table.set_name(name);
    AddColumn(table, "from", v1::COLUMN_TYPE_STRING, /*indexed=*/true);
    AddColumn(table, "where", v1::COLUMN_TYPE_INT);
    AddColumn(table, "index", v1::COLUMN_TYPE_BOOL, /*indexed=*/true);
    tables.push_back(table);
  }
  {
    ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
    for (const v1::Table& table : tables) {
      ASSERT_OK(txn->CreateTable(table));
      for (int i = 0; i < 3; ++i) {
        const Attributes attrs = {
            {"from", StringValue(absl::StrCat("'); DROP TABLE \"_meta\"; --", i))},
            {"where", IntValue(i)},
            {"index", BoolValue(i % 2 == 0)}};
        const std::string id = absl::StrCat("r", i);
        ASSERT_OK(txn->InsertRevision(table, Revision(id, Rev(1, 'a'), "", 1, attrs)));
        ASSERT_OK(txn->UpsertViewRow(table, ViewRow(table.name(), id, Rev(1, 'a'), attrs)));
      }
      ASSERT_OK(txn->DeleteViewRow(table, "r1"));
    }
    ASSERT_OK(txn->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginRead());
  for (const v1::Table& table : tables) {
    SCOPED_TRACE(table.name());
    ViewQuery query;
    query.conditions = {{"index", v1::OPERATOR_EQ, BoolValue(true)},
                        {"where", v1::OPERATOR_GE, IntValue(0)}};
    query.order_by = "from";
    query.descending = true;
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Record> rows, txn->QueryView(table, query));
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].id(), "r2");
    EXPECT_EQ(rows[0].attributes().at("from").string(), "'); DROP TABLE \"_meta\"; --2");
    EXPECT_THAT(txn->GetLeaves(table, "r0"), IsOkAndHolds(::testing::SizeIs(1)));
  }
  EXPECT_THAT(txn->ListTables(), IsOkAndHolds(::testing::SizeIs(4)));
  EXPECT_THAT(txn->GetMeta("format_version"), IsOkAndHolds(std::string("5")));
  PlainDb plain(path());
  EXPECT_THAT(plain.Query("SELECT id, \"from\", \"where\", \"index\" FROM \"select\" ORDER BY id"),
              ElementsAre(Row{"r0", "'); DROP TABLE \"_meta\"; --0", "0", "1"},
                          Row{"r2", "'); DROP TABLE \"_meta\"; --2", "2", "1"}));
}

TEST_F(SqliteStorageTest, NewerFormatVersionIsFailedPrecondition) {
  { ASSERT_OK(Open().status()); }
  PlainDb(path(), /*writable=*/true)
      .Exec("UPDATE _meta SET value = '6' WHERE key = 'format_version'");
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("version 6")));
  PlainDb(path(), /*writable=*/true)
      .Exec("UPDATE _meta SET value = 'one' WHERE key = 'format_version'");
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kUnavailable));
  PlainDb(path(), /*writable=*/true)
      .Exec("UPDATE _meta SET value = '5' WHERE key = 'format_version'");
  EXPECT_OK(Open());
}

// Format 1 (docs/storage-format.md, "Format history") kept the feed's
// highest seq in sqlite_sequence (AUTOINCREMENT). Opening such a store
// migrates it: every entry keeps its seq, LastSeq is unchanged, and new seqs
// continue above it.
TEST_F(SqliteStorageTest, FormatOneStoreIsMigratedKeepingTheFeed) {
  {
    PlainDb v1(path(), /*writable=*/true, /*create=*/true);
    v1.Exec(
        "CREATE TABLE \"_meta\" (\"key\" TEXT PRIMARY KEY NOT NULL, \"value\" TEXT NOT NULL)"
        " WITHOUT ROWID;"
        "CREATE TABLE \"_tables\" (\"name\" TEXT PRIMARY KEY NOT NULL,"
        " \"definition\" BLOB NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE \"_changes\" (\"seq\" INTEGER PRIMARY KEY AUTOINCREMENT,"
        " \"kind\" INTEGER NOT NULL, \"table_name\" TEXT NOT NULL, \"record_id\" TEXT NOT NULL,"
        " \"revision\" TEXT NOT NULL, \"deleted\" INTEGER NOT NULL);"
        "CREATE UNIQUE INDEX \"_idx__changes-entry\""
        " ON \"_changes\" (\"kind\", \"table_name\", \"record_id\");"
        "INSERT INTO _meta VALUES ('format_version', '1'), ('node_id', 'node-1');");
    // Seqs 1 (a), 2 (b), then a again at 3 and 4: the feed holds 2 and 4.
    for (const char* entry : {"'a', 'r1'", "'b', 'r1'", "'a', 'r2'", "'a', 'r3'"}) {
      v1.Exec(absl::StrCat("INSERT OR REPLACE INTO _changes",
                           " (kind, table_name, record_id, revision, deleted)",
                           " VALUES (1, 'todos', ", entry, ", 0)"));
    }
    ASSERT_THAT(v1.Query("SELECT seq FROM sqlite_sequence WHERE name = '_changes'"),
                ElementsAre(Row{"4"}));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto storage, Open());
    ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
    EXPECT_THAT(txn->GetMeta("format_version"), IsOkAndHolds(std::string("5")));
    EXPECT_THAT(txn->GetMeta("node_id"), IsOkAndHolds(std::string("node-1")));
    EXPECT_THAT(txn->LastSeq(), IsOkAndHolds(4));
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> feed, txn->ScanChanges(0, {}, 10));
    ASSERT_EQ(feed.size(), 2u);
    EXPECT_EQ(feed[0].seq(), 2);
    EXPECT_EQ(feed[0].id(), "b");
    EXPECT_EQ(feed[1].seq(), 4);
    EXPECT_EQ(feed[1].revision(), "r3");
    // The entry of a is replaced at a new seq; the unique index still holds.
    EXPECT_THAT(txn->AppendChange(RecordChange("todos", "a", "r4")), IsOkAndHolds(5));
    ASSERT_OK(txn->Commit());
  }
  PlainDb plain(path());
  EXPECT_THAT(plain.Query("SELECT seq, record_id FROM _changes ORDER BY seq"),
              ElementsAre(Row{"2", "b"}, Row{"5", "a"}));
  EXPECT_THAT(plain.Query("SELECT count(*) FROM sqlite_sequence"), ElementsAre(Row{"0"}));
  EXPECT_THAT(plain.Query("SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%AUTOINCREMENT%'"
                          " OR name = '_changes_v2'"),
              ElementsAre(Row{"0"}));
  EXPECT_THAT(plain.Query("SELECT name FROM sqlite_schema WHERE tbl_name = '_changes'"
                          " AND type = 'index'"),
              ElementsAre(Row{"_idx__changes-entry"}));
}

// Format 2 (docs/storage-format.md, "Format history") had no stubs and no
// column counts: every revision held every column of its table. Opening such
// a store adds "_stub" and "_columns" to each history in place, and every
// existing revision reads back whole.
TEST_F(SqliteStorageTest, FormatTwoStoreIsMigratedInPlace) {
  {
    PlainDb v2(path(), /*writable=*/true, /*create=*/true);
    v2.Exec(
        "CREATE TABLE \"_meta\" (\"key\" TEXT PRIMARY KEY NOT NULL, \"value\" TEXT NOT NULL)"
        " WITHOUT ROWID;"
        "CREATE TABLE \"_tables\" (\"name\" TEXT PRIMARY KEY NOT NULL,"
        " \"definition\" BLOB NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE \"_changes\" (\"seq\" INTEGER PRIMARY KEY,"
        " \"kind\" INTEGER NOT NULL, \"table_name\" TEXT NOT NULL, \"record_id\" TEXT NOT NULL,"
        " \"revision\" TEXT NOT NULL, \"deleted\" INTEGER NOT NULL);"
        "CREATE UNIQUE INDEX \"_idx__changes-entry\""
        " ON \"_changes\" (\"kind\", \"table_name\", \"record_id\");"
        "INSERT INTO _meta VALUES ('format_version', '2'), ('node_id', 'node-1');"
        "CREATE TABLE \"todos\" (\"id\" TEXT PRIMARY KEY NOT NULL, \"revision\" TEXT NOT NULL,"
        " \"title\" TEXT, \"completed\" INTEGER, \"deadline_at\" TEXT, \"score\" REAL,"
        " \"attachment\" BLOB, \"count\" INTEGER) WITHOUT ROWID;"
        "CREATE TABLE \"todos_history\" (\"seq\" INTEGER PRIMARY KEY, \"id\" TEXT NOT NULL,"
        " \"revision\" TEXT NOT NULL, \"parent\" TEXT NOT NULL, \"generation\" INTEGER NOT NULL,"
        " \"deleted\" INTEGER NOT NULL, \"leaf\" INTEGER NOT NULL, \"title\" TEXT,"
        " \"completed\" INTEGER, \"deadline_at\" TEXT, \"score\" REAL, \"attachment\" BLOB,"
        " \"count\" INTEGER);"
        "CREATE UNIQUE INDEX \"_idx_todos_history-id_revision\""
        " ON \"todos_history\" (\"id\", \"revision\");"
        "CREATE INDEX \"_idx_todos_history-leaves\" ON \"todos_history\" (\"id\")"
        " WHERE \"leaf\" = 1;"
        "CREATE INDEX \"_idx_todos-completed\" ON \"todos\" (\"completed\");"
        "CREATE INDEX \"_idx_todos-deadline_at\" ON \"todos\" (\"deadline_at\");");
    v2.Exec(absl::StrCat("INSERT INTO _tables VALUES ('todos', X'",
                         absl::BytesToHexString(Todos().SerializeAsString()), "')"));
    v2.Exec(absl::StrCat(
        "INSERT INTO todos_history VALUES (1, 't1', '", Rev(1, 'a'), "', '', 1, 0, 0,"
        " 'Buy water filters', 1, '2026-01-02T03:04:05.123456Z', 2.5, X'0102', 1234),"
        " (2, 't1', '", Rev(2, 'b'), "', '", Rev(1, 'a'), "', 2, 1, 1,"
        " NULL, NULL, NULL, NULL, NULL, NULL)"));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto storage, Open());
    ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
    EXPECT_THAT(txn->GetMeta("format_version"), IsOkAndHolds(std::string("5")));
    ASSERT_OK_AND_ASSIGN(StoredRevision first, txn->GetRevision(Todos(), "t1", Rev(1, 'a')));
    EXPECT_FALSE(first.stub);
    EXPECT_EQ(first.attributes.size(), 6u);
    EXPECT_EQ(first.attributes.at("count").int_(), 1234);
    ASSERT_OK_AND_ASSIGN(StoredRevision tombstone, txn->GetRevision(Todos(), "t1", Rev(2, 'b')));
    EXPECT_TRUE(tombstone.deleted);
    EXPECT_TRUE(tombstone.leaf);
    EXPECT_THAT(tombstone.attributes, IsEmpty());
    // The migrated table takes stubs and new columns like a new one.
    StoredRevision stub = Revision("t2", Rev(1, 'c'), "", 1, {});
    stub.deleted = false;
    stub.stub = true;
    ASSERT_OK(txn->InsertRevision(Todos(), stub));
    v1::Table extended = Todos();
    AddColumn(extended, "note", v1::COLUMN_TYPE_STRING, /*indexed=*/true);
    ASSERT_OK(txn->AppendColumns(extended));
    ASSERT_OK_AND_ASSIGN(first, txn->GetRevision(extended, "t1", Rev(1, 'a')));
    EXPECT_EQ(first.attributes.size(), 6u);
    ASSERT_OK(txn->Commit());
  }
  PlainDb plain(path());
  EXPECT_THAT(plain.Query("SELECT seq, _stub, _columns FROM todos_history ORDER BY seq"),
              ElementsAre(Row{"1", "0", "6"}, Row{"2", "0", "6"}, Row{"3", "1", "0"}));
  // The appended column is in the view and the history, indexed in the view.
  EXPECT_THAT(plain.Query("SELECT name FROM pragma_table_info('todos') WHERE name = 'note'"),
              ElementsAre(Row{"note"}));
  EXPECT_THAT(plain.Query("SELECT name FROM pragma_table_info('todos_history')"
                          " WHERE name = 'note'"),
              ElementsAre(Row{"note"}));
  EXPECT_THAT(plain.Query("SELECT tbl_name FROM sqlite_schema WHERE name = '_idx_todos-note'"),
              ElementsAre(Row{"todos"}));
}

// Format 3 (docs/storage-format.md, "Format history") kept no conflicted
// flag. Opening such a store computes it for every view row from the
// history (another live leaf than the winner, or a tombstone leaf whose
// parent is not a tombstone), indexes it, and copies it into the latest feed
// entry of each record.
TEST_F(SqliteStorageTest, FormatThreeStoreIsMigratedWithConflictedFlags) {
  {
    PlainDb v3(path(), /*writable=*/true, /*create=*/true);
    v3.Exec(
        "CREATE TABLE \"_meta\" (\"key\" TEXT PRIMARY KEY NOT NULL, \"value\" TEXT NOT NULL)"
        " WITHOUT ROWID;"
        "CREATE TABLE \"_tables\" (\"name\" TEXT PRIMARY KEY NOT NULL,"
        " \"definition\" BLOB NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE \"_changes\" (\"seq\" INTEGER PRIMARY KEY,"
        " \"kind\" INTEGER NOT NULL, \"table_name\" TEXT NOT NULL, \"record_id\" TEXT NOT NULL,"
        " \"revision\" TEXT NOT NULL, \"deleted\" INTEGER NOT NULL);"
        "CREATE UNIQUE INDEX \"_idx__changes-entry\""
        " ON \"_changes\" (\"kind\", \"table_name\", \"record_id\");"
        "INSERT INTO _meta VALUES ('format_version', '3'), ('node_id', 'node-1');"
        "CREATE TABLE \"todos\" (\"id\" TEXT PRIMARY KEY NOT NULL, \"revision\" TEXT NOT NULL,"
        " \"title\" TEXT, \"completed\" INTEGER, \"deadline_at\" TEXT, \"score\" REAL,"
        " \"attachment\" BLOB, \"count\" INTEGER) WITHOUT ROWID;"
        "CREATE TABLE \"todos_history\" (\"seq\" INTEGER PRIMARY KEY, \"id\" TEXT NOT NULL,"
        " \"revision\" TEXT NOT NULL, \"parent\" TEXT NOT NULL, \"generation\" INTEGER NOT NULL,"
        " \"deleted\" INTEGER NOT NULL, \"leaf\" INTEGER NOT NULL, \"_stub\" INTEGER NOT NULL,"
        " \"_columns\" INTEGER NOT NULL, \"title\" TEXT, \"completed\" INTEGER,"
        " \"deadline_at\" TEXT, \"score\" REAL, \"attachment\" BLOB, \"count\" INTEGER);"
        "CREATE UNIQUE INDEX \"_idx_todos_history-id_revision\""
        " ON \"todos_history\" (\"id\", \"revision\");"
        "CREATE INDEX \"_idx_todos_history-leaves\" ON \"todos_history\" (\"id\")"
        " WHERE \"leaf\" = 1;"
        "CREATE INDEX \"_idx_todos-completed\" ON \"todos\" (\"completed\");"
        "CREATE INDEX \"_idx_todos-deadline_at\" ON \"todos\" (\"deadline_at\");");
    v3.Exec(absl::StrCat("INSERT INTO _tables VALUES ('todos', X'",
                         absl::BytesToHexString(Todos().SerializeAsString()), "')"));
    // (id, revision, parent, generation, deleted, leaf) per history row;
    // live rows hold a title only (_columns 1).
    struct HistoryRow {
      const char* id;
      std::string revision, parent;
      int generation, deleted, leaf;
    };
    const HistoryRow rows[] = {
        // edits: two live leaves (2-b wins over 2-c).
        {"edits", Rev(1, 'a'), "", 1, 0, 0},
        {"edits", Rev(2, 'b'), Rev(1, 'a'), 2, 0, 1},
        {"edits", Rev(2, 'c'), Rev(1, 'a'), 2, 0, 1},
        // lost: a delete (2-e) of a live revision lost to an edit (2-d).
        {"lost", Rev(1, 'a'), "", 1, 0, 0},
        {"lost", Rev(2, 'd'), Rev(1, 'a'), 2, 0, 1},
        {"lost", Rev(2, 'e'), Rev(1, 'a'), 2, 1, 1},
        // acked: the tombstone leaf 3-g acknowledges the tombstone 2-h.
        {"acked", Rev(1, 'a'), "", 1, 0, 0},
        {"acked", Rev(2, 'f'), Rev(1, 'a'), 2, 0, 1},
        {"acked", Rev(2, 'h'), Rev(1, 'a'), 2, 1, 0},
        {"acked", Rev(3, 'g'), Rev(2, 'h'), 3, 1, 1},
        // plain: one leaf.
        {"plain", Rev(1, 'a'), "", 1, 0, 1},
        // gone: deleted (no view row).
        {"gone", Rev(1, 'a'), "", 1, 0, 0},
        {"gone", Rev(2, 'i'), Rev(1, 'a'), 2, 1, 1},
    };
    for (const HistoryRow& r : rows) {
      v3.Exec(absl::StrCat(
          "INSERT INTO todos_history (id, revision, parent, generation, deleted, leaf, _stub,"
          " _columns, title) VALUES ('",
          r.id, "', '", r.revision, "', '", r.parent, "', ", r.generation, ", ", r.deleted, ", ",
          r.leaf, ", 0, ", r.deleted ? 0 : 1, ", ", r.deleted ? "NULL" : "'x'", ")"));
    }
    v3.Exec(absl::StrCat("INSERT INTO todos (id, revision, title) VALUES ('edits', '", Rev(2, 'b'),
                         "', 'x'), ('lost', '", Rev(2, 'd'), "', 'x'), ('acked', '", Rev(2, 'f'),
                         "', 'x'), ('plain', '", Rev(1, 'a'), "', 'x')"));
    v3.Exec(absl::StrCat(
        "INSERT INTO _changes VALUES (1, 2, 'todos', '', '', 0),"
        " (2, 1, 'todos', 'edits', '",
        Rev(2, 'b'), "', 0), (3, 1, 'todos', 'lost', '", Rev(2, 'd'),
        "', 0), (4, 1, 'todos', 'acked', '", Rev(2, 'f'), "', 0), (5, 1, 'todos', 'plain', '",
        Rev(1, 'a'), "', 0), (6, 1, 'todos', 'gone', '", Rev(2, 'i'),
        "', 1), (7, 1, 'others', 'edits', '", Rev(1, 'a'), "', 0)"));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto storage, Open());
    ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
    EXPECT_THAT(txn->GetMeta("format_version"), IsOkAndHolds(std::string("5")));
    for (const auto& [id, conflicted] : std::vector<std::pair<std::string, bool>>{
             {"edits", true}, {"lost", true}, {"acked", false}, {"plain", false}}) {
      ASSERT_OK_AND_ASSIGN(v1::Record row, txn->GetViewRow(Todos(), id));
      EXPECT_EQ(row.conflicted(), conflicted) << id;
      EXPECT_EQ(row.attributes().at("title").string(), "x") << id;
    }
    ViewQuery only;
    only.conflicted_only = true;
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Record> conflicted, txn->QueryView(Todos(), only));
    ASSERT_EQ(conflicted.size(), 2u);
    EXPECT_EQ(conflicted[0].id(), "edits");
    EXPECT_EQ(conflicted[1].id(), "lost");
    // A migrated view takes rows with the flag like a new one.
    ASSERT_OK(txn->UpsertViewRow(Todos(), ViewRow("todos", "edits", Rev(3, 'j'), {})));
    ASSERT_OK(txn->Commit());
  }
  PlainDb plain(path());
  EXPECT_THAT(plain.Query("SELECT seq, record_id, conflicted FROM _changes ORDER BY seq"),
              ElementsAre(Row{"1", "", "0"}, Row{"2", "edits", "1"}, Row{"3", "lost", "1"},
                          Row{"4", "acked", "0"}, Row{"5", "plain", "0"}, Row{"6", "gone", "0"},
                          Row{"7", "edits", "0"}));
  EXPECT_THAT(
      plain.Query("SELECT id, _conflicted FROM todos ORDER BY id"),
      ElementsAre(Row{"acked", "0"}, Row{"edits", "0"}, Row{"lost", "1"}, Row{"plain", "0"}));
  EXPECT_THAT(
      plain.Query("SELECT tbl_name FROM sqlite_schema WHERE name = '_idx_todos-_conflicted'"),
      ElementsAre(Row{"todos"}));
}

// Format 4 (docs/storage-format.md, "Format history") kept no audit trail.
// Opening such a store adds "_author", "_origin_node" and "_create_time" to
// each history, NULL in every existing row: those revisions read back with
// an unknown audit, and new revisions keep theirs, readable in plain SQL.
TEST_F(SqliteStorageTest, FormatFourStoreIsMigratedWithUnknownAudit) {
  {
    ASSERT_OK_AND_ASSIGN(auto storage, Open());
    WriteTodo(*storage);
  }
  {
    // The same store as format 4 had it: the history without the audit.
    PlainDb v4(path(), /*writable=*/true);
    for (const char* column : {"_author", "_origin_node", "_create_time"}) {
      v4.Exec(absl::StrCat("ALTER TABLE todos_history DROP COLUMN ", column));
    }
    v4.Exec("UPDATE _meta SET value = '4' WHERE key = 'format_version'");
  }
  RevisionAudit audit{"alice", "0b4e7c52-8f3d-4a8e-9c61-2f1d3e4a5b6c", 1767225600123456};
  {
    ASSERT_OK_AND_ASSIGN(auto storage, Open());
    ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
    EXPECT_THAT(txn->GetMeta("format_version"), IsOkAndHolds(std::string("5")));
    ASSERT_OK_AND_ASSIGN(std::vector<StoredRevision> history, txn->GetHistory(Todos(), "t1"));
    ASSERT_EQ(history.size(), 2u);
    for (const StoredRevision& rev : history) EXPECT_FALSE(rev.audit.known()) << rev.revision;
    StoredRevision tombstone = Revision("t1", Rev(3, 'd'), Rev(2, 'b'), 3, {});
    tombstone.audit = audit;
    ASSERT_OK(txn->InsertRevision(Todos(), tombstone));
    ASSERT_OK_AND_ASSIGN(StoredRevision got, txn->GetRevision(Todos(), "t1", Rev(3, 'd')));
    EXPECT_EQ(got.audit, audit);
    ASSERT_OK(txn->Commit());
  }
  PlainDb plain(path());
  EXPECT_THAT(plain.Query("SELECT revision, _author, _origin_node, _create_time,"
                          " typeof(_create_time) FROM todos_history ORDER BY seq"),
              ElementsAre(Row{Rev(1, 'a'), "NULL", "NULL", "NULL", "null"},
                          Row{Rev(2, 'b'), "NULL", "NULL", "NULL", "null"},
                          Row{Rev(3, 'd'), "alice", "0b4e7c52-8f3d-4a8e-9c61-2f1d3e4a5b6c",
                              "2026-01-01T00:00:00.123456Z", "text"}));
}

// A read transaction whose snapshot predates an appended column, given the
// new definition, fails instead of reading the column's name as its value
// (SQLite takes an unknown double-quoted name for a string unless told not
// to). The engine never pairs them (Engine::BeginReadOf); this is the guard.
TEST_F(SqliteStorageTest, ColumnsTheSnapshotLacksAreAnErrorNotTheirNames) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open());
  WriteTodo(*storage);
  v1::Table extended = Todos();
  AddColumn(extended, "note", v1::COLUMN_TYPE_STRING);
  ASSERT_OK_AND_ASSIGN(auto reader, storage->BeginRead());
  ASSERT_OK(reader->GetViewRow(Todos(), "t1").status());
  {
    ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
    ASSERT_OK(txn->AppendColumns(extended));
    ASSERT_OK(txn->Commit());
  }
  absl::StatusOr<v1::Record> row = reader->GetViewRow(extended, "t1");
  EXPECT_FALSE(row.ok()) << row->ShortDebugString();
  reader.reset();
  ASSERT_OK_AND_ASSIGN(auto fresh, storage->BeginRead());
  ASSERT_OK_AND_ASSIGN(v1::Record now, fresh->GetViewRow(extended, "t1"));
  EXPECT_EQ(now.attributes().at("note").kind_case(), v1::Value::kNull);
}

// A seq is never reused, even after the entry holding the highest one is
// replaced (by a higher one) and after a rolled-back append.
TEST_F(SqliteStorageTest, SeqsAreNeverReusedAfterReplaceOrRollback) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open());
  {
    ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
    EXPECT_THAT(txn->AppendChange(RecordChange("todos", "a", Rev(1, 'a'))), IsOkAndHolds(1));
    ASSERT_OK(txn->Commit());
  }
  {
    ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
    EXPECT_THAT(txn->AppendChange(RecordChange("todos", "b", Rev(1, 'a'))), IsOkAndHolds(2));
    // Destroyed without Commit: seq 2 was never seen by anyone.
  }
  ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
  EXPECT_THAT(txn->LastSeq(), IsOkAndHolds(1));
  // The highest entry is replaced by its own record's newer entry.
  EXPECT_THAT(txn->AppendChange(RecordChange("todos", "a", Rev(2, 'a'))), IsOkAndHolds(2));
  EXPECT_THAT(txn->AppendChange(RecordChange("todos", "a", Rev(3, 'a'))), IsOkAndHolds(3));
  EXPECT_THAT(txn->LastSeq(), IsOkAndHolds(3));
  ASSERT_OK(txn->Commit());
}

TEST_F(SqliteStorageTest, AnotherSqliteDatabaseIsUnavailableAndUntouched) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE notes (body TEXT)", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("not a recondb store")));
  PlainDb plain(path());
  EXPECT_THAT(plain.Query("SELECT name FROM sqlite_schema"), ElementsAre(Row{"notes"}));
}

TEST_F(SqliteStorageTest, GarbageFileAndMissingDirectoryAreUnavailable) {
  std::ofstream(path()) << "this is not a database, just some text that is long enough to be "
                           "read as a header by SQLite, which wants at least 100 bytes of it.\n";
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kUnavailable));
  SqliteOptions options;
  options.path = dir_.File("no/such/dir/recondb.sqlite3");
  EXPECT_THAT(OpenSqliteStorage(options), StatusIs(absl::StatusCode::kUnavailable));
}

// Commits `count` write transactions of one meta row each (one WAL frame
// or more each).
void CommitMetaWrites(Storage& storage, int count) {
  for (int i = 0; i < count; ++i) {
    ASSERT_OK_AND_ASSIGN(auto txn, storage.BeginWrite());
    ASSERT_OK(txn->SetMeta(absl::StrCat("key", i % 50), absl::StrCat("value", i)));
    ASSERT_OK(txn->Commit());
  }
}

// The WAL file's size in frames (its largest size so far: SQLite reuses it
// from its start after a complete checkpoint rather than shrinking it).
int64_t WalFrames(const std::string& db_path) {
  constexpr int64_t kHeader = 32;
  constexpr int64_t kFrame = 24 + 4096;
  const std::filesystem::path wal = db_path + "-wal";
  if (!std::filesystem::exists(wal)) return 0;
  return (static_cast<int64_t>(std::filesystem::file_size(wal)) - kHeader) / kFrame;
}

TEST_F(SqliteStorageTest, BackgroundCheckpointsKeepTheWalSmallWithoutTheCommitter) {
  SqliteOptions options;
  options.path = path();
  options.checkpoint_frames = 100;
  options.max_wal_frames = 1 << 30;  // Never in the committing thread.
  ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(options));
  // Each round fills the WAL past the mark, then waits for the
  // checkpointer, so that the next round's first write restarts the WAL.
  for (int round = 1; round <= 5; ++round) {
    CommitMetaWrites(*storage, 120);
    // Bounded polling: the checkpointer runs on its own thread.
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    internal::CheckpointCounts counts;
    while (true) {
      ASSERT_OK_AND_ASSIGN(counts, internal::SqliteCheckpointsForTesting(*storage));
      if (counts.background >= round || absl::Now() > deadline) break;
      absl::SleepFor(absl::Milliseconds(1));
    }
    ASSERT_GE(counts.background, round);
    EXPECT_EQ(counts.in_commit, 0);
  }
  // 5 rounds wrote over 600 frames; restarted after each checkpoint, the
  // WAL never held much more than one round.
  EXPECT_LT(WalFrames(path()), 250);
}

TEST_F(SqliteStorageTest, CommitsCheckpointThemselvesPastMaxWalFrames) {
  SqliteOptions options;
  options.path = path();
  options.checkpoint_frames = 1 << 30;  // The background never starts one.
  options.max_wal_frames = 100;
  ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(options));
  CommitMetaWrites(*storage, 500);
  ASSERT_OK_AND_ASSIGN(const internal::CheckpointCounts counts,
                       internal::SqliteCheckpointsForTesting(*storage));
  EXPECT_EQ(counts.background, 0);
  EXPECT_GE(counts.in_commit, 5);
  // Bounded by the mark plus the last commit's frames (and SQLite's
  // restart happening at the write after a checkpoint).
  EXPECT_LE(WalFrames(path()), 110);
}

TEST_F(SqliteStorageTest, WritesUnderBackgroundCheckpointsSurviveAReopen) {
  SqliteOptions options;
  options.path = path();
  options.checkpoint_frames = 20;
  options.max_wal_frames = 200;
  {
    ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage(options));
    {
      ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
      ASSERT_OK(txn->CreateTable(Todos()));
      ASSERT_OK(txn->Commit());
    }
    for (int i = 0; i < 300; ++i) {
      ASSERT_OK_AND_ASSIGN(auto write, storage->BeginWrite());
      const std::string id = absl::StrCat("r", i);
      ASSERT_OK(write->InsertRevision(Todos(), Revision(id, Rev(1, 'a'), "", 1, TodoAttributes())));
      ASSERT_OK(write->UpsertViewRow(Todos(), ViewRow("todos", id, Rev(1, 'a'), TodoAttributes())));
      ASSERT_OK(write->AppendChange(RecordChange("todos", id, Rev(1, 'a'))).status());
      ASSERT_OK(write->Commit());
    }
    ASSERT_OK_AND_ASSIGN(const internal::CheckpointCounts counts,
                         internal::SqliteCheckpointsForTesting(*storage));
    EXPECT_GE(counts.background + counts.in_commit, 1);
  }
  // Closing checkpointed everything and removed the WAL.
  EXPECT_FALSE(std::filesystem::exists(path() + "-wal"));
  ASSERT_OK_AND_ASSIGN(auto reopened, Open());
  ASSERT_OK_AND_ASSIGN(auto read, reopened->BeginRead());
  for (int i = 0; i < 300; ++i) {
    ASSERT_OK_AND_ASSIGN(v1::Record row, read->GetViewRow(Todos(), absl::StrCat("r", i)));
    EXPECT_EQ(row.revision(), Rev(1, 'a'));
  }
  EXPECT_THAT(read->LastSeq(), IsOkAndHolds(300));
}

TEST_F(SqliteStorageTest, WritersTakeTurns) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open());
  // Read-modify-write of one counter from two threads: lost updates would
  // show if two write transactions ever overlapped.
  constexpr int kIncrements = 50;
  auto increment = [&] {
    for (int i = 0; i < kIncrements; ++i) {
      ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
      absl::StatusOr<std::string> value = txn->GetMeta("counter");
      const int current = value.ok() ? std::stoi(*value) : 0;
      ASSERT_OK(txn->SetMeta("counter", std::to_string(current + 1)));
      ASSERT_OK(txn->Commit());
    }
  };
  std::thread a(increment), b(increment);
  a.join();
  b.join();
  ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginRead());
  EXPECT_THAT(txn->GetMeta("counter"), IsOkAndHolds(std::to_string(2 * kIncrements)));
}

TEST_F(SqliteStorageTest, SecondWriterWaitsUntilTheFirstIsDestroyed) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open());
  ASSERT_OK_AND_ASSIGN(auto first, storage->BeginWrite());
  ASSERT_OK(first->SetMeta("owner", "first"));
  std::atomic<bool> calling{false}, acquired{false};
  std::thread second([&] {
    calling = true;
    absl::StatusOr<std::unique_ptr<WriteTransaction>> txn = storage->BeginWrite();
    acquired = true;
    ASSERT_OK(txn.status());
    // The first writer's commit is visible to the next writer.
    EXPECT_THAT((*txn)->GetMeta("owner"), IsOkAndHolds(std::string("first")));
  });
  // Give the second thread time to block (not a synchronization: the
  // assertion below holds however long this takes).
  const absl::Time deadline = absl::Now() + absl::Milliseconds(100);
  while (!calling || absl::Now() < deadline) std::this_thread::yield();
  EXPECT_FALSE(acquired);
  ASSERT_OK(first->Commit());
  EXPECT_FALSE(acquired);  // Commit alone does not hand the writer over.
  first.reset();
  second.join();
  EXPECT_TRUE(acquired);
}

TEST_F(SqliteStorageTest, ReaderKeepsItsSnapshotWhileAWriterCommits) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open());
  ASSERT_OK_AND_ASSIGN(auto reader, storage->BeginRead());
  WriteTodo(*storage);  // Commits while `reader` is open: readers never block the writer.
  EXPECT_THAT(reader->GetTable("todos"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(reader->LastSeq(), IsOkAndHolds(0));
  EXPECT_THAT(reader->GetMeta("node_id"), StatusIs(absl::StatusCode::kNotFound));
  // A plain connection and a new reader see the commit.
  EXPECT_THAT(PlainDb(path()).Query("SELECT value FROM _meta WHERE key = 'node_id'"),
              ElementsAre(Row{"node-1"}));
  ASSERT_OK_AND_ASSIGN(auto fresh, storage->BeginRead());
  EXPECT_THAT(fresh->LastSeq(), IsOkAndHolds(1));
}

TEST_F(SqliteStorageTest, LastSeqIsTheHighestSeqEverAssigned) {
  {
    ASSERT_OK_AND_ASSIGN(auto storage, Open());
    ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
    EXPECT_THAT(txn->AppendChange(RecordChange("todos", "a", Rev(1, 'a'))), IsOkAndHolds(1));
    EXPECT_THAT(txn->AppendChange(RecordChange("todos", "b", Rev(1, 'a'))), IsOkAndHolds(2));
    // Replaces a's entry, and its own entry again: seqs are never reused.
    EXPECT_THAT(txn->AppendChange(RecordChange("todos", "a", Rev(2, 'a'))), IsOkAndHolds(3));
    EXPECT_THAT(txn->AppendChange(RecordChange("todos", "a", Rev(3, 'a'))), IsOkAndHolds(4));
    ASSERT_OK(txn->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto storage, Open());
  ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
  EXPECT_THAT(txn->LastSeq(), IsOkAndHolds(4));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> feed, txn->ScanChanges(0, {}, 10));
  ASSERT_EQ(feed.size(), 2u);
  EXPECT_EQ(feed[0].seq(), 2);
  EXPECT_EQ(feed[1].seq(), 4);
  EXPECT_EQ(feed[1].revision(), Rev(3, 'a'));
  EXPECT_THAT(txn->AppendChange(RecordChange("todos", "c", Rev(1, 'a'))), IsOkAndHolds(5));
}

TEST_F(SqliteStorageTest, DiskFullIsResourceExhaustedAndKeepsNothing) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open());
  WriteTodo(*storage);
  ASSERT_OK_AND_ASSIGN(std::string pages,
                       internal::SqliteWriterPragmaForTesting(*storage, "page_count"));
  // The file may not grow: the writer's next page is refused as SQLITE_FULL.
  ASSERT_OK(internal::SqliteWriterPragmaForTesting(*storage, "max_page_count=" + pages).status());
  {
    ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
    ASSERT_OK(txn->SetMeta("small", "fits in a page"));
    Attributes big = TodoAttributes();
    big["attachment"] = BytesValue(std::string(1 << 20, 'x'));
    EXPECT_THAT(txn->InsertRevision(Todos(), Revision("big", Rev(1, 'a'), "", 1, big)),
                StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("disk")));
    // Destroyed without Commit, as the engine does after an error.
  }
  ASSERT_OK(internal::SqliteWriterPragmaForTesting(*storage, "max_page_count=1073741823").status());
  ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginRead());
  EXPECT_THAT(txn->GetMeta("small"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(txn->GetHistory(Todos(), "big"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(txn->GetMeta("node_id"), IsOkAndHolds(std::string("node-1")));
}

// A backup is a plain SQLite file that passes SQLite's own check, with
// nothing beside it, and taking it leaves the live store's files as they
// were (no checkpoint forced, no WAL mode changed).
TEST_F(SqliteStorageTest, BackupIsAnIntactDatabaseWithNothingBesideIt) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open());
  WriteTodo(*storage);
  TempDir copies;
  const std::string copy = copies.File("copy.sqlite3");
  ASSERT_OK(storage->Backup(copy, nullptr).status());
  EXPECT_FALSE(std::filesystem::exists(copy + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(copy + "-shm"));
  EXPECT_FALSE(std::filesystem::exists(copy + "-journal"));
  PlainDb db(copy);
  EXPECT_THAT(db.Query("PRAGMA integrity_check"), ElementsAre(Row{"ok"}));
  EXPECT_THAT(db.Query("SELECT \"id\", \"revision\" FROM \"todos\""),
              ElementsAre(Row{"t1", Rev(2, 'b')}));
  EXPECT_THAT(db.Query("SELECT count(*) FROM \"todos_history\""), ElementsAre(Row{"2"}));
  EXPECT_THAT(db.Query("SELECT \"value\" FROM \"_meta\" WHERE \"key\" = 'node_id'"),
              ElementsAre(Row{"node-1"}));
  EXPECT_THAT(internal::SqliteWriterPragmaForTesting(*storage, "journal_mode"),
              IsOkAndHolds(std::string("wal")));
}

// The daemon keeps serving writes during a backup: a write transaction
// begins and commits while the backup is in the middle of reading its
// snapshot (were writers blocked, this would never return), and the copy is
// the snapshot taken before it.
TEST_F(SqliteStorageTest, WritersCommitWhileABackupReadsItsSnapshot) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open());
  WriteTodo(*storage);
  bool committed = false;
  internal::SetSqliteBackupHookForTesting([&] {
    absl::StatusOr<std::unique_ptr<WriteTransaction>> txn = storage->BeginWrite();
    ASSERT_OK(txn.status());
    ASSERT_OK((*txn)->SetMeta("during", "the backup"));
    ASSERT_OK((*txn)->AppendChange(RecordChange("todos", "t2", Rev(1, 'c'))).status());
    ASSERT_OK((*txn)->Commit());
    committed = true;
  });
  TempDir copies;
  const std::string copy = copies.File("copy.sqlite3");
  ASSERT_OK(storage->Backup(copy, nullptr).status());
  internal::SetSqliteBackupHookForTesting(nullptr);
  ASSERT_TRUE(committed);
  {
    ASSERT_OK_AND_ASSIGN(auto live, storage->BeginRead());
    EXPECT_THAT(live->GetMeta("during"), IsOkAndHolds(std::string("the backup")));
  }
  PlainDb db(copy);
  EXPECT_THAT(db.Query("SELECT count(*) FROM \"_meta\" WHERE \"key\" = 'during'"),
              ElementsAre(Row{"0"}));
  EXPECT_THAT(db.Query("SELECT \"record_id\" FROM \"_changes\""), ElementsAre(Row{"t1"}));
}

// A backup that cannot be written (here: the process may not write files
// that large, so every write of the copy fails) is an error naming the
// path, and leaves nothing behind.
TEST_F(SqliteStorageTest, BackupThatCannotBeWrittenIsUnavailableAndLeavesNothing) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open());
  WriteTodo(*storage);
  TempDir copies;
  const std::string copy = copies.File("copy.sqlite3");
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct sigaction ignore {}, old_action {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGXFSZ, &ignore, &old_action), 0);
  struct rlimit small = old_limit;
  small.rlim_cur = 1024;  // Less than a page.
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  absl::StatusOr<int64_t> bytes = storage->Backup(copy, nullptr);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  ASSERT_EQ(sigaction(SIGXFSZ, &old_action, nullptr), 0);
  EXPECT_THAT(bytes, StatusIs(absl::StatusCode::kUnavailable, HasSubstr(copy)));
  EXPECT_TRUE(std::filesystem::is_empty(copies.path()));
  // The store itself goes on.
  ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
  ASSERT_OK(txn->SetMeta("after", "yes"));
  EXPECT_OK(txn->Commit());
}

// The per-table statements use the indexes they were written for; a plain
// connection explains them over a real store.
TEST_F(SqliteStorageTest, PerTableStatementsUseTheirIndexes) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open());
  WriteTodo(*storage);
  const internal::TableSql sql = internal::BuildTableSql(Todos());
  PlainDb plain(path());
  auto plan = [&](const std::string& statement) {
    std::string out;
    for (const Row& row : plain.Query("EXPLAIN QUERY PLAN " + statement)) out += row.back() + "\n";
    return out;
  };
  EXPECT_THAT(plan(sql.select_leaves), HasSubstr("USING INDEX _idx_todos_history-leaves"));
  EXPECT_THAT(plan(sql.select_revision),
              HasSubstr("USING INDEX _idx_todos_history-id_revision (id=? AND revision=?)"));
  EXPECT_THAT(plan(sql.has_child),
              HasSubstr("USING INDEX _idx_todos_history-id_revision (id=? AND revision>? AND "
                        "revision<?)"));
  EXPECT_THAT(plan(sql.select_view_row), HasSubstr("USING PRIMARY KEY (id=?)"));
  // Ordering by an indexed column walks its index: no sort.
  const std::string ordered =
      plan(sql.view_query_prefix +
           " WHERE \"deadline_at\" IS NOT NULL ORDER BY \"deadline_at\" DESC, \"id\" DESC LIMIT 5");
  EXPECT_THAT(ordered, HasSubstr("_idx_todos-deadline_at"));
  EXPECT_THAT(ordered, Not(HasSubstr("TEMP B-TREE")));
  const std::string resumed = plan(sql.view_query_prefix +
                                   " WHERE (\"deadline_at\", \"id\") > ('2026', 'x')"
                                   " ORDER BY \"deadline_at\" ASC, \"id\" ASC LIMIT 5");
  EXPECT_THAT(resumed, HasSubstr("_idx_todos-deadline_at"));
  EXPECT_THAT(resumed, Not(HasSubstr("TEMP B-TREE")));
  // A conflicted-only query reads the partial index of conflicted rows only:
  // in id order without a sort; ordered by another column, even an indexed
  // one (which the planner would otherwise walk, reading every row), with a
  // sort of the conflicted rows.
  const std::string conflicted = plan(sql.conflicted_query_prefix +
                                      " WHERE \"_conflicted\" = 1 AND \"id\" > 'a'"
                                      " ORDER BY \"id\" ASC LIMIT 5");
  EXPECT_THAT(conflicted, HasSubstr("_idx_todos-_conflicted"));
  EXPECT_THAT(conflicted, Not(HasSubstr("TEMP B-TREE")));
  const std::string by_deadline =
      plan(sql.conflicted_query_prefix +
           " WHERE \"_conflicted\" = 1 AND (\"deadline_at\", \"id\") > ('2026', 'x')"
           " ORDER BY \"deadline_at\" ASC, \"id\" ASC LIMIT 5");
  EXPECT_THAT(by_deadline, HasSubstr("_idx_todos-_conflicted"));
  EXPECT_THAT(by_deadline, Not(HasSubstr("_idx_todos-deadline_at")));
}

}  // namespace
}  // namespace recondb::storage
