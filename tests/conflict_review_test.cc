// The review queue of conflicts, through two real recondbd processes made to
// conflict by one-shot syncs (Admin.Sync): concurrent edits, and an edit
// against a delete (a deleted conflict). ListRecords conflicted_only returns
// exactly those records, each flagged; GetChanges entries carry the flag;
// after ResolveConflict they leave the list and a follow stream sees them
// leave (entries with conflicted = false), on both nodes.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/values.h"

namespace recondb::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The ids of ListRecords conflicted_only (every page), checking each record
// says it is conflicted.
std::vector<std::string> ConflictedIds(DbClient& db) {
  v1::ListRecordsRequest request;
  request.set_table("todos");
  request.set_conflicted_only(true);
  request.set_page_size(1);  // Pages too.
  absl::StatusOr<std::vector<v1::Record>> records = db.ListAll(request);
  EXPECT_OK(records);
  std::vector<std::string> ids;
  if (!records.ok()) return ids;
  for (const v1::Record& r : *records) {
    EXPECT_TRUE(r.conflicted()) << r.ShortDebugString();
    ids.push_back(r.id());
  }
  return ids;
}

// "<id>" or "<id> conflicted" for the record entries of the feed.
std::vector<std::string> FeedFlags(DbClient& db) {
  absl::StatusOr<std::vector<v1::Change>> changes = db.GetChanges(0, {"todos"});
  EXPECT_OK(changes);
  std::vector<std::string> out;
  if (!changes.ok()) return out;
  for (const v1::Change& c : *changes) {
    if (c.kind() != v1::CHANGE_KIND_RECORD) continue;
    out.push_back(c.conflicted() ? c.id() + " conflicted" : c.id());
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<v1::Record> Resolve(DbClient& db, v1::Record record) {
  v1::ResolveConflictRequest request;
  *request.mutable_record() = std::move(record);
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::Record resolved;
  grpc::Status status = db.stub()->ResolveConflict(&context, request, &resolved);
  if (!status.ok()) return ToAbslStatus(status);
  return resolved;
}

TEST(ConflictReviewTest, ConflictedRecordsAreListedFlaggedInTheFeedAndLeaveOnceResolved) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int a, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(int b, cluster.AddNode());
  DbClient db_a(cluster.node(a).NewChannel());
  DbClient db_b(cluster.node(b).NewChannel());
  ASSERT_OK(db_a.CreateTable(TodoTable()));
  std::map<std::string, v1::Record> base;
  for (const std::string id : {"calm", "edits", "versus"}) {
    ASSERT_OK_AND_ASSIGN(base[id], db_a.Create("todos", {{"title", StringValue(id)}}, id));
  }
  ASSERT_OK(cluster.Sync(b, cluster.address(a)).status());
  ASSERT_OK(db_b.GetRecord("todos", "versus").status());

  // Apart: both edit "edits"; a edits "versus" while b deletes it.
  ASSERT_OK(db_a.PutRecord(MakeRecord("todos", "edits", base["edits"].revision(),
                                      {{"title", StringValue("edits on a")}}))
                .status());
  ASSERT_OK(db_b.PutRecord(MakeRecord("todos", "edits", base["edits"].revision(),
                                      {{"title", StringValue("edits on b")}}))
                .status());
  ASSERT_OK_AND_ASSIGN(v1::Record kept,
                       db_a.PutRecord(MakeRecord("todos", "versus", base["versus"].revision(),
                                                 {{"title", StringValue("versus on a")}})));
  ASSERT_OK_AND_ASSIGN(v1::Record tombstone, db_b.DeleteRecord("todos", "versus"));
  EXPECT_THAT(ConflictedIds(db_a), IsEmpty());

  // Together again: both directions in one sync.
  ASSERT_OK(cluster.Sync(b, cluster.address(a)).status());
  for (DbClient* db : {&db_a, &db_b}) {
    EXPECT_THAT(ConflictedIds(*db), ElementsAre("edits", "versus"));
    EXPECT_THAT(FeedFlags(*db), ElementsAre("calm", "edits conflicted", "versus conflicted"));
    ASSERT_OK_AND_ASSIGN(v1::Record versus,
                         db->GetRecord("todos", "versus", "", /*include_conflicts=*/true));
    EXPECT_EQ(versus.revision(), kept.revision());  // The live edit wins.
    EXPECT_THAT(versus.conflicts(), IsEmpty());
    EXPECT_THAT(versus.deleted_conflicts(), ElementsAre(tombstone.revision()));
    EXPECT_TRUE(versus.conflicted());
    ASSERT_OK_AND_ASSIGN(v1::Record edits, db->GetRecord("todos", "edits"));
    EXPECT_TRUE(edits.conflicted());
    ASSERT_OK_AND_ASSIGN(v1::Record calm, db->GetRecord("todos", "calm"));
    EXPECT_FALSE(calm.conflicted());
  }

  // A review queue follows a's feed from here.
  ASSERT_OK_AND_ASSIGN(const int64_t since, db_a.LastSeq());
  grpc::ClientContext follow_context;
  SetDeadline(&follow_context, absl::Seconds(60));
  v1::GetChangesRequest follow;
  follow.set_since(since);
  follow.add_tables("todos");
  follow.set_follow(true);
  auto follow_stub = cluster.node(a).NewDatabaseStub();
  std::unique_ptr<grpc::ClientReader<v1::Change>> reader =
      follow_stub->GetChanges(&follow_context, follow);

  ASSERT_OK_AND_ASSIGN(v1::Record edits_winner, db_a.GetRecord("todos", "edits"));
  ASSERT_OK(Resolve(db_a, MakeRecord("todos", "edits", edits_winner.revision(),
                                     {{"title", StringValue("edits merged")}}))
                .status());
  v1::Record choose_delete = MakeRecord("todos", "versus", kept.revision(), {});
  choose_delete.set_deleted(true);
  ASSERT_OK_AND_ASSIGN(v1::Record deleted, Resolve(db_a, choose_delete));
  EXPECT_TRUE(deleted.deleted());

  std::set<std::string> left;
  v1::Change change;
  while (left.size() < 2 && reader->Read(&change)) {
    EXPECT_FALSE(change.conflicted()) << change.ShortDebugString();
    left.insert(change.id());
  }
  EXPECT_THAT(left, ElementsAre("edits", "versus"));
  follow_context.TryCancel();
  while (reader->Read(&change)) {
  }
  reader->Finish();

  EXPECT_THAT(ConflictedIds(db_a), IsEmpty());
  EXPECT_THAT(FeedFlags(db_a), ElementsAre("calm", "edits", "versus"));
  ASSERT_OK(cluster.Sync(b, cluster.address(a)).status());
  EXPECT_THAT(ConflictedIds(db_b), IsEmpty());
  EXPECT_THAT(FeedFlags(db_b), ElementsAre("calm", "edits", "versus"));
  EXPECT_THAT(db_b.GetRecord("todos", "versus"), StatusIs(absl::StatusCode::kNotFound));
  db_a.Close();
  db_b.Close();
}

}  // namespace
}  // namespace recondb::testing
