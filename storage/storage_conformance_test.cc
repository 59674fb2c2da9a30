// The storage conformance suite: every test runs against every backend and
// checks the contract written in storage/storage.h, nothing more. A new
// backend is added to kBackends at the bottom.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "storage/memory_storage.h"
#include "storage/sqlite_storage.h"
#include "storage/storage.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/values.h"

namespace recondb::storage {
namespace {

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
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// ---- Values and their exact descriptions ----

constexpr int64_t kYear1 = -62135596800;     // 0001-01-01T00:00:00Z.
constexpr int64_t kYear9999 = 253402300799;  // 9999-12-31T23:59:59Z.

// Exact: floats by their bits, strings and bytes escaped. A null and an
// unset Value both read "null".
std::string Describe(const v1::Value& v) {
  switch (v.kind_case()) {
    case v1::Value::kString:
      return absl::StrCat("string \"", absl::CHexEscape(v.string()), "\"");
    case v1::Value::kInt:
      return absl::StrCat("int ", v.int_());
    case v1::Value::kFloat: {
      const double f = v.float_();
      uint64_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      char buf[80];
      std::snprintf(buf, sizeof buf, "float %.17g (bits %016llx)", v.float_(),
                    static_cast<unsigned long long>(bits));
      return buf;
    }
    case v1::Value::kBool:
      return v.bool_() ? "bool true" : "bool false";
    case v1::Value::kTimestamp:
      return absl::StrCat("timestamp ", v.timestamp().seconds(), "s ", v.timestamp().nanos(), "ns");
    case v1::Value::kBytes:
      return absl::StrCat("bytes \"", absl::CHexEscape(v.bytes()), "\"");
    default:
      return "null";
  }
}

template <typename Map>
std::map<std::string, std::string> Describe(const Map& attributes) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : attributes) out[name] = Describe(value);
  return out;
}

std::string Describe(const StoredRevision& r) {
  std::vector<std::string> attrs;
  for (const auto& [name, value] : Describe(r.attributes)) attrs.push_back(name + "=" + value);
  return absl::StrCat(r.id, " ", r.revision, " parent=", r.parent, " gen=", r.generation,
                      r.deleted ? " deleted" : "", r.leaf ? " leaf" : "", " {",
                      absl::StrJoin(attrs, ", "), "}");
}

std::vector<std::string> Describe(const std::vector<StoredRevision>& revs) {
  std::vector<std::string> out;
  for (const StoredRevision& r : revs) out.push_back(Describe(r));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> LeavesOf(ReadTransaction& txn, const v1::Table& table,
                                  std::string_view id) {
  absl::StatusOr<std::vector<StoredRevision>> leaves = txn.GetLeaves(table, id);
  if (!leaves.ok()) ADD_FAILURE() << "GetLeaves: " << leaves.status();
  return leaves.ok() ? Describe(*leaves) : std::vector<std::string>{};
}

std::vector<std::string> HistoryOf(ReadTransaction& txn, const v1::Table& table,
                                   std::string_view id) {
  absl::StatusOr<std::vector<StoredRevision>> history = txn.GetHistory(table, id);
  if (!history.ok()) ADD_FAILURE() << "GetHistory: " << history.status();
  return history.ok() ? Describe(*history) : std::vector<std::string>{};
}

MATCHER_P(EqualsProto, expected, "equals " + expected.ShortDebugString()) {
  *result_listener << "is " << arg.ShortDebugString();
  return google::protobuf::util::MessageDifferencer::Equals(arg, expected);
}

// ---- The test table and revisions ----

constexpr char kThings[] = "things";

// One nullable column of each type: s string, i int, f float, b bool,
// t timestamp, y bytes.
v1::Table ThingsTable(const std::string& name = kThings) {
  v1::Table table;
  table.set_name(name);
  const std::pair<const char*, v1::ColumnType> columns[] = {
      {"s", v1::COLUMN_TYPE_STRING},    {"i", v1::COLUMN_TYPE_INT},
      {"f", v1::COLUMN_TYPE_FLOAT},     {"b", v1::COLUMN_TYPE_BOOL},
      {"t", v1::COLUMN_TYPE_TIMESTAMP}, {"y", v1::COLUMN_TYPE_BYTES}};
  for (const auto& [column_name, type] : columns) {
    v1::Column* column = table.add_columns();
    column->set_name(column_name);
    column->set_type(type);
    column->set_nullable(true);
  }
  return table;
}

// Every column null except those given.
Attributes Attrs(std::map<std::string, v1::Value> given = {}) {
  Attributes out;
  for (const char* name : {"s", "i", "f", "b", "t", "y"}) out[name] = NullValue();
  for (auto& [name, value] : given) out[name] = std::move(value);
  return out;
}

// A well-formed revision id: "<gen>-" and 32 times `c`.
std::string Rev(int gen, char c) { return absl::StrCat(gen, "-", std::string(32, c)); }

StoredRevision Live(std::string id, std::string revision, std::string parent, int64_t gen,
                    Attributes attributes = Attrs()) {
  StoredRevision r;
  r.id = std::move(id);
  r.revision = std::move(revision);
  r.parent = std::move(parent);
  r.generation = gen;
  r.attributes = std::move(attributes);
  return r;
}

StoredRevision Tombstone(std::string id, std::string revision, std::string parent, int64_t gen) {
  StoredRevision r = Live(std::move(id), std::move(revision), std::move(parent), gen, {});
  r.deleted = true;
  return r;
}

StoredRevision AsLeaf(StoredRevision r, bool leaf) {
  r.leaf = leaf;
  return r;
}

v1::Record ViewRecord(const std::string& id, const std::string& revision,
                      const Attributes& attributes, const std::string& table = kThings) {
  v1::Record record;
  record.set_table(table);
  record.set_id(id);
  record.set_revision(revision);
  for (const auto& [name, value] : attributes) (*record.mutable_attributes())[name] = value;
  return record;
}

v1::Change RecordChange(const std::string& table, const std::string& id,
                        const std::string& revision, bool deleted = false) {
  v1::Change change;
  change.set_kind(v1::CHANGE_KIND_RECORD);
  change.set_table(table);
  change.set_id(id);
  change.set_revision(revision);
  change.set_deleted(deleted);
  change.set_seq(999);  // Ignored by AppendChange.
  return change;
}

v1::Change TableChange(const std::string& table) {
  v1::Change change;
  change.set_kind(v1::CHANGE_KIND_TABLE);
  change.set_table(table);
  return change;
}

std::vector<std::string> Ids(const std::vector<v1::Record>& records) {
  std::vector<std::string> out;
  for (const v1::Record& r : records) out.push_back(r.id());
  return out;
}

// "<seq> <kind> <table>/<id> <revision>[ deleted]" per entry.
std::vector<std::string> Describe(const std::vector<v1::Change>& changes) {
  std::vector<std::string> out;
  for (const v1::Change& c : changes) {
    out.push_back(absl::StrCat(c.seq(), " ", v1::ChangeKind_Name(c.kind()), " ", c.table(), "/",
                               c.id(), " ", c.revision(), c.deleted() ? " deleted" : ""));
  }
  return out;
}

// ---- Backends ----

struct Backend {
  std::string name;
  // The memory backend's readers hold a lock the writer needs: a writer
  // waits for every open read transaction.
  bool readers_block_writer = false;
  std::function<absl::StatusOr<std::unique_ptr<Storage>>(const TempDir&)> open;
  // Opens a file that Storage::Backup wrote; null for a backend that
  // refuses backups (FAILED_PRECONDITION).
  std::function<absl::StatusOr<std::unique_ptr<Storage>>(const std::string&)> open_backup;
};

std::ostream& operator<<(std::ostream& os, const Backend& backend) { return os << backend.name; }

class StorageConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { ASSERT_OK_AND_ASSIGN(storage_, GetParam().open(dir_)); }

  // Aborts the test binary if the backend cannot begin a transaction: no
  // test below makes sense without one.
  std::unique_ptr<ReadTransaction> Read() { return Unwrap(storage_->BeginRead()); }
  std::unique_ptr<WriteTransaction> Write() { return Unwrap(storage_->BeginWrite()); }

  // Runs `body` in a write transaction and commits it.
  void Commit(const std::function<void(WriteTransaction&)>& body) {
    std::unique_ptr<WriteTransaction> txn = Write();
    body(*txn);
    EXPECT_OK(txn->Commit());
  }

  // Creates the things table (committed).
  void CreateThings() {
    Commit([&](WriteTransaction& txn) { EXPECT_OK(txn.CreateTable(things_)); });
  }

  template <typename T>
  static std::unique_ptr<T> Unwrap(absl::StatusOr<std::unique_ptr<T>> txn) {
    if (!txn.ok()) {
      std::cerr << "cannot begin a transaction: " << txn.status() << "\n";
      std::abort();
    }
    return std::move(txn).value();
  }

  TempDir dir_;
  std::unique_ptr<Storage> storage_;
  const v1::Table things_ = ThingsTable();
};

TEST_P(StorageConformanceTest, NameIsTheBackendName) {
  EXPECT_EQ(storage_->Name(), GetParam().name);
}

// Status output appends Settings() to other key=value words: it must be
// such words itself, or nothing.
TEST_P(StorageConformanceTest, SettingsAreKeyValueWords) {
  const std::string settings = storage_->Settings();
  if (settings.empty()) return;
  for (absl::string_view word : absl::StrSplit(settings, ' ')) {
    EXPECT_THAT(std::string(word), ::testing::MatchesRegex("[a-z_]+=[^ =]+")) << settings;
  }
}

TEST_P(StorageConformanceTest, NewStoreIsEmpty) {
  auto txn = Read();
  EXPECT_THAT(txn->ListTables(), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(txn->GetTable(kThings), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(txn->LastSeq(), IsOkAndHolds(0));
  EXPECT_THAT(txn->ScanChanges(0, {}, 100), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(txn->GetMeta("node_id"), StatusIs(absl::StatusCode::kNotFound));
}

// ---- Tables ----

TEST_P(StorageConformanceTest, CreateTableKeepsTheWholeDefinition) {
  v1::Table table = ThingsTable("zeta");
  v1::Column* title = table.add_columns();
  title->set_name("title");
  title->set_type(v1::COLUMN_TYPE_STRING);
  title->set_max_length(80);
  title->set_indexed(true);
  *title->mutable_default_value() = StringValue("untitled");
  table.mutable_create_time()->set_seconds(1767225600);
  table.mutable_create_time()->set_nanos(123456000);
  table.set_created_by("0b7e4c1e-5f3a-4d2b-9a61-2f0f6a9c3d11");

  Commit([&](WriteTransaction& txn) {
    EXPECT_OK(txn.CreateTable(table));
    EXPECT_OK(txn.CreateTable(ThingsTable("alpha")));
    EXPECT_OK(txn.CreateTable(things_));
    // A writer sees its own tables.
    EXPECT_THAT(txn.GetTable("zeta"), IsOkAndHolds(EqualsProto(table)));
  });

  auto txn = Read();
  EXPECT_THAT(txn->GetTable("zeta"), IsOkAndHolds(EqualsProto(table)));
  EXPECT_THAT(txn->GetTable(kThings), IsOkAndHolds(EqualsProto(things_)));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Table> tables, txn->ListTables());
  EXPECT_THAT(tables, ElementsAre(EqualsProto(ThingsTable("alpha")), EqualsProto(things_),
                                  EqualsProto(table)));
}

TEST_P(StorageConformanceTest, CreateTableTwiceIsAlreadyExistsAndKeepsTheFirst) {
  CreateThings();
  v1::Table other = ThingsTable();
  other.mutable_columns()->RemoveLast();
  Commit([&](WriteTransaction& txn) {
    EXPECT_THAT(txn.CreateTable(other), StatusIs(absl::StatusCode::kAlreadyExists));
    // The transaction stays usable after the refusal.
    EXPECT_OK(txn.CreateTable(ThingsTable("second")));
    EXPECT_THAT(txn.CreateTable(ThingsTable("second")), StatusIs(absl::StatusCode::kAlreadyExists));
  });
  auto txn = Read();
  EXPECT_THAT(txn->GetTable(kThings), IsOkAndHolds(EqualsProto(things_)));
  EXPECT_THAT(txn->GetTable("second"), IsOkAndHolds(EqualsProto(ThingsTable("second"))));
}

TEST_P(StorageConformanceTest, GetTableOfAMissingTableIsNotFound) {
  CreateThings();
  auto txn = Read();
  EXPECT_THAT(txn->GetTable("nothing"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(txn->GetTable("thing"), StatusIs(absl::StatusCode::kNotFound));
}

// ---- Revisions ----

TEST_P(StorageConformanceTest, InsertRevisionGrowsTheTreeAndTracksLeaves) {
  CreateThings();
  const StoredRevision r1 = Live("rec", Rev(1, 'a'), "", 1, Attrs({{"s", StringValue("one")}}));
  const StoredRevision r2 = Live("rec", Rev(2, 'b'), r1.revision, 2, Attrs({{"i", IntValue(2)}}));
  const StoredRevision r2c =
      Live("rec", Rev(2, 'c'), r1.revision, 2, Attrs({{"b", BoolValue(true)}}));
  const StoredRevision r3 = Tombstone("rec", Rev(3, 'd'), r2c.revision, 3);

  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.InsertRevision(things_, r1));
    EXPECT_THAT(LeavesOf(txn, things_, "rec"), ElementsAre(Describe(r1)));
    ASSERT_OK(txn.InsertRevision(things_, r2));
    // The parent is no longer a leaf.
    EXPECT_THAT(LeavesOf(txn, things_, "rec"), ElementsAre(Describe(r2)));
    EXPECT_THAT(
        txn.GetRevision(things_, "rec", r1.revision),
        IsOkAndHolds(::testing::ResultOf([](const StoredRevision& r) { return Describe(r); },
                                         Describe(AsLeaf(r1, false)))));
  });
  Commit([&](WriteTransaction& txn) {
    // A second child of r1: the record is in conflict, with two leaves.
    ASSERT_OK(txn.InsertRevision(things_, r2c));
    EXPECT_THAT(LeavesOf(txn, things_, "rec"), UnorderedElementsAre(Describe(r2), Describe(r2c)));
  });
  Commit([&](WriteTransaction& txn) { ASSERT_OK(txn.InsertRevision(things_, r3)); });

  auto txn = Read();
  EXPECT_THAT(LeavesOf(*txn, things_, "rec"), UnorderedElementsAre(Describe(r2), Describe(r3)));
  EXPECT_THAT(HistoryOf(*txn, things_, "rec"),
              UnorderedElementsAre(Describe(AsLeaf(r1, false)), Describe(r2),
                                   Describe(AsLeaf(r2c, false)), Describe(r3)));
  for (const StoredRevision& r : {r2, r3}) {
    ASSERT_OK_AND_ASSIGN(StoredRevision got, txn->GetRevision(things_, "rec", r.revision));
    EXPECT_EQ(Describe(got), Describe(r));
  }
  // The tombstone keeps no attribute.
  ASSERT_OK_AND_ASSIGN(StoredRevision tombstone, txn->GetRevision(things_, "rec", r3.revision));
  EXPECT_TRUE(tombstone.deleted);
  EXPECT_THAT(tombstone.attributes, IsEmpty());
}

TEST_P(StorageConformanceTest, InsertRevisionIgnoresTheLeafFlagItIsGiven) {
  CreateThings();
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.InsertRevision(things_, AsLeaf(Live("rec", Rev(1, 'a'), "", 1), false)));
  });
  auto txn = Read();
  ASSERT_OK_AND_ASSIGN(StoredRevision got, txn->GetRevision(things_, "rec", Rev(1, 'a')));
  EXPECT_TRUE(got.leaf);
  EXPECT_THAT(txn->GetLeaves(things_, "rec"), IsOkAndHolds(::testing::SizeIs(1)));
}

TEST_P(StorageConformanceTest, DuplicateRevisionIsAlreadyExistsAndChangesNothing) {
  CreateThings();
  const StoredRevision r1 = Live("rec", Rev(1, 'a'), "", 1, Attrs({{"s", StringValue("first")}}));
  const StoredRevision r2 =
      Live("rec", Rev(2, 'b'), r1.revision, 2, Attrs({{"s", StringValue("two")}}));
  const StoredRevision other = Live("rec", Rev(1, 'e'), "", 1);
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.InsertRevision(things_, r1));
    ASSERT_OK(txn.InsertRevision(things_, other));
    // Same (id, revision) within the transaction that wrote it.
    EXPECT_THAT(txn.InsertRevision(things_, r1), StatusIs(absl::StatusCode::kAlreadyExists));
  });
  Commit([&](WriteTransaction& txn) {
    // Same (id, revision) with other content and another parent: refused,
    // and neither the stored revision nor `other`'s leaf flag changes.
    StoredRevision impostor =
        Live("rec", Rev(1, 'a'), other.revision, 7, Attrs({{"i", IntValue(1)}}));
    EXPECT_THAT(txn.InsertRevision(things_, impostor), StatusIs(absl::StatusCode::kAlreadyExists));
    EXPECT_THAT(txn.InsertRevision(things_, Tombstone("rec", Rev(1, 'a'), "", 1)),
                StatusIs(absl::StatusCode::kAlreadyExists));
    // The transaction stays usable and commits its other writes.
    ASSERT_OK(txn.InsertRevision(things_, r2));
    EXPECT_THAT(txn.InsertRevision(things_, r2), StatusIs(absl::StatusCode::kAlreadyExists));
  });
  auto txn = Read();
  EXPECT_THAT(HistoryOf(*txn, things_, "rec"),
              UnorderedElementsAre(Describe(AsLeaf(r1, false)), Describe(r2), Describe(other)));
}

TEST_P(StorageConformanceTest, ParentGraftedAfterItsChildIsNotALeaf) {
  CreateThings();
  const StoredRevision r1 = Live("rec", Rev(1, 'a'), "", 1);
  const StoredRevision r2 = Live("rec", Rev(2, 'b'), r1.revision, 2);
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.InsertRevision(things_, r2));
    ASSERT_OK(txn.InsertRevision(things_, r1));
  });
  auto txn = Read();
  EXPECT_THAT(LeavesOf(*txn, things_, "rec"), ElementsAre(Describe(r2)));
  ASSERT_OK_AND_ASSIGN(StoredRevision got, txn->GetRevision(things_, "rec", r1.revision));
  EXPECT_FALSE(got.leaf);
}

TEST_P(StorageConformanceTest, RevisionsBelongToOneRecordOfOneTable) {
  CreateThings();
  const v1::Table others = ThingsTable("others");
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.CreateTable(others));
    // The same revision id in two records and the same record id in two
    // tables are all distinct revisions.
    ASSERT_OK(
        txn.InsertRevision(things_, Live("a", Rev(1, 'a'), "", 1, Attrs({{"i", IntValue(1)}}))));
    ASSERT_OK(
        txn.InsertRevision(things_, Live("b", Rev(1, 'a'), "", 1, Attrs({{"i", IntValue(2)}}))));
    ASSERT_OK(
        txn.InsertRevision(others, Live("a", Rev(1, 'a'), "", 1, Attrs({{"i", IntValue(3)}}))));
    // A child in record b does not make a's revision a non-leaf.
    ASSERT_OK(txn.InsertRevision(things_, Live("b", Rev(2, 'b'), Rev(1, 'a'), 2)));
  });
  auto txn = Read();
  ASSERT_OK_AND_ASSIGN(StoredRevision a, txn->GetRevision(things_, "a", Rev(1, 'a')));
  EXPECT_EQ(Describe(a), Describe(Live("a", Rev(1, 'a'), "", 1, Attrs({{"i", IntValue(1)}}))));
  ASSERT_OK_AND_ASSIGN(StoredRevision other_a, txn->GetRevision(others, "a", Rev(1, 'a')));
  EXPECT_EQ(Describe(other_a),
            Describe(Live("a", Rev(1, 'a'), "", 1, Attrs({{"i", IntValue(3)}}))));
  EXPECT_THAT(txn->GetHistory(things_, "a"), IsOkAndHolds(::testing::SizeIs(1)));
  EXPECT_THAT(txn->GetHistory(things_, "b"), IsOkAndHolds(::testing::SizeIs(2)));
  EXPECT_THAT(txn->GetHistory(others, "b"), IsOkAndHolds(IsEmpty()));
}

TEST_P(StorageConformanceTest, MissingRevisionIsNotFoundAndMissingRecordHasNoHistory) {
  CreateThings();
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.InsertRevision(things_, Live("rec", Rev(1, 'a'), "", 1)));
  });
  auto txn = Read();
  EXPECT_THAT(txn->GetRevision(things_, "rec", Rev(1, 'b')), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(txn->GetRevision(things_, "none", Rev(1, 'a')),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(txn->GetLeaves(things_, "none"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(txn->GetHistory(things_, "none"), IsOkAndHolds(IsEmpty()));
}

// ---- View rows ----

TEST_P(StorageConformanceTest, ViewRowsAreUpsertedReplacedAndDeleted) {
  CreateThings();
  const v1::Record first = ViewRecord("rec", Rev(1, 'a'), Attrs({{"s", StringValue("one")}}));
  const v1::Record second = ViewRecord("rec", Rev(2, 'b'), Attrs({{"i", IntValue(2)}}));
  {
    auto txn = Read();
    EXPECT_THAT(txn->GetViewRow(things_, "rec"), StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(txn->CountViewRows(things_), IsOkAndHolds(0));
  }
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.UpsertViewRow(things_, first));
    EXPECT_THAT(txn.CountViewRows(things_), IsOkAndHolds(1));
    EXPECT_THAT(txn.GetViewRow(things_, "rec"), IsOkAndHolds(EqualsProto(first)));
  });
  {
    auto txn = Read();
    EXPECT_THAT(txn->GetViewRow(things_, "rec"), IsOkAndHolds(EqualsProto(first)));
  }
  Commit([&](WriteTransaction& txn) { ASSERT_OK(txn.UpsertViewRow(things_, second)); });
  {
    auto txn = Read();
    // Replaced as a whole: the string column of `first` is null again.
    EXPECT_THAT(txn->GetViewRow(things_, "rec"), IsOkAndHolds(EqualsProto(second)));
    EXPECT_THAT(txn->QueryView(things_, ViewQuery{}),
                IsOkAndHolds(ElementsAre(EqualsProto(second))));
    EXPECT_THAT(txn->CountViewRows(things_), IsOkAndHolds(1));  // Replaced, not added.
  }
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.DeleteViewRow(things_, "rec"));
    EXPECT_OK(txn.DeleteViewRow(things_, "rec"));  // Already gone: OK.
    EXPECT_OK(txn.DeleteViewRow(things_, "never"));
  });
  auto txn = Read();
  EXPECT_THAT(txn->GetViewRow(things_, "rec"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(txn->QueryView(things_, ViewQuery{}), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(txn->CountViewRows(things_), IsOkAndHolds(0));
}

v1::Record Conflicted(v1::Record record, bool conflicted = true) {
  record.set_conflicted(conflicted);
  return record;
}

TEST_P(StorageConformanceTest, ViewRowsKeepTheirConflictedFlag) {
  CreateThings();
  const v1::Record plain = ViewRecord("rec", Rev(1, 'a'), Attrs({{"s", StringValue("one")}}));
  const v1::Record conflicted = Conflicted(ViewRecord("rec", Rev(2, 'b'), Attrs()));
  ViewQuery only;
  only.conflicted_only = true;
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.UpsertViewRow(things_, plain));
    ASSERT_OK(txn.UpsertViewRow(things_, Conflicted(ViewRecord("other", Rev(1, 'c'), Attrs()))));
  });
  {
    auto txn = Read();
    EXPECT_THAT(txn->GetViewRow(things_, "rec"), IsOkAndHolds(EqualsProto(plain)));
    EXPECT_THAT(txn->QueryView(things_, only), IsOkAndHolds(ElementsAre(EqualsProto(Conflicted(
                                                   ViewRecord("other", Rev(1, 'c'), Attrs()))))));
  }
  Commit([&](WriteTransaction& txn) { ASSERT_OK(txn.UpsertViewRow(things_, conflicted)); });
  {
    auto txn = Read();
    EXPECT_THAT(txn->GetViewRow(things_, "rec"), IsOkAndHolds(EqualsProto(conflicted)));
    EXPECT_THAT(
        txn->QueryView(things_, ViewQuery{}),
        IsOkAndHolds(ElementsAre(EqualsProto(Conflicted(ViewRecord("other", Rev(1, 'c'), Attrs()))),
                                 EqualsProto(conflicted))));
    EXPECT_THAT(txn->QueryView(things_, only).value(), ::testing::SizeIs(2));
  }
  {  // A rolled back change of the flag leaves it as it was.
    auto txn = Write();
    ASSERT_OK(txn->UpsertViewRow(things_, Conflicted(conflicted, false)));
    ASSERT_OK(txn->DeleteViewRow(things_, "other"));
    EXPECT_THAT(Ids(txn->QueryView(things_, only).value()), IsEmpty());
  }
  {
    auto txn = Read();
    EXPECT_THAT(Ids(txn->QueryView(things_, only).value()), ElementsAre("other", "rec"));
  }
  // Cleared by an upsert, gone with the row.
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.UpsertViewRow(things_, Conflicted(conflicted, false)));
    ASSERT_OK(txn.DeleteViewRow(things_, "other"));
  });
  auto txn = Read();
  EXPECT_THAT(txn->GetViewRow(things_, "rec"),
              IsOkAndHolds(EqualsProto(Conflicted(conflicted, false))));
  EXPECT_THAT(txn->QueryView(things_, only), IsOkAndHolds(IsEmpty()));
}

TEST_P(StorageConformanceTest, AppendedColumnsKeepTheConflictedFlag) {
  CreateThings();
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.UpsertViewRow(things_, Conflicted(ViewRecord("rec", Rev(1, 'a'), Attrs()))));
  });
  v1::Table wider = things_;
  v1::Column* extra = wider.add_columns();
  extra->set_name("extra");
  extra->set_type(v1::COLUMN_TYPE_INT);
  extra->set_nullable(true);
  Commit([&](WriteTransaction& txn) { ASSERT_OK(txn.AppendColumns(wider)); });
  auto txn = Read();
  ASSERT_OK_AND_ASSIGN(v1::Record row, txn->GetViewRow(wider, "rec"));
  EXPECT_TRUE(row.conflicted());
  ViewQuery only;
  only.conflicted_only = true;
  EXPECT_THAT(Ids(txn->QueryView(wider, only).value()), ElementsAre("rec"));
}

// ---- Values ----

// Every kind at its edges, each written to its own column.
std::vector<std::pair<std::string, v1::Value>> EdgeValues() {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  return {
      {"s", StringValue("")},
      {"s", StringValue("plain ascii")},
      {"s", StringValue("h\xC3\xA9llo \xE2\x80\x94 \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x8C\x8D")},
      {"s", StringValue(std::string("nul\0inside", 10))},
      {"s", StringValue(std::string(5000, 'x'))},
      {"i", IntValue(0)},
      {"i", IntValue(-1)},
      {"i", IntValue(std::numeric_limits<int64_t>::min())},
      {"i", IntValue(std::numeric_limits<int64_t>::max())},
      {"i", IntValue(9007199254740993)},  // 2^53 + 1: not representable as a double.
      {"f", FloatValue(0.0)},
      {"f", FloatValue(-0.0)},
      {"f", FloatValue(0.1)},
      {"f", FloatValue(-1.0 / 3.0)},
      {"f", FloatValue(std::numeric_limits<double>::denorm_min())},
      {"f", FloatValue(std::numeric_limits<double>::min())},
      {"f", FloatValue(std::numeric_limits<double>::max())},
      {"f", FloatValue(std::numeric_limits<double>::lowest())},
      {"f", FloatValue(1e300)},
      {"f", FloatValue(123456789.0)},  // Integral: must stay a float.
      {"b", BoolValue(false)},
      {"b", BoolValue(true)},
      {"t", TimestampValue(0, 0)},
      {"t", TimestampValue(kYear1, 0)},
      {"t", TimestampValue(kYear9999, 999999000)},
      {"t", TimestampValue(1767225600, 1000)},      // 2026-01-01T00:00:00.000001Z.
      {"t", TimestampValue(-1, 999999000)},         // 1969-12-31T23:59:59.999999Z.
      {"t", TimestampValue(951782400, 500000000)},  // 2000-02-29T00:00:00.5Z.
      {"y", BytesValue("")},
      {"y", BytesValue(std::string("\0", 1))},
      {"y", BytesValue(std::string("\0\x01\xff\0", 4))},
      {"y", BytesValue(all_bytes)},
  };
}

TEST_P(StorageConformanceTest, EveryValueRoundTripsExactly) {
  CreateThings();
  const auto values = EdgeValues();
  auto id_of = [](size_t i) { return absl::StrCat("v", 100 + i); };
  Commit([&](WriteTransaction& txn) {
    for (size_t i = 0; i < values.size(); ++i) {
      const Attributes attrs = Attrs({{values[i].first, values[i].second}});
      ASSERT_OK(txn.InsertRevision(things_, Live(id_of(i), Rev(1, 'a'), "", 1, attrs)));
      ASSERT_OK(txn.UpsertViewRow(things_, ViewRecord(id_of(i), Rev(1, 'a'), attrs)));
    }
    // A row with every column null.
    ASSERT_OK(txn.InsertRevision(things_, Live("znulls", Rev(1, 'a'), "", 1)));
    ASSERT_OK(txn.UpsertViewRow(things_, ViewRecord("znulls", Rev(1, 'a'), Attrs())));
  });
  auto txn = Read();
  ViewQuery all;
  all.limit = 1000;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Record> rows, txn->QueryView(things_, all));
  ASSERT_EQ(rows.size(), values.size() + 1);
  for (size_t i = 0; i < values.size(); ++i) {
    SCOPED_TRACE(absl::StrCat(values[i].first, " = ", Describe(values[i].second)));
    const v1::Value& value = values[i].second;
    // The one exception of the contract: -0.0 may read back as 0.0.
    const bool negative_zero =
        value.has_float_() && value.float_() == 0.0 && std::signbit(value.float_());
    const auto expected = ::testing::AnyOf(
        Describe(Attrs({{values[i].first, value}})),
        Describe(Attrs({{values[i].first, negative_zero ? FloatValue(0.0) : value}})));
    ASSERT_OK_AND_ASSIGN(StoredRevision rev, txn->GetRevision(things_, id_of(i), Rev(1, 'a')));
    EXPECT_THAT(Describe(rev.attributes), expected);
    ASSERT_OK_AND_ASSIGN(v1::Record row, txn->GetViewRow(things_, id_of(i)));
    EXPECT_THAT(Describe(row.attributes()), expected);
    EXPECT_THAT(Describe(rows[i].attributes()), expected);
  }
  ASSERT_OK_AND_ASSIGN(StoredRevision nulls, txn->GetRevision(things_, "znulls", Rev(1, 'a')));
  EXPECT_EQ(Describe(nulls.attributes), Describe(Attrs()));
  EXPECT_EQ(Describe(rows.back().attributes()), Describe(Attrs()));
}

// ---- Queries ----

// The query data set. Every row holds, in each column, that column's value of
// the row's rank (values ascend with the rank), or null. Rank 2 appears twice
// so that ties are broken by id; ids are not in rank order.
struct QueryRow {
  std::string id;
  std::optional<int> rank;
};
const QueryRow kQueryRows[] = {{"c", 0}, {"a", 1},  {"d", 2},           {"f", 2},
                               {"b", 3}, {"e", {}}, {"0", std::nullopt}};

struct ColumnSpec {
  std::string name;
  std::vector<v1::Value> values;  // By rank 0..3.
  std::vector<double> keys;       // The order of each rank's value (bool has ties).
  // A value in no row, strictly between ranks 1 and 2 (key 1.5).
  std::optional<v1::Value> between;
};

std::vector<ColumnSpec> QueryColumns() {
  return {
      // Bytewise: "" < "Z" < "Za" < "a" < "é" (0xC3 0xA9).
      {"s",
       {StringValue(""), StringValue("Z"), StringValue("a"), StringValue("\xC3\xA9")},
       {0, 1, 2, 3},
       StringValue("Za")},
      // Numeric, not textual: 9 < 10.
      {"i",
       {IntValue(std::numeric_limits<int64_t>::min()), IntValue(-7), IntValue(9), IntValue(10)},
       {0, 1, 2, 3},
       IntValue(0)},
      {"f",
       {FloatValue(-1e300), FloatValue(-0.5), FloatValue(2.0), FloatValue(10.0)},
       {0, 1, 2, 3},
       FloatValue(-0.0)},
      {"b",
       {BoolValue(false), BoolValue(false), BoolValue(true), BoolValue(true)},
       {0, 0, 1, 1},
       std::nullopt},
      // Chronological, microseconds count, years before 1970 too.
      {"t",
       {TimestampValue(kYear1, 0), TimestampValue(-1, 999999000), TimestampValue(1777636800, 1000),
        TimestampValue(1777636800, 100000000)},
       {0, 1, 2, 3},
       TimestampValue(0, 0)},
      // Bytewise unsigned: "" < 00 < 00 00 < 7f < 80.
      {"y",
       {BytesValue(""), BytesValue(std::string("\0", 1)), BytesValue("\x7f"), BytesValue("\x80")},
       {0, 1, 2, 3},
       BytesValue(std::string("\0\0", 2))},
  };
}

// The order key of `row` in `column` ("id" or a ColumnSpec): nullopt for null.
std::optional<double> KeyOf(const ColumnSpec& column, const QueryRow& row) {
  if (!row.rank) return std::nullopt;
  return column.keys[*row.rank];
}

bool OracleSatisfies(std::optional<double> key, v1::Operator op, double pivot) {
  if (op == v1::OPERATOR_IS_NULL) return !key;
  if (op == v1::OPERATOR_IS_NOT_NULL) return key.has_value();
  if (!key) return false;
  switch (op) {
    case v1::OPERATOR_EQ:
      return *key == pivot;
    case v1::OPERATOR_NE:
      return *key != pivot;
    case v1::OPERATOR_LT:
      return *key < pivot;
    case v1::OPERATOR_LE:
      return *key <= pivot;
    case v1::OPERATOR_GT:
      return *key > pivot;
    case v1::OPERATOR_GE:
      return *key >= pivot;
    default:
      return false;
  }
}

// Ascending: by key with nulls last, then id; descending is the reverse.
std::vector<std::string> OracleOrder(const std::string& order_by, bool descending) {
  std::vector<QueryRow> rows(std::begin(kQueryRows), std::end(kQueryRows));
  std::optional<ColumnSpec> spec;
  for (ColumnSpec& c : QueryColumns()) {
    if (c.name == order_by) spec = c;
  }
  auto key = [&](const QueryRow& r) {
    std::optional<double> k = spec ? KeyOf(*spec, r) : 0.0;
    return std::make_pair(k ? *k : std::numeric_limits<double>::infinity(), r.id);
  };
  std::sort(rows.begin(), rows.end(),
            [&](const QueryRow& a, const QueryRow& b) { return key(a) < key(b); });
  if (descending) std::reverse(rows.begin(), rows.end());
  std::vector<std::string> ids;
  for (const QueryRow& r : rows) ids.push_back(r.id);
  return ids;
}

class QueryTest : public StorageConformanceTest {
 protected:
  void SetUp() override {
    StorageConformanceTest::SetUp();
    if (HasFatalFailure()) return;
    CreateThings();
    Commit([&](WriteTransaction& txn) {
      for (const QueryRow& row : kQueryRows) {
        std::map<std::string, v1::Value> values;
        for (const ColumnSpec& c : QueryColumns()) {
          values[c.name] = row.rank ? c.values[*row.rank] : NullValue();
        }
        ASSERT_OK(txn.UpsertViewRow(things_, ViewRecord(row.id, Rev(1, 'a'), Attrs(values))));
      }
    });
  }

  // The ids QueryView returns, or a failure.
  std::vector<std::string> QueryIds(const ViewQuery& query) {
    auto txn = Read();
    absl::StatusOr<std::vector<v1::Record>> rows = txn->QueryView(things_, query);
    if (!rows.ok()) ADD_FAILURE() << "QueryView: " << rows.status();
    return rows.ok() ? Ids(*rows) : std::vector<std::string>{};
  }

  // Every row of `query` (which sets no cursor), page by page.
  std::vector<std::string> Paginate(ViewQuery query, int page_size) {
    query.limit = page_size;
    std::vector<std::string> ids;
    auto txn = Read();
    for (int pages = 0; pages <= 20; ++pages) {
      absl::StatusOr<std::vector<v1::Record>> page = txn->QueryView(things_, query);
      if (!page.ok()) {
        ADD_FAILURE() << "QueryView: " << page.status();
        return ids;
      }
      EXPECT_LE(page->size(), static_cast<size_t>(page_size));
      for (const v1::Record& r : *page) ids.push_back(r.id());
      if (page->size() < static_cast<size_t>(page_size)) return ids;
      const v1::Record& last = page->back();
      ViewCursor cursor;
      cursor.id = last.id();
      if (query.order_by != "id") cursor.order_value = last.attributes().at(query.order_by);
      query.after = cursor;
    }
    ADD_FAILURE() << "pagination does not end";
    return ids;
  }
};

const v1::Operator kComparisons[] = {v1::OPERATOR_EQ, v1::OPERATOR_NE, v1::OPERATOR_LT,
                                     v1::OPERATOR_LE, v1::OPERATOR_GT, v1::OPERATOR_GE};

TEST_P(QueryTest, EveryOperatorOnEveryColumnType) {
  for (const ColumnSpec& column : QueryColumns()) {
    std::vector<std::pair<v1::Value, double>> pivots;
    for (int rank = 0; rank < 4; ++rank) pivots.push_back({column.values[rank], column.keys[rank]});
    if (column.between) pivots.push_back({*column.between, 1.5});
    for (const auto& [pivot, pivot_key] : pivots) {
      for (v1::Operator op : kComparisons) {
        SCOPED_TRACE(absl::StrCat(column.name, " ", v1::Operator_Name(op), " ", Describe(pivot)));
        std::vector<std::string> expected;
        for (const QueryRow& row : kQueryRows) {
          if (OracleSatisfies(KeyOf(column, row), op, pivot_key)) expected.push_back(row.id);
        }
        std::sort(expected.begin(), expected.end());
        ViewQuery query;
        query.conditions = {{column.name, op, pivot}};
        EXPECT_THAT(QueryIds(query), ElementsAreArray(expected));
      }
    }
    for (v1::Operator op : {v1::OPERATOR_IS_NULL, v1::OPERATOR_IS_NOT_NULL}) {
      SCOPED_TRACE(absl::StrCat(column.name, " ", v1::Operator_Name(op)));
      ViewQuery query;
      query.conditions = {{column.name, op, v1::Value()}};
      const std::vector<std::string> expected =
          op == v1::OPERATOR_IS_NULL ? std::vector<std::string>{"0", "e"}
                                     : std::vector<std::string>{"a", "b", "c", "d", "f"};
      EXPECT_THAT(QueryIds(query), ElementsAreArray(expected));
    }
  }
}

TEST_P(QueryTest, ComparisonWithNullIsNeverTrue) {
  for (const ColumnSpec& column : QueryColumns()) {
    for (v1::Operator op : kComparisons) {
      SCOPED_TRACE(absl::StrCat(column.name, " ", v1::Operator_Name(op), " null"));
      ViewQuery query;
      query.conditions = {{column.name, op, NullValue()}};
      EXPECT_THAT(QueryIds(query), IsEmpty());
    }
  }
}

TEST_P(QueryTest, ConditionsOnIdCompareBytewise) {
  auto ids = [&](v1::Operator op, const std::string& pivot) {
    ViewQuery query;
    query.conditions = {{"id", op, StringValue(pivot)}};
    return QueryIds(query);
  };
  EXPECT_THAT(ids(v1::OPERATOR_EQ, "c"), ElementsAre("c"));
  EXPECT_THAT(ids(v1::OPERATOR_NE, "c"), ElementsAre("0", "a", "b", "d", "e", "f"));
  EXPECT_THAT(ids(v1::OPERATOR_LT, "c"), ElementsAre("0", "a", "b"));
  EXPECT_THAT(ids(v1::OPERATOR_LE, "c"), ElementsAre("0", "a", "b", "c"));
  EXPECT_THAT(ids(v1::OPERATOR_GT, "c"), ElementsAre("d", "e", "f"));
  EXPECT_THAT(ids(v1::OPERATOR_GE, "cc"), ElementsAre("d", "e", "f"));
  EXPECT_THAT(ids(v1::OPERATOR_GT, "B"), ElementsAre("a", "b", "c", "d", "e", "f"));
  EXPECT_THAT(ids(v1::OPERATOR_IS_NOT_NULL, ""), ::testing::SizeIs(7));
  EXPECT_THAT(ids(v1::OPERATOR_IS_NULL, ""), IsEmpty());
}

TEST_P(QueryTest, ConditionsAreAnded) {
  ViewQuery query;
  query.conditions = {{"i", v1::OPERATOR_GE, IntValue(-7)},
                      {"i", v1::OPERATOR_LT, IntValue(10)},
                      {"b", v1::OPERATOR_EQ, BoolValue(true)}};
  EXPECT_THAT(QueryIds(query), ElementsAre("d", "f"));
  query.conditions = {{"i", v1::OPERATOR_GT, IntValue(9)}, {"i", v1::OPERATOR_LT, IntValue(10)}};
  EXPECT_THAT(QueryIds(query), IsEmpty());
  query.conditions = {{"s", v1::OPERATOR_IS_NULL, {}}, {"id", v1::OPERATOR_GT, StringValue("0")}};
  EXPECT_THAT(QueryIds(query), ElementsAre("e"));
}

TEST_P(QueryTest, OrdersByEveryColumnWithNullsLastAscendingFirstDescending) {
  for (const std::string column : {"id", "s", "i", "f", "b", "t", "y"}) {
    for (bool descending : {false, true}) {
      SCOPED_TRACE(absl::StrCat("order by ", column, descending ? " desc" : " asc"));
      ViewQuery query;
      query.order_by = column;
      query.descending = descending;
      EXPECT_THAT(QueryIds(query), ElementsAreArray(OracleOrder(column, descending)));
    }
  }
  // Spelled out once: ties (d, f) and nulls (0, e) ordered by id.
  ViewQuery query;
  query.order_by = "i";
  EXPECT_THAT(QueryIds(query), ElementsAre("c", "a", "d", "f", "b", "0", "e"));
  query.descending = true;
  EXPECT_THAT(QueryIds(query), ElementsAre("e", "0", "b", "f", "d", "a", "c"));
}

TEST_P(QueryTest, CursorsReturnEveryRowExactlyOnce) {
  std::vector<std::pair<std::string, std::vector<ViewCondition>>> filters = {
      {"none", {}},
      {"i is not null", {{"i", v1::OPERATOR_IS_NOT_NULL, {}}}},
      {"s >= Z", {{"s", v1::OPERATOR_GE, StringValue("Z")}}},
      {"b = false", {{"b", v1::OPERATOR_EQ, BoolValue(false)}}},
  };
  for (const std::string column : {"id", "s", "i", "f", "b", "t", "y"}) {
    for (bool descending : {false, true}) {
      for (const auto& [filter_name, conditions] : filters) {
        ViewQuery query;
        query.order_by = column;
        query.descending = descending;
        query.conditions = conditions;
        query.limit = 1000;
        const std::vector<std::string> all = QueryIds(query);
        for (int page_size : {1, 2, 3, 6, 7, 8}) {
          SCOPED_TRACE(absl::StrCat("order by ", column, descending ? " desc" : " asc", ", filter ",
                                    filter_name, ", pages of ", page_size));
          EXPECT_THAT(Paginate(query, page_size), ElementsAreArray(all));
        }
      }
    }
  }
}

TEST_P(QueryTest, CursorNeedNotNameAnExistingRow) {
  ViewQuery query;
  query.order_by = "i";
  query.after = ViewCursor{IntValue(0), "zz"};  // Between -7 (a) and 9 (d, f).
  EXPECT_THAT(QueryIds(query), ElementsAre("d", "f", "b", "0", "e"));
  query.after = ViewCursor{IntValue(9), "e"};  // Between d and f.
  EXPECT_THAT(QueryIds(query), ElementsAre("f", "b", "0", "e"));
  query.after = ViewCursor{NullValue(), "00"};  // Among the nulls.
  EXPECT_THAT(QueryIds(query), ElementsAre("e"));
  query.descending = true;
  query.after = ViewCursor{NullValue(), "00"};
  EXPECT_THAT(QueryIds(query), ElementsAre("0", "b", "f", "d", "a", "c"));
  query.after = ViewCursor{IntValue(9), "e"};
  EXPECT_THAT(QueryIds(query), ElementsAre("d", "a", "c"));
  query.order_by = "id";
  query.after = ViewCursor{v1::Value(), "cc"};
  EXPECT_THAT(QueryIds(query), ElementsAre("c", "b", "a", "0"));
  query.descending = false;
  EXPECT_THAT(QueryIds(query), ElementsAre("d", "e", "f"));
}

TEST_P(QueryTest, ConflictedOnlyCombinesWithFiltersOrderAndCursors) {
  // Some rows become conflicted (values unchanged); c is written back plain.
  const std::set<std::string> conflicted = {"0", "b", "d", "e"};
  Commit([&](WriteTransaction& txn) {
    for (const std::string id : {"0", "b", "c", "d", "e"}) {
      ASSERT_OK_AND_ASSIGN(v1::Record row, txn.GetViewRow(things_, id));
      ASSERT_OK(txn.UpsertViewRow(things_, Conflicted(row, id != "c")));
    }
  });
  std::vector<std::pair<std::string, std::vector<ViewCondition>>> filters = {
      {"none", {}},
      {"i is not null", {{"i", v1::OPERATOR_IS_NOT_NULL, {}}}},
      {"b = false", {{"b", v1::OPERATOR_EQ, BoolValue(false)}}},
      {"id > 0", {{"id", v1::OPERATOR_GT, StringValue("0")}}},
  };
  for (const std::string column : {"id", "s", "i", "b"}) {
    for (bool descending : {false, true}) {
      for (const auto& [filter_name, conditions] : filters) {
        ViewQuery query;
        query.order_by = column;
        query.descending = descending;
        query.conditions = conditions;
        query.limit = 1000;
        std::vector<std::string> expected;  // The full query, conflicted rows only.
        for (const std::string& id : QueryIds(query)) {
          if (conflicted.count(id) > 0) expected.push_back(id);
        }
        query.conflicted_only = true;
        SCOPED_TRACE(absl::StrCat("order by ", column, descending ? " desc" : " asc", ", filter ",
                                  filter_name));
        auto txn = Read();
        ASSERT_OK_AND_ASSIGN(std::vector<v1::Record> rows, txn->QueryView(things_, query));
        EXPECT_THAT(Ids(rows), ElementsAreArray(expected));
        for (const v1::Record& row : rows) EXPECT_TRUE(row.conflicted()) << row.id();
        for (int page_size : {1, 2, 3}) {
          SCOPED_TRACE(absl::StrCat("pages of ", page_size));
          EXPECT_THAT(Paginate(query, page_size), ElementsAreArray(expected));
        }
      }
    }
  }
  ViewQuery spelled_out;  // Once by hand.
  spelled_out.conflicted_only = true;
  spelled_out.order_by = "i";
  EXPECT_THAT(QueryIds(spelled_out), ElementsAre("d", "b", "0", "e"));
}

TEST_P(QueryTest, LimitCapsThePage) {
  ViewQuery query;
  query.limit = 1;
  EXPECT_THAT(QueryIds(query), ElementsAre("0"));
  query.limit = 3;
  query.order_by = "f";
  query.descending = true;
  EXPECT_THAT(QueryIds(query), ElementsAre("e", "0", "b"));
  query.limit = 7;
  EXPECT_THAT(QueryIds(query), ::testing::SizeIs(7));
}

TEST_P(StorageConformanceTest, QueryHonoursTheDefaultLimitAndEmptyTables) {
  CreateThings();
  {
    auto txn = Read();
    EXPECT_THAT(txn->QueryView(things_, ViewQuery{}), IsOkAndHolds(IsEmpty()));
  }
  Commit([&](WriteTransaction& txn) {
    for (int i = 0; i < 150; ++i) {
      ASSERT_OK(txn.UpsertViewRow(things_, ViewRecord(absl::StrCat("r", 1000 + i), Rev(1, 'a'),
                                                      Attrs({{"i", IntValue(i)}}))));
    }
  });
  auto txn = Read();
  ViewQuery query;  // limit defaults to 100.
  query.order_by = "i";
  query.descending = true;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Record> rows, txn->QueryView(things_, query));
  ASSERT_EQ(rows.size(), 100u);
  EXPECT_EQ(rows.front().id(), "r1149");
  EXPECT_EQ(rows.back().id(), "r1050");
  query.after = ViewCursor{rows.back().attributes().at("i"), rows.back().id()};
  EXPECT_THAT(txn->QueryView(things_, query), IsOkAndHolds(::testing::SizeIs(50)));
}

// ---- Change feed ----

// The feed after `since`, described, or a failure.
std::vector<std::string> FeedOf(ReadTransaction& txn, int64_t since = 0,
                                const std::vector<std::string>& tables = {}, int limit = 1000) {
  absl::StatusOr<std::vector<v1::Change>> changes = txn.ScanChanges(since, tables, limit);
  if (!changes.ok()) ADD_FAILURE() << "ScanChanges: " << changes.status();
  return changes.ok() ? Describe(*changes) : std::vector<std::string>{};
}

std::string Entry(int64_t seq, const v1::Change& c) {
  v1::Change with_seq = c;
  with_seq.set_seq(seq);
  return Describe(std::vector<v1::Change>{with_seq})[0];
}

TEST_P(StorageConformanceTest, AppendChangeNumbersEntriesInOrder) {
  const v1::Change a = RecordChange("t1", "a", Rev(1, 'a'));
  const v1::Change b = RecordChange("t1", "b", Rev(2, 'b'), /*deleted=*/true);
  const v1::Change t = TableChange("t2");
  int64_t sa = 0, sb = 0, st = 0;
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK_AND_ASSIGN(sa, txn.AppendChange(a));
    ASSERT_OK_AND_ASSIGN(sb, txn.AppendChange(b));
    EXPECT_THAT(txn.LastSeq(), IsOkAndHolds(sb));
    EXPECT_THAT(FeedOf(txn), ElementsAre(Entry(sa, a), Entry(sb, b)));
  });
  Commit([&](WriteTransaction& txn) { ASSERT_OK_AND_ASSIGN(st, txn.AppendChange(t)); });
  EXPECT_GT(sa, 0);
  EXPECT_GT(sb, sa);
  EXPECT_GT(st, sb);
  auto txn = Read();
  EXPECT_THAT(txn->LastSeq(), IsOkAndHolds(st));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> feed, txn->ScanChanges(0, {}, 100));
  ASSERT_EQ(feed.size(), 3u);
  // Every field survives; the seq is the assigned one.
  v1::Change expected_b = b;
  expected_b.set_seq(sb);
  EXPECT_THAT(feed[1], EqualsProto(expected_b));
  EXPECT_THAT(FeedOf(*txn), ElementsAre(Entry(sa, a), Entry(sb, b), Entry(st, t)));
}

TEST_P(StorageConformanceTest, FeedKeepsOnlyTheLatestEntryPerKindTableAndRecord) {
  const v1::Change a1 = RecordChange("t1", "a", Rev(1, 'a'));
  const v1::Change b1 = RecordChange("t1", "b", Rev(1, 'b'));
  const v1::Change a_other_table = RecordChange("t2", "a", Rev(1, 'c'));
  const v1::Change table_t1 = TableChange("t1");
  const v1::Change a2 = RecordChange("t1", "a", Rev(2, 'd'));
  const v1::Change a3 = RecordChange("t1", "a", Rev(3, 'e'), /*deleted=*/true);
  std::vector<int64_t> seqs;
  Commit([&](WriteTransaction& txn) {
    for (const v1::Change& c : {a1, b1, a_other_table, table_t1, a2}) {
      ASSERT_OK_AND_ASSIGN(int64_t seq, txn.AppendChange(c));
      seqs.push_back(seq);
    }
    // Within the transaction that wrote them, a1 is already gone.
    EXPECT_THAT(FeedOf(txn), ElementsAre(Entry(seqs[1], b1), Entry(seqs[2], a_other_table),
                                         Entry(seqs[3], table_t1), Entry(seqs[4], a2)));
  });
  int64_t s_a3 = 0, s_table = 0;
  Commit([&](WriteTransaction& txn) {
    // Across transactions too; the table entry moves to its latest seq.
    ASSERT_OK_AND_ASSIGN(s_a3, txn.AppendChange(a3));
    ASSERT_OK_AND_ASSIGN(s_table, txn.AppendChange(table_t1));
  });
  EXPECT_GT(s_a3, seqs.back());
  EXPECT_GT(s_table, s_a3);
  auto txn = Read();
  EXPECT_THAT(FeedOf(*txn), ElementsAre(Entry(seqs[1], b1), Entry(seqs[2], a_other_table),
                                        Entry(s_a3, a3), Entry(s_table, table_t1)));
  // The highest seq ever assigned, even though entries were dropped.
  EXPECT_THAT(txn->LastSeq(), IsOkAndHolds(s_table));
}

TEST_P(StorageConformanceTest, FeedEntriesKeepTheirConflictedFlag) {
  v1::Change a = RecordChange("t1", "a", Rev(2, 'a'));
  a.set_conflicted(true);
  const v1::Change b = RecordChange("t1", "b", Rev(1, 'b'));
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.AppendChange(a).status());
    ASSERT_OK(txn.AppendChange(b).status());
  });
  {
    auto txn = Read();
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> feed, txn->ScanChanges(0, {}, 100));
    ASSERT_EQ(feed.size(), 2u);
    EXPECT_TRUE(feed[0].conflicted());
    EXPECT_FALSE(feed[1].conflicted());
  }
  // The record leaves conflict: its new entry says so.
  v1::Change resolved = RecordChange("t1", "a", Rev(3, 'c'));
  Commit([&](WriteTransaction& txn) { ASSERT_OK(txn.AppendChange(resolved).status()); });
  auto txn = Read();
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> feed, txn->ScanChanges(0, {}, 100));
  ASSERT_EQ(feed.size(), 2u);
  EXPECT_EQ(feed[1].id(), "a");
  EXPECT_FALSE(feed[1].conflicted());
}

TEST_P(StorageConformanceTest, ScanChangesFiltersBySeqTableAndLimit) {
  std::vector<v1::Change> changes = {RecordChange("t1", "a", Rev(1, 'a')),
                                     RecordChange("t2", "a", Rev(1, 'b')),
                                     TableChange("t3"),
                                     RecordChange("t1", "b", Rev(1, 'c')),
                                     RecordChange("t3", "c", Rev(1, 'd')),
                                     RecordChange("t2", "d", Rev(1, 'e'))};
  std::vector<std::string> entries;
  std::vector<int64_t> seqs;
  Commit([&](WriteTransaction& txn) {
    for (const v1::Change& c : changes) {
      ASSERT_OK_AND_ASSIGN(int64_t seq, txn.AppendChange(c));
      seqs.push_back(seq);
      entries.push_back(Entry(seq, c));
    }
  });
  auto txn = Read();
  EXPECT_THAT(FeedOf(*txn), ElementsAreArray(entries));
  EXPECT_THAT(FeedOf(*txn, seqs[2]), ElementsAre(entries[3], entries[4], entries[5]));
  EXPECT_THAT(FeedOf(*txn, seqs[5]), IsEmpty());
  EXPECT_THAT(FeedOf(*txn, seqs[5] + 100), IsEmpty());
  EXPECT_THAT(FeedOf(*txn, -1), ElementsAreArray(entries));
  EXPECT_THAT(FeedOf(*txn, 0, {"t1"}), ElementsAre(entries[0], entries[3]));
  EXPECT_THAT(FeedOf(*txn, 0, {"t3", "t1"}),
              ElementsAre(entries[0], entries[2], entries[3], entries[4]));
  EXPECT_THAT(FeedOf(*txn, seqs[0], {"t1"}), ElementsAre(entries[3]));
  EXPECT_THAT(FeedOf(*txn, 0, {"nothing"}), IsEmpty());
  EXPECT_THAT(FeedOf(*txn, 0, {}, 1), ElementsAre(entries[0]));
  EXPECT_THAT(FeedOf(*txn, 0, {}, 2), ElementsAre(entries[0], entries[1]));
  // The limit counts matching entries, not scanned ones.
  EXPECT_THAT(FeedOf(*txn, 0, {"t2"}, 1), ElementsAre(entries[1]));
  EXPECT_THAT(FeedOf(*txn, seqs[1], {"t2"}, 1), ElementsAre(entries[5]));
}

TEST_P(StorageConformanceTest, CountChangesCountsWhatScanChangesReturns) {
  std::vector<int64_t> seqs;
  Commit([&](WriteTransaction& txn) {
    for (const v1::Change& c :
         {RecordChange("t1", "a", Rev(1, 'a')), RecordChange("t2", "a", Rev(1, 'b')),
          TableChange("t3"), RecordChange("t1", "b", Rev(1, 'c'))}) {
      ASSERT_OK_AND_ASSIGN(int64_t seq, txn.AppendChange(c));
      seqs.push_back(seq);
    }
  });
  // A record changed again keeps one entry (its latest): the count follows.
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.AppendChange(RecordChange("t1", "a", Rev(2, 'd'))).status());
  });
  auto txn = Read();
  EXPECT_THAT(txn->CountChanges(0, {}), IsOkAndHolds(4));
  EXPECT_THAT(txn->CountChanges(-1, {}), IsOkAndHolds(4));
  EXPECT_THAT(txn->CountChanges(seqs[1], {}), IsOkAndHolds(3));
  EXPECT_THAT(txn->CountChanges(0, {"t1"}), IsOkAndHolds(2));
  EXPECT_THAT(txn->CountChanges(0, {"t3", "t2"}), IsOkAndHolds(2));
  EXPECT_THAT(txn->CountChanges(seqs[3], {"t1"}), IsOkAndHolds(1));
  EXPECT_THAT(txn->CountChanges(0, {"nothing"}), IsOkAndHolds(0));
  ASSERT_OK_AND_ASSIGN(int64_t last, txn->LastSeq());
  EXPECT_THAT(txn->CountChanges(last, {}), IsOkAndHolds(0));
  for (int64_t since : {int64_t{0}, seqs[0], seqs[2]}) {
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> feed, txn->ScanChanges(since, {}, 100));
    EXPECT_THAT(txn->CountChanges(since, {}), IsOkAndHolds(static_cast<int64_t>(feed.size())));
  }
}

TEST_P(StorageConformanceTest, CommittedSeqsStrictlyIncreaseAcrossRollbacks) {
  int64_t last_committed = 0;
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.AppendChange(RecordChange("t", "a", Rev(1, 'a'))).status());
    ASSERT_OK_AND_ASSIGN(last_committed, txn.AppendChange(RecordChange("t", "b", Rev(1, 'a'))));
  });
  {
    auto txn = Write();
    for (char id = 'c'; id < 'h'; ++id) {
      ASSERT_OK(txn->AppendChange(RecordChange("t", std::string(1, id), Rev(1, 'a'))).status());
    }
    ASSERT_OK(txn->AppendChange(RecordChange("t", "a", Rev(2, 'b'))).status());
    // Destroyed without Commit.
  }
  {
    auto txn = Read();
    EXPECT_THAT(txn->LastSeq(), IsOkAndHolds(last_committed));
    EXPECT_THAT(FeedOf(*txn), ::testing::SizeIs(2));
  }
  int64_t next = 0;
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK_AND_ASSIGN(next, txn.AppendChange(RecordChange("t", "z", Rev(1, 'a'))));
  });
  EXPECT_GT(next, last_committed);
  auto txn = Read();
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> feed, txn->ScanChanges(0, {}, 100));
  ASSERT_EQ(feed.size(), 3u);
  EXPECT_LT(feed[0].seq(), feed[1].seq());
  EXPECT_LT(feed[1].seq(), feed[2].seq());
  EXPECT_EQ(feed[0].id(), "a");
  EXPECT_EQ(feed[0].revision(), Rev(1, 'a'));
  EXPECT_EQ(feed[2].id(), "z");
}

// ---- Meta ----

TEST_P(StorageConformanceTest, MetaIsSetOverwrittenAndRead) {
  Commit([&](WriteTransaction& txn) {
    EXPECT_THAT(txn.GetMeta("node_id"), StatusIs(absl::StatusCode::kNotFound));
    ASSERT_OK(txn.SetMeta("node_id", "first"));
    ASSERT_OK(txn.SetMeta("empty", ""));
    ASSERT_OK(txn.SetMeta("unicode", "\xE4\xB8\x96\xE7\x95\x8C"));
    EXPECT_THAT(txn.GetMeta("node_id"), IsOkAndHolds("first"));
  });
  Commit([&](WriteTransaction& txn) { ASSERT_OK(txn.SetMeta("node_id", "second")); });
  auto txn = Read();
  EXPECT_THAT(txn->GetMeta("node_id"), IsOkAndHolds("second"));
  // Empty is a value, not an absence.
  EXPECT_THAT(txn->GetMeta("empty"), IsOkAndHolds(""));
  EXPECT_THAT(txn->GetMeta("unicode"), IsOkAndHolds("\xE4\xB8\x96\xE7\x95\x8C"));
  EXPECT_THAT(txn->GetMeta("node"), StatusIs(absl::StatusCode::kNotFound));
}

// ---- Transactions ----

// Everything a reader can see about `tables` x `ids`, the feed and `keys`.
std::vector<std::string> Dump(ReadTransaction& txn, const std::vector<std::string>& ids,
                              const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  absl::StatusOr<std::vector<v1::Table>> tables = txn.ListTables();
  if (!tables.ok()) ADD_FAILURE() << "ListTables: " << tables.status();
  for (const v1::Table& table : tables.ok() ? *tables : std::vector<v1::Table>{}) {
    out.push_back("table " + table.ShortDebugString());
    for (const std::string& id : ids) {
      for (const std::string& r : HistoryOf(txn, table, id)) out.push_back("history " + r);
      for (const std::string& r : LeavesOf(txn, table, id)) out.push_back("leaf " + r);
    }
    ViewQuery all;
    all.limit = 1000;
    absl::StatusOr<std::vector<v1::Record>> rows = txn.QueryView(table, all);
    if (!rows.ok()) ADD_FAILURE() << "QueryView: " << rows.status();
    for (const v1::Record& row : rows.ok() ? *rows : std::vector<v1::Record>{}) {
      out.push_back("view " + row.ShortDebugString());
    }
  }
  for (const std::string& entry : FeedOf(txn)) out.push_back("change " + entry);
  out.push_back(absl::StrCat("last seq ", txn.LastSeq().value_or(-1)));
  for (const std::string& key : keys) {
    absl::StatusOr<std::string> value = txn.GetMeta(key);
    out.push_back(absl::StrCat("meta ", key, " ", value.ok() ? *value : value.status().ToString()));
  }
  return out;
}

TEST_P(StorageConformanceTest, DestroyingAWriterWithoutCommitRestoresEverything) {
  const v1::Table others = ThingsTable("others");
  const std::vector<std::string> ids = {"r1", "r2", "r3"};
  const std::vector<std::string> keys = {"node_id", "new_key"};
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.CreateTable(things_));
    ASSERT_OK(txn.InsertRevision(things_, Live("r1", Rev(1, 'a'), "", 1)));
    ASSERT_OK(txn.InsertRevision(
        things_, Live("r1", Rev(2, 'b'), Rev(1, 'a'), 2, Attrs({{"s", StringValue("kept")}}))));
    ASSERT_OK(txn.UpsertViewRow(
        things_, ViewRecord("r1", Rev(2, 'b'), Attrs({{"s", StringValue("kept")}}))));
    ASSERT_OK(txn.InsertRevision(things_, Live("r2", Rev(1, 'x'), "", 1)));
    ASSERT_OK(txn.UpsertViewRow(things_, ViewRecord("r2", Rev(1, 'x'), Attrs())));
    ASSERT_OK(txn.AppendChange(TableChange(kThings)).status());
    ASSERT_OK(txn.AppendChange(RecordChange(kThings, "r1", Rev(2, 'b'))).status());
    ASSERT_OK(txn.AppendChange(RecordChange(kThings, "r2", Rev(1, 'x'))).status());
    ASSERT_OK(txn.SetMeta("node_id", "n1"));
  });
  std::vector<std::string> before;
  {
    auto txn = Read();
    before = Dump(*txn, ids, keys);
  }
  {
    auto txn = Write();
    ASSERT_OK(txn->CreateTable(others));
    ASSERT_OK(txn->InsertRevision(others, Live("r1", Rev(1, 'a'), "", 1)));
    ASSERT_OK(txn->UpsertViewRow(others, ViewRecord("r1", Rev(1, 'a'), Attrs(), "others")));
    // A child of the leaf and a conflicting sibling of it.
    ASSERT_OK(txn->InsertRevision(things_, Live("r1", Rev(3, 'c'), Rev(2, 'b'), 3)));
    ASSERT_OK(txn->InsertRevision(things_, Live("r1", Rev(2, 'z'), Rev(1, 'a'), 2)));
    ASSERT_OK(txn->InsertRevision(things_, Tombstone("r2", Rev(2, 'y'), Rev(1, 'x'), 2)));
    ASSERT_OK(txn->InsertRevision(things_, Live("r3", Rev(1, 'a'), "", 1)));
    EXPECT_THAT(txn->InsertRevision(things_, Live("r3", Rev(1, 'a'), "", 1)),
                StatusIs(absl::StatusCode::kAlreadyExists));
    ASSERT_OK(txn->UpsertViewRow(things_, ViewRecord("r1", Rev(3, 'c'), Attrs())));
    ASSERT_OK(txn->UpsertViewRow(things_, ViewRecord("r3", Rev(1, 'a'), Attrs())));
    ASSERT_OK(txn->DeleteViewRow(things_, "r2"));
    ASSERT_OK(txn->AppendChange(RecordChange(kThings, "r1", Rev(3, 'c'))).status());
    ASSERT_OK(txn->AppendChange(RecordChange(kThings, "r2", Rev(2, 'y'), true)).status());
    ASSERT_OK(txn->AppendChange(RecordChange(kThings, "r3", Rev(1, 'a'))).status());
    ASSERT_OK(txn->AppendChange(TableChange("others")).status());
    ASSERT_OK(txn->AppendChange(TableChange(kThings)).status());
    ASSERT_OK(txn->SetMeta("node_id", "n2"));
    ASSERT_OK(txn->SetMeta("new_key", "v"));
    // The writer sees all of it.
    EXPECT_NE(Dump(*txn, ids, keys), before);
  }
  {
    auto txn = Read();
    EXPECT_THAT(Dump(*txn, ids, keys), ElementsAreArray(before));
  }
  // The store is writable again, and the rolled back table can be created.
  Commit([&](WriteTransaction& txn) { EXPECT_OK(txn.CreateTable(others)); });
}

TEST_P(StorageConformanceTest, DestroyingAnEmptyWriterChangesNothing) {
  CreateThings();
  { auto txn = Write(); }
  auto txn = Read();
  EXPECT_THAT(txn->ListTables(), IsOkAndHolds(ElementsAre(EqualsProto(things_))));
}

TEST_P(StorageConformanceTest, CommitMakesWritesVisibleToNewReaders) {
  CreateThings();
  {
    auto txn = Read();
    EXPECT_THAT(txn->GetMeta("k"), StatusIs(absl::StatusCode::kNotFound));
  }
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.SetMeta("k", "v"));
    ASSERT_OK(txn.InsertRevision(things_, Live("r", Rev(1, 'a'), "", 1)));
  });
  auto txn = Read();
  EXPECT_THAT(txn->GetMeta("k"), IsOkAndHolds("v"));
  EXPECT_THAT(txn->GetLeaves(things_, "r"), IsOkAndHolds(::testing::SizeIs(1)));
}

// Commits meta k=v and one change from another thread; `committed` is set
// once Commit returned OK.
std::thread CommitFromAnotherThread(Storage* storage, std::atomic<bool>* committed) {
  return std::thread([storage, committed] {
    absl::StatusOr<std::unique_ptr<WriteTransaction>> txn = storage->BeginWrite();
    ASSERT_OK(txn.status());
    ASSERT_OK((*txn)->SetMeta("k", "v"));
    ASSERT_OK((*txn)->AppendChange(RecordChange("t", "r", Rev(1, 'a'))).status());
    ASSERT_OK((*txn)->Commit());
    committed->store(true);
  });
}

TEST_P(StorageConformanceTest, ReaderKeepsItsSnapshotWhileAWriterCommits) {
  auto reader = Read();
  EXPECT_THAT(reader->GetMeta("k"), StatusIs(absl::StatusCode::kNotFound));
  std::atomic<bool> committed{false};
  std::thread writer = CommitFromAnotherThread(storage_.get(), &committed);
  if (GetParam().readers_block_writer) {
    // The writer waits for this reader: it cannot have committed.
    EXPECT_FALSE(committed.load());
  } else {
    writer.join();
    ASSERT_TRUE(committed.load());
  }
  // Either way the reader still sees the store as it was when it began.
  EXPECT_THAT(reader->GetMeta("k"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(reader->LastSeq(), IsOkAndHolds(0));
  EXPECT_THAT(FeedOf(*reader), IsEmpty());
  reader.reset();
  if (writer.joinable()) writer.join();
  auto after = Read();
  EXPECT_THAT(after->GetMeta("k"), IsOkAndHolds("v"));
  EXPECT_THAT(FeedOf(*after), ::testing::SizeIs(1));
}

TEST_P(StorageConformanceTest, SnapshotIsTakenWhenTheReaderBegins) {
  if (GetParam().readers_block_writer) {
    GTEST_SKIP() << "a writer cannot commit while a reader is open";
  }
  auto reader = Read();  // No read yet.
  std::atomic<bool> committed{false};
  CommitFromAnotherThread(storage_.get(), &committed).join();
  ASSERT_TRUE(committed.load());
  EXPECT_THAT(reader->GetMeta("k"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(reader->LastSeq(), IsOkAndHolds(0));
}

TEST_P(StorageConformanceTest, OpenWriterIsInvisibleToReaders) {
  if (GetParam().readers_block_writer) {
    GTEST_SKIP() << "a reader cannot begin while a writer is open";
  }
  auto writer = Write();
  ASSERT_OK(writer->SetMeta("k", "v"));
  ASSERT_OK(writer->AppendChange(RecordChange("t", "r", Rev(1, 'a'))).status());
  {
    auto reader = Read();
    EXPECT_THAT(reader->GetMeta("k"), StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(reader->LastSeq(), IsOkAndHolds(0));
  }
  ASSERT_OK(writer->Commit());
  writer.reset();
  auto reader = Read();
  EXPECT_THAT(reader->GetMeta("k"), IsOkAndHolds("v"));
}

TEST_P(StorageConformanceTest, ReadersMayOverlap) {
  Commit([&](WriteTransaction& txn) { ASSERT_OK(txn.SetMeta("k", "v")); });
  auto first = Read();
  auto second = Read();
  EXPECT_THAT(first->GetMeta("k"), IsOkAndHolds("v"));
  EXPECT_THAT(second->GetMeta("k"), IsOkAndHolds("v"));
  first.reset();
  EXPECT_THAT(second->GetMeta("k"), IsOkAndHolds("v"));
}

TEST_P(StorageConformanceTest, WritersAreSerialized) {
  auto first = Write();
  ASSERT_OK_AND_ASSIGN(int64_t first_seq, first->AppendChange(RecordChange("t", "a", Rev(1, 'a'))));
  int64_t second_seq = 0;
  std::thread second([&] {
    // Waits for `first` to finish, then sees its writes.
    std::unique_ptr<WriteTransaction> txn = Write();
    EXPECT_THAT(txn->GetMeta("first"), IsOkAndHolds("done"));
    ASSERT_OK_AND_ASSIGN(second_seq, txn->AppendChange(RecordChange("t", "b", Rev(1, 'a'))));
    ASSERT_OK(txn->Commit());
  });
  ASSERT_OK(first->SetMeta("first", "done"));
  ASSERT_OK(first->Commit());
  first.reset();
  second.join();
  EXPECT_GT(second_seq, first_seq);
  auto txn = Read();
  EXPECT_THAT(txn->LastSeq(), IsOkAndHolds(second_seq));
}

TEST_P(StorageConformanceTest, TransactionsMayEndOnAnotherThread) {
  auto writer = Write();
  ASSERT_OK(writer->SetMeta("k", "v"));
  std::thread([&] {
    EXPECT_OK(writer->Commit());
    writer.reset();
  }).join();
  auto reader = Read();
  EXPECT_THAT(reader->GetMeta("k"), IsOkAndHolds("v"));
  std::thread([&] {
    EXPECT_THAT(reader->GetMeta("k"), IsOkAndHolds("v"));
    reader.reset();
  }).join();
  // Both were released: a new writer can begin.
  Commit([&](WriteTransaction& txn) { EXPECT_OK(txn.SetMeta("k", "w")); });
}

TEST_P(StorageConformanceTest, ConcurrentReadersAndWritersSeeConsistentFeeds) {
  constexpr int kWriters = 4;
  constexpr int kCommitsPerWriter = 25;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kCommitsPerWriter; ++i) {
        std::unique_ptr<WriteTransaction> txn = Write();
        const std::string id = absl::StrCat("w", w, "-", i);
        ASSERT_OK(txn->AppendChange(RecordChange("t", id, Rev(1, 'a'))).status());
        ASSERT_OK(txn->SetMeta(absl::StrCat("writer", w), id));
        ASSERT_OK(txn->Commit());
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        std::unique_ptr<ReadTransaction> txn = Read();
        ASSERT_OK_AND_ASSIGN(int64_t last, txn->LastSeq());
        ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> feed, txn->ScanChanges(0, {}, 1000));
        // A commit is seen whole: its change and LastSeq together.
        ASSERT_EQ(feed.empty(), last == 0);
        if (!feed.empty()) {
          EXPECT_EQ(feed.back().seq(), last);
        }
        for (size_t k = 1; k < feed.size(); ++k) ASSERT_LT(feed[k - 1].seq(), feed[k].seq());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  auto txn = Read();
  EXPECT_THAT(FeedOf(*txn), ::testing::SizeIs(kWriters * kCommitsPerWriter));
  for (int w = 0; w < kWriters; ++w) {
    EXPECT_THAT(txn->GetMeta(absl::StrCat("writer", w)),
                IsOkAndHolds(absl::StrCat("w", w, "-", kCommitsPerWriter - 1)));
  }
}

// ---- Backups ----

// What a store holds, described, for comparing a backup with its original:
// tables, every revision and view row of the records named, the feed, and
// the meta keys named.
std::vector<std::string> Contents(ReadTransaction& txn, const std::vector<std::string>& ids,
                                  const std::vector<std::string>& meta_keys) {
  std::vector<std::string> out;
  absl::StatusOr<std::vector<v1::Table>> tables = txn.ListTables();
  if (!tables.ok()) ADD_FAILURE() << "ListTables: " << tables.status();
  for (const v1::Table& table : tables.ok() ? *tables : std::vector<v1::Table>{}) {
    out.push_back("table " + table.ShortDebugString());
    for (const std::string& id : ids) {
      for (const std::string& rev : HistoryOf(txn, table, id)) out.push_back("history " + rev);
      absl::StatusOr<v1::Record> row = txn.GetViewRow(table, id);
      out.push_back("view " + id + " " +
                    (row.ok() ? row->ShortDebugString() : std::string(row.status().message())));
    }
  }
  for (const std::string& entry : FeedOf(txn)) out.push_back("feed " + entry);
  absl::StatusOr<int64_t> last = txn.LastSeq();
  out.push_back(absl::StrCat("last_seq ", last.ok() ? *last : -1));
  for (const std::string& key : meta_keys) {
    absl::StatusOr<std::string> value = txn.GetMeta(key);
    out.push_back("meta " + key + "=" + (value.ok() ? *value : value.status().ToString()));
  }
  return out;
}

// Every file of `dir`, by name.
std::vector<std::string> FilesIn(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class BackupTest : public StorageConformanceTest {
 protected:
  void SetUp() override {
    StorageConformanceTest::SetUp();
    copy_path_ = (copies_.path() / "copy.store").string();
  }

  // A table, a record with two revisions, a deleted record, their view
  // row and feed entries, and a meta key; committed.
  void WriteSome() {
    CreateThings();
    Commit([&](WriteTransaction& txn) {
      ASSERT_OK(txn.AppendChange(TableChange(kThings)).status());
      ASSERT_OK(txn.InsertRevision(
          things_, Live("a", Rev(1, 'a'), "", 1, Attrs({{"s", StringValue("first")}}))));
      ASSERT_OK(txn.InsertRevision(
          things_, Live("a", Rev(2, 'b'), Rev(1, 'a'), 2, Attrs({{"i", IntValue(7)}}))));
      ASSERT_OK(
          txn.UpsertViewRow(things_, ViewRecord("a", Rev(2, 'b'), Attrs({{"i", IntValue(7)}}))));
      ASSERT_OK(txn.AppendChange(RecordChange(kThings, "a", Rev(2, 'b'))).status());
      ASSERT_OK(txn.InsertRevision(things_, Live("d", Rev(1, 'c'), "", 1)));
      ASSERT_OK(txn.InsertRevision(things_, Tombstone("d", Rev(2, 'd'), Rev(1, 'c'), 2)));
      ASSERT_OK(txn.AppendChange(RecordChange(kThings, "d", Rev(2, 'd'), true)).status());
      ASSERT_OK(txn.SetMeta("node_id", "node-1"));
    });
  }

  bool CanBackUp() const { return GetParam().open_backup != nullptr; }

  absl::StatusOr<std::unique_ptr<Storage>> OpenCopy() { return GetParam().open_backup(copy_path_); }

  TempDir copies_;
  std::string copy_path_;
};

TEST_P(BackupTest, CopyHoldsEveryCommittedWriteAndTheEditOnlyTheCopy) {
  WriteSome();
  int64_t seen_last_seq = -1;
  absl::StatusOr<int64_t> bytes = storage_->Backup(copy_path_, [&](WriteTransaction& copy) {
    ASSIGN_OR_RETURN(seen_last_seq, copy.LastSeq());
    return copy.SetMeta("marked", "copy");
  });
  if (!CanBackUp()) {
    EXPECT_THAT(bytes, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(GetParam().name)));
    EXPECT_THAT(FilesIn(copies_.path()), IsEmpty());
    return;
  }
  ASSERT_OK(bytes);
  EXPECT_EQ(*bytes, static_cast<int64_t>(std::filesystem::file_size(copy_path_)));
  // Nothing but the copy: its WAL is checkpointed into it and removed.
  EXPECT_THAT(FilesIn(copies_.path()), ElementsAre("copy.store"));
  const std::vector<std::string> ids = {"a", "d", "never"};
  const std::vector<std::string> keys = {"node_id", "marked"};
  std::vector<std::string> live;
  {
    auto txn = Read();
    live = Contents(*txn, ids, keys);
    EXPECT_THAT(txn->GetMeta("marked"), StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(txn->LastSeq(), IsOkAndHolds(seen_last_seq));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Storage> copy, OpenCopy());
  ASSERT_OK_AND_ASSIGN(auto txn, copy->BeginRead());
  std::vector<std::string> expected = live;
  expected.back() = "meta marked=copy";
  EXPECT_THAT(Contents(*txn, ids, keys), ElementsAreArray(expected));
}

TEST_P(BackupTest, ExistingPathIsRefusedAndKept) {
  if (!CanBackUp()) GTEST_SKIP() << "no backups (see CopyHoldsEveryCommittedWrite...)";
  WriteSome();
  { std::ofstream(copy_path_) << "keep me"; }
  EXPECT_THAT(storage_->Backup(copy_path_, nullptr),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(copy_path_)));
  std::ifstream in(copy_path_);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "keep me");
}

TEST_P(BackupTest, FailedEditLeavesNothingBehind) {
  if (!CanBackUp()) GTEST_SKIP() << "no backups (see CopyHoldsEveryCommittedWrite...)";
  WriteSome();
  EXPECT_THAT(storage_->Backup(copy_path_,
                               [](WriteTransaction& copy) {
                                 EXPECT_OK(copy.SetMeta("half", "done"));
                                 return absl::AbortedError("edit refused");
                               }),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("edit refused")));
  EXPECT_THAT(FilesIn(copies_.path()), IsEmpty());
  auto txn = Read();
  EXPECT_THAT(txn->GetMeta("half"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(BackupTest, MissingDirectoryIsUnavailable) {
  if (!CanBackUp()) GTEST_SKIP() << "no backups (see CopyHoldsEveryCommittedWrite...)";
  WriteSome();
  const std::string path = (copies_.path() / "no" / "such" / "copy.store").string();
  EXPECT_THAT(storage_->Backup(path, nullptr), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(FilesIn(copies_.path()), IsEmpty());
}

// Writers go on during a backup, and the copy is one snapshot: every commit
// made before Backup was called, and each later one whole or not at all.
TEST_P(BackupTest, BackupDuringWritesIsOneConsistentSnapshot) {
  if (!CanBackUp()) GTEST_SKIP() << "no backups (see CopyHoldsEveryCommittedWrite...)";
  CreateThings();
  // Each commit: a record's feed entry and the meta key "n" naming it.
  auto commit_one = [&](int n) {
    Commit([&](WriteTransaction& txn) {
      ASSERT_OK(
          txn.AppendChange(RecordChange(kThings, absl::StrCat("r", n), Rev(1, 'a'))).status());
      ASSERT_OK(txn.SetMeta("n", absl::StrCat(n)));
    });
  };
  constexpr int kBefore = 200;
  for (int n = 0; n < kBefore; ++n) commit_one(n);
  std::atomic<bool> stop{false};
  std::atomic<int> during{0};
  std::thread writer([&] {
    for (int n = kBefore; !stop.load(); ++n) {
      commit_one(n);
      during.store(n - kBefore + 1);
    }
  });
  absl::StatusOr<int64_t> bytes = storage_->Backup(copy_path_, nullptr);
  stop.store(true);
  writer.join();
  ASSERT_OK(bytes);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Storage> copy, OpenCopy());
  ASSERT_OK_AND_ASSIGN(auto txn, copy->BeginRead());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> feed, txn->ScanChanges(0, {}, 1 << 20));
  ASSERT_GE(feed.size(), static_cast<size_t>(kBefore));
  for (int n = 0; n < kBefore; ++n) EXPECT_EQ(feed[n].id(), absl::StrCat("r", n));
  // The meta key and the feed come from the same commit.
  EXPECT_THAT(txn->GetMeta("n"), IsOkAndHolds(absl::StrCat(feed.size() - 1)));
  EXPECT_EQ(feed.back().id(), absl::StrCat("r", feed.size() - 1));
  std::cerr << "commits during the backup: " << during.load()
            << ", in the copy: " << feed.size() - kBefore << "\n";
}

// ---- Backends ----

absl::StatusOr<std::unique_ptr<Storage>> OpenMemory(const TempDir&) { return NewMemoryStorage(); }

absl::StatusOr<std::unique_ptr<Storage>> OpenSqlite(const TempDir& dir) {
  SqliteOptions options;
  options.path = dir.File("recondb.sqlite3");
  return OpenSqliteStorage(options);
}

absl::StatusOr<std::unique_ptr<Storage>> OpenSqliteBackup(const std::string& path) {
  SqliteOptions options;
  options.path = path;
  return OpenSqliteStorage(options);
}

const Backend kBackends[] = {
    {"memory", /*readers_block_writer=*/true, OpenMemory, nullptr},
    {"sqlite", /*readers_block_writer=*/false, OpenSqlite, OpenSqliteBackup},
};

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Backends, StorageConformanceTest, ::testing::ValuesIn(kBackends),
                         BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, QueryTest, ::testing::ValuesIn(kBackends), BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, BackupTest, ::testing::ValuesIn(kBackends), BackendName);

}  // namespace
}  // namespace recondb::storage
