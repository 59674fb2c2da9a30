// Conformance of every backend for what schema evolution and replication
// need from storage (storage/storage.h): stub revisions, revisions that hold
// the first k columns of their table, and AppendColumns. Runs against every
// backend like storage_conformance_test.cc.
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_storage.h"
#include "storage/sqlite_storage.h"
#include "storage/storage.h"
#include "tests/support/status_matchers.h"
#include "tests/support/tables.h"
#include "tests/support/temp_dir.h"
#include "tests/support/values.h"

namespace recondb::storage {
namespace {

using ::recondb::testing::AddColumn;
using ::recondb::testing::IntValue;
using ::recondb::testing::IsOkAndHolds;
using ::recondb::testing::NullValue;
using ::recondb::testing::StatusIs;
using ::recondb::testing::StringValue;
using ::recondb::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::string Rev(int gen, char c) { return absl::StrCat(gen, "-", std::string(32, c)); }

// notes(title string, body string); V2 appends rank (int, default 7,
// indexed) and tag (string).
v1::Table NotesV1() {
  v1::Table table;
  table.set_name("notes");
  AddColumn(table, "title", v1::COLUMN_TYPE_STRING);
  AddColumn(table, "body", v1::COLUMN_TYPE_STRING);
  return table;
}

v1::Table NotesV2() {
  v1::Table table = NotesV1();
  v1::Column* rank = AddColumn(table, "rank", v1::COLUMN_TYPE_INT);
  *rank->mutable_default_value() = IntValue(7);
  rank->set_indexed(true);
  AddColumn(table, "tag", v1::COLUMN_TYPE_STRING);
  return table;
}

StoredRevision Live(const std::string& id, const std::string& revision, const std::string& parent,
                    int64_t gen, Attributes attributes) {
  StoredRevision r;
  r.id = id;
  r.revision = revision;
  r.parent = parent;
  r.generation = gen;
  r.attributes = std::move(attributes);
  return r;
}

StoredRevision Stub(const std::string& id, const std::string& revision, const std::string& parent,
                    int64_t gen, bool deleted = false) {
  StoredRevision r = Live(id, revision, parent, gen, {});
  r.stub = true;
  r.deleted = deleted;
  return r;
}

v1::Record ViewRecord(const std::string& id, const std::string& revision,
                      const Attributes& attributes) {
  v1::Record record;
  record.set_table("notes");
  record.set_id(id);
  record.set_revision(revision);
  for (const auto& [name, value] : attributes) (*record.mutable_attributes())[name] = value;
  return record;
}

// "name=value" per attribute, values as their debug text.
std::vector<std::string> Describe(const Attributes& attributes) {
  std::vector<std::string> out;
  for (const auto& [name, value] : attributes) {
    out.push_back(absl::StrCat(name, "=", value.ShortDebugString()));
  }
  return out;
}

template <typename Map>
std::vector<std::string> DescribeMap(const Map& attributes) {
  return Describe(Attributes(attributes.begin(), attributes.end()));
}

// "<revision>[ stub][ deleted][ leaf]" per revision.
std::vector<std::string> Shapes(const std::vector<StoredRevision>& revisions) {
  std::vector<std::string> out;
  for (const StoredRevision& r : revisions) {
    out.push_back(absl::StrCat(r.revision, r.stub ? " stub" : "", r.deleted ? " deleted" : "",
                               r.leaf ? " leaf" : ""));
  }
  return out;
}

struct Backend {
  std::string name;
  std::function<absl::StatusOr<std::unique_ptr<Storage>>(const TempDir&)> open;
};

std::ostream& operator<<(std::ostream& os, const Backend& backend) { return os << backend.name; }

class SchemaConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(storage_, GetParam().open(dir_));
    Commit([&](WriteTransaction& txn) { ASSERT_OK(txn.CreateTable(NotesV1())); });
  }

  void Commit(const std::function<void(WriteTransaction&)>& body) {
    auto txn = storage_->BeginWrite();
    ASSERT_OK(txn.status());
    body(**txn);
    if (!::testing::Test::HasFatalFailure()) {
      EXPECT_OK((*txn)->Commit());
    }
  }

  std::unique_ptr<ReadTransaction> Read() {
    auto txn = storage_->BeginRead();
    EXPECT_OK(txn.status());
    return txn.ok() ? *std::move(txn) : nullptr;
  }

  TempDir dir_;
  std::unique_ptr<Storage> storage_;
};

// ---- Stubs ----

TEST_P(SchemaConformanceTest, StubsRoundTripWithoutAttributesAndAreNotLeaves) {
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.InsertRevision(NotesV1(), Stub("n1", Rev(1, 'a'), "", 1)));
    ASSERT_OK(txn.InsertRevision(NotesV1(), Stub("n1", Rev(2, 'b'), Rev(1, 'a'), 2,
                                                 /*deleted=*/true)));
    ASSERT_OK(
        txn.InsertRevision(NotesV1(), Live("n1", Rev(3, 'c'), Rev(2, 'b'), 3,
                                           {{"title", StringValue("t")}, {"body", NullValue()}})));
  });
  auto txn = Read();
  ASSERT_OK_AND_ASSIGN(StoredRevision stub, txn->GetRevision(NotesV1(), "n1", Rev(1, 'a')));
  EXPECT_TRUE(stub.stub);
  EXPECT_FALSE(stub.leaf);
  EXPECT_FALSE(stub.deleted);
  EXPECT_THAT(stub.attributes, IsEmpty());
  ASSERT_OK_AND_ASSIGN(StoredRevision deleted_stub, txn->GetRevision(NotesV1(), "n1", Rev(2, 'b')));
  EXPECT_TRUE(deleted_stub.stub);
  EXPECT_TRUE(deleted_stub.deleted);
  EXPECT_EQ(deleted_stub.parent, Rev(1, 'a'));
  ASSERT_OK_AND_ASSIGN(auto history, txn->GetHistory(NotesV1(), "n1"));
  EXPECT_THAT(Shapes(history),
              UnorderedElementsAre(Rev(1, 'a') + " stub", Rev(2, 'b') + " stub deleted",
                                   Rev(3, 'c') + " leaf"));
  ASSERT_OK_AND_ASSIGN(auto leaves, txn->GetLeaves(NotesV1(), "n1"));
  EXPECT_THAT(Shapes(leaves), ElementsAre(Rev(3, 'c') + " leaf"));
  EXPECT_THAT(Describe(leaves[0].attributes),
              ElementsAre("body=null: NULL_VALUE", "title=string: \"t\""));
}

TEST_P(SchemaConformanceTest, StubOrTombstoneWithAttributesIsInvalidAndChangesNothing) {
  Commit([&](WriteTransaction& txn) {
    StoredRevision stub = Stub("n1", Rev(1, 'a'), "", 1);
    stub.attributes["title"] = StringValue("x");
    EXPECT_THAT(txn.InsertRevision(NotesV1(), stub),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stub")));
    StoredRevision tombstone = Live("n1", Rev(1, 'b'), "", 1, {{"title", StringValue("x")}});
    tombstone.deleted = true;
    EXPECT_THAT(txn.InsertRevision(NotesV1(), tombstone),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tombstone")));
  });
  EXPECT_THAT(Read()->GetHistory(NotesV1(), "n1"), IsOkAndHolds(IsEmpty()));
}

TEST_P(SchemaConformanceTest, FillStubGivesTheStubItsContentAndKeepsItsPlace) {
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.InsertRevision(NotesV1(), Stub("n1", Rev(1, 'a'), "", 1)));
    ASSERT_OK(
        txn.InsertRevision(NotesV1(), Live("n1", Rev(2, 'b'), Rev(1, 'a'), 2,
                                           {{"title", StringValue("2")}, {"body", NullValue()}})));
  });
  // Rolled back: the stub stays a stub.
  {
    ASSERT_OK_AND_ASSIGN(auto txn, storage_->BeginWrite());
    ASSERT_OK(
        txn->FillStub(NotesV1(), Live("n1", Rev(1, 'a'), "", 1, {{"title", StringValue("1")}})));
  }
  EXPECT_THAT(Read()->GetRevision(NotesV1(), "n1", Rev(1, 'a')),
              IsOkAndHolds(::testing::Field(&StoredRevision::stub, true)));
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(
        txn.FillStub(NotesV1(), Live("n1", Rev(1, 'a'), "", 1, {{"title", StringValue("1")}})));
    EXPECT_THAT(txn.FillStub(NotesV1(), Live("n1", Rev(1, 'a'), "", 1, {})),
                StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(txn.FillStub(NotesV1(), Live("n1", Rev(1, 'z'), "", 1, {})),
                StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(txn.FillStub(NotesV1(), Live("n9", Rev(1, 'a'), "", 1, {})),
                StatusIs(absl::StatusCode::kNotFound));
  });
  auto txn = Read();
  ASSERT_OK_AND_ASSIGN(StoredRevision filled, txn->GetRevision(NotesV1(), "n1", Rev(1, 'a')));
  EXPECT_FALSE(filled.stub);
  EXPECT_FALSE(filled.leaf);
  EXPECT_EQ(filled.generation, 1);
  // It holds exactly the one column it was given.
  EXPECT_THAT(Describe(filled.attributes), ElementsAre("title=string: \"1\""));
  ASSERT_OK_AND_ASSIGN(auto leaves, txn->GetLeaves(NotesV1(), "n1"));
  EXPECT_THAT(Shapes(leaves), ElementsAre(Rev(2, 'b') + " leaf"));
}

// ---- Revisions hold the first k columns ----

TEST_P(SchemaConformanceTest, RevisionsReadBackExactlyTheColumnsTheyHold) {
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.InsertRevision(NotesV1(), Live("n0", Rev(1, 'a'), "", 1, {})));
    ASSERT_OK(
        txn.InsertRevision(NotesV1(), Live("n1", Rev(1, 'a'), "", 1, {{"title", NullValue()}})));
    ASSERT_OK(txn.InsertRevision(
        NotesV1(),
        Live("n2", Rev(1, 'a'), "", 1, {{"title", StringValue("t")}, {"body", NullValue()}})));
  });
  auto txn = Read();
  ASSERT_OK_AND_ASSIGN(StoredRevision none, txn->GetRevision(NotesV1(), "n0", Rev(1, 'a')));
  EXPECT_THAT(none.attributes, IsEmpty());
  EXPECT_FALSE(none.deleted);
  // A null in a held column is not the same as a column not held.
  ASSERT_OK_AND_ASSIGN(StoredRevision one, txn->GetRevision(NotesV1(), "n1", Rev(1, 'a')));
  EXPECT_THAT(Describe(one.attributes), ElementsAre("title=null: NULL_VALUE"));
  ASSERT_OK_AND_ASSIGN(auto leaves, txn->GetLeaves(NotesV1(), "n2"));
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_THAT(Describe(leaves[0].attributes),
              ElementsAre("body=null: NULL_VALUE", "title=string: \"t\""));
}

TEST_P(SchemaConformanceTest, AttributesThatAreNotAPrefixOfTheColumnsAreInvalid) {
  Commit([&](WriteTransaction& txn) {
    EXPECT_THAT(
        txn.InsertRevision(NotesV1(), Live("n1", Rev(1, 'a'), "", 1, {{"body", StringValue("b")}})),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("title")));
    EXPECT_THAT(txn.InsertRevision(NotesV1(),
                                   Live("n1", Rev(1, 'a'), "", 1,
                                        {{"title", StringValue("t")}, {"nope", StringValue("b")}})),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("body")));
    EXPECT_THAT(
        txn.InsertRevision(
            NotesV1(),
            Live("n1", Rev(1, 'a'), "", 1,
                 {{"title", StringValue("t")}, {"body", StringValue("b")}, {"rank", IntValue(1)}})),
        StatusIs(absl::StatusCode::kInvalidArgument));
  });
  EXPECT_THAT(Read()->GetHistory(NotesV1(), "n1"), IsOkAndHolds(IsEmpty()));
}

// ---- AppendColumns ----

TEST_P(SchemaConformanceTest, AppendColumnsExtendsTheTableAndKeepsOldRevisions) {
  const Attributes old_attributes = {{"title", StringValue("old")}, {"body", NullValue()}};
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.InsertRevision(NotesV1(), Live("n1", Rev(1, 'a'), "", 1, old_attributes)));
    ASSERT_OK(txn.UpsertViewRow(NotesV1(), ViewRecord("n1", Rev(1, 'a'), old_attributes)));
  });
  Commit([&](WriteTransaction& txn) { ASSERT_OK(txn.AppendColumns(NotesV2())); });
  const Attributes new_attributes = {{"title", StringValue("new")},
                                     {"body", StringValue("b")},
                                     {"rank", IntValue(3)},
                                     {"tag", NullValue()}};
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.InsertRevision(NotesV2(), Live("n2", Rev(1, 'b'), "", 1, new_attributes)));
    ASSERT_OK(txn.UpsertViewRow(NotesV2(), ViewRecord("n2", Rev(1, 'b'), new_attributes)));
    // A revision may still hold only the old columns (written elsewhere
    // before the change).
    ASSERT_OK(
        txn.InsertRevision(NotesV2(), Live("n1", Rev(2, 'c'), Rev(1, 'a'), 2, old_attributes)));
  });
  auto txn = Read();
  ASSERT_OK_AND_ASSIGN(v1::Table stored, txn->GetTable("notes"));
  EXPECT_EQ(stored.SerializeAsString(), NotesV2().SerializeAsString());
  // The old revisions keep exactly their two columns.
  for (const std::string& revision : {Rev(1, 'a'), Rev(2, 'c')}) {
    ASSERT_OK_AND_ASSIGN(StoredRevision old, txn->GetRevision(NotesV2(), "n1", revision));
    EXPECT_THAT(Describe(old.attributes),
                ElementsAre("body=null: NULL_VALUE", "title=string: \"old\""));
  }
  ASSERT_OK_AND_ASSIGN(StoredRevision full, txn->GetRevision(NotesV2(), "n2", Rev(1, 'b')));
  EXPECT_EQ(Describe(full.attributes), Describe(new_attributes));
  // The existing view row took the defaults: rank 7, tag null.
  ASSERT_OK_AND_ASSIGN(v1::Record row, txn->GetViewRow(NotesV2(), "n1"));
  EXPECT_THAT(DescribeMap(row.attributes()),
              ElementsAre("body=null: NULL_VALUE", "rank=int: 7", "tag=null: NULL_VALUE",
                          "title=string: \"old\""));
  // The new columns can be queried and ordered by.
  ViewQuery query;
  query.conditions = {{"rank", v1::OPERATOR_GE, IntValue(3)}};
  query.order_by = "rank";
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Record> rows, txn->QueryView(NotesV2(), query));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id(), "n2");
  EXPECT_EQ(rows[1].id(), "n1");
}

TEST_P(SchemaConformanceTest, AppendColumnsThatDoNotExtendTheTableAreRefused) {
  Commit([&](WriteTransaction& txn) {
    EXPECT_THAT(txn.AppendColumns(NotesV1()), StatusIs(absl::StatusCode::kInvalidArgument));
    v1::Table renamed = NotesV2();
    renamed.mutable_columns(1)->set_name("text");
    EXPECT_THAT(txn.AppendColumns(renamed),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("body")));
    v1::Table other = NotesV2();
    other.set_name("other");
    EXPECT_THAT(txn.AppendColumns(other), StatusIs(absl::StatusCode::kNotFound));
    // The transaction is still usable after the refusals.
    ASSERT_OK(txn.AppendColumns(NotesV2()));
  });
  EXPECT_THAT(Read()->GetTable("notes"),
              IsOkAndHolds(::testing::Property(&v1::Table::columns_size, 4)));
}

TEST_P(SchemaConformanceTest, RolledBackAppendColumnsLeavesTheTableAsItWas) {
  const Attributes attributes = {{"title", StringValue("old")}, {"body", NullValue()}};
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.UpsertViewRow(NotesV1(), ViewRecord("n1", Rev(1, 'a'), attributes)));
  });
  {
    ASSERT_OK_AND_ASSIGN(auto txn, storage_->BeginWrite());
    ASSERT_OK(txn->AppendColumns(NotesV2()));
  }
  auto txn = Read();
  ASSERT_OK_AND_ASSIGN(v1::Table stored, txn->GetTable("notes"));
  EXPECT_EQ(stored.SerializeAsString(), NotesV1().SerializeAsString());
  ASSERT_OK_AND_ASSIGN(v1::Record row, txn->GetViewRow(NotesV1(), "n1"));
  EXPECT_EQ(DescribeMap(row.attributes()), Describe(attributes));
}

// ---- The audit trail ----

const RevisionAudit kAlice{"alice", "0b4e7c52-8f3d-4a8e-9c61-2f1d3e4a5b6c", 1767225600123456};
const RevisionAudit kBob{"bob", "7d0c1e2f-3a4b-4c5d-8e6f-708192a3b4c5", 1767225600000001};

// "<revision> <author>@<node>@<time>" per revision, "-" when unknown.
std::vector<std::string> Audits(const std::vector<StoredRevision>& revisions) {
  std::vector<std::string> out;
  for (const StoredRevision& r : revisions) {
    out.push_back(absl::StrCat(r.revision, " ",
                               r.audit.known() ? absl::StrCat(r.audit.author, "@",
                                                              r.audit.origin_node, "@",
                                                              r.audit.create_time_micros)
                                               : "-"));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string AuditOf(const StoredRevision& r) { return Audits({r}).front(); }

// Every kind of revision keeps the audit it was inserted with, exactly, on
// every read; a revision inserted without one reads back unknown.
TEST_P(SchemaConformanceTest, RevisionsKeepTheAuditTheyWereInsertedWith) {
  StoredRevision first = Live("n1", Rev(1, 'a'), "", 1, {{"title", StringValue("x")}});
  first.audit = kAlice;
  StoredRevision stub = Stub("n2", Rev(1, 'b'), "", 1);
  stub.audit = kBob;
  StoredRevision child = Live("n2", Rev(2, 'c'), Rev(1, 'b'), 2, {});
  child.deleted = true;
  child.audit = kAlice;
  StoredRevision unknown = Live("n1", Rev(2, 'd'), Rev(1, 'a'), 2, {});
  Commit([&](WriteTransaction& txn) {
    for (const StoredRevision* r : {&first, &stub, &child, &unknown}) {
      ASSERT_OK(txn.InsertRevision(NotesV1(), *r));
    }
  });
  auto txn = Read();
  ASSERT_OK_AND_ASSIGN(auto n1, txn->GetHistory(NotesV1(), "n1"));
  EXPECT_THAT(Audits(n1), ElementsAre(AuditOf(first), Rev(2, 'd') + " -"));
  ASSERT_OK_AND_ASSIGN(auto n2, txn->GetHistory(NotesV1(), "n2"));
  EXPECT_THAT(Audits(n2), ElementsAre(AuditOf(stub), AuditOf(child)));
  ASSERT_OK_AND_ASSIGN(auto leaves, txn->GetLeaves(NotesV1(), "n2"));
  EXPECT_THAT(Audits(leaves), ElementsAre(AuditOf(child)));
  ASSERT_OK_AND_ASSIGN(StoredRevision got, txn->GetRevision(NotesV1(), "n1", Rev(1, 'a')));
  EXPECT_EQ(got.audit, kAlice);
}

// SetRevisionAudit replaces the audit of one revision, or clears it, and
// nothing else; a missing revision is NOT_FOUND; a rolled-back transaction
// keeps the old audit. FillStub keeps the stub's audit.
TEST_P(SchemaConformanceTest, SetRevisionAuditReplacesOnlyTheAudit) {
  StoredRevision first = Live("n1", Rev(1, 'a'), "", 1, {{"title", StringValue("x")}});
  first.audit = kBob;
  StoredRevision stub = Stub("n1", Rev(2, 'b'), Rev(1, 'a'), 2);
  stub.audit = kBob;
  StoredRevision child = Live("n1", Rev(3, 'c'), Rev(2, 'b'), 3, {{"title", StringValue("z")}});
  Commit([&](WriteTransaction& txn) {
    for (const StoredRevision* r : {&first, &stub, &child}) {
      ASSERT_OK(txn.InsertRevision(NotesV1(), *r));
    }
  });
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.SetRevisionAudit(NotesV1(), "n1", Rev(1, 'a'), kAlice));
    ASSERT_OK(txn.SetRevisionAudit(NotesV1(), "n1", Rev(3, 'c'), kAlice));
    StoredRevision body = Live("n1", Rev(2, 'b'), Rev(1, 'a'), 2, {{"title", StringValue("y")}});
    body.audit = kAlice;  // Ignored: FillStub keeps the stored audit.
    ASSERT_OK(txn.FillStub(NotesV1(), body));
    EXPECT_THAT(txn.SetRevisionAudit(NotesV1(), "n1", Rev(4, 'e'), kAlice),
                StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(txn.SetRevisionAudit(NotesV1(), "nobody", Rev(1, 'a'), kAlice),
                StatusIs(absl::StatusCode::kNotFound));
  });
  {
    auto txn = storage_->BeginWrite();
    ASSERT_OK(txn.status());
    ASSERT_OK((*txn)->SetRevisionAudit(NotesV1(), "n1", Rev(1, 'a'), RevisionAudit{}));
    // Destroyed without Commit: rolled back.
  }
  {
    auto txn = Read();  // Ended before the next write (the memory backend's rule).
    ASSERT_OK_AND_ASSIGN(auto history, txn->GetHistory(NotesV1(), "n1"));
    StoredRevision alice_first = first, bob_stub = stub, alice_child = child;
    alice_first.audit = kAlice;
    alice_child.audit = kAlice;
    EXPECT_THAT(Audits(history),
                ElementsAre(AuditOf(alice_first), AuditOf(bob_stub), AuditOf(alice_child)));
    EXPECT_THAT(Shapes(history), ::testing::UnorderedElementsAre(Rev(1, 'a'), Rev(2, 'b'),
                                                                Rev(3, 'c') + " leaf"));
    ASSERT_OK_AND_ASSIGN(StoredRevision filled, txn->GetRevision(NotesV1(), "n1", Rev(2, 'b')));
    EXPECT_EQ(DescribeMap(filled.attributes), Describe({{"title", StringValue("y")}}));
  }
  Commit([&](WriteTransaction& txn) {
    ASSERT_OK(txn.SetRevisionAudit(NotesV1(), "n1", Rev(1, 'a'), RevisionAudit{}));
  });
  ASSERT_OK_AND_ASSIGN(StoredRevision cleared, Read()->GetRevision(NotesV1(), "n1", Rev(1, 'a')));
  EXPECT_FALSE(cleared.audit.known());
}

absl::StatusOr<std::unique_ptr<Storage>> OpenMemory(const TempDir&) { return NewMemoryStorage(); }

absl::StatusOr<std::unique_ptr<Storage>> OpenSqlite(const TempDir& dir) {
  SqliteOptions options;
  options.path = dir.File("recondb.sqlite3");
  return OpenSqliteStorage(options);
}

const Backend kBackends[] = {{"memory", OpenMemory}, {"sqlite", OpenSqlite}};

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Backends, SchemaConformanceTest, ::testing::ValuesIn(kBackends),
                         BackendName);

}  // namespace
}  // namespace recondb::storage
