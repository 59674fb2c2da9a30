// Optimistic concurrency through a real recondbd: many clients writing at
// once, each on its own connection. No acknowledged write is lost, every
// revision is extended at most once, and stale writes are refused ABORTED.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/daemon_process.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::testing {
namespace {

using ::testing::SizeIs;

constexpr int kThreads = 8;

class ConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DaemonOptions options;
    options.data_dir = data_.path();
    ASSERT_OK_AND_ASSIGN(daemon_, DaemonProcess::Start(options));
    DbClient db(daemon_->NewChannel());
    ASSERT_OK(db.CreateTable(TodoTable()));
  }

  void TearDown() override {
    if (daemon_ == nullptr) return;
    absl::StatusOr<int> code = daemon_->Stop();
    ASSERT_OK(code);
    EXPECT_EQ(*code, 0);
  }

  TempDir data_;
  std::unique_ptr<DaemonProcess> daemon_;
};

// Read-modify-write loops on one record from kThreads clients: each success
// extends the revision it read, so the final generation is 1 + the number of
// acknowledged updates, and the history is one chain without forks.
TEST_F(ConcurrencyTest, ConcurrentUpdatesOfOneRecordLoseNothing) {
  constexpr int kUpdatesPerThread = 10;
  {
    DbClient db(daemon_->NewChannel());
    ASSERT_OK(db.Create("todos", {{"title", StringValue("counter")}}, "counter"));
  }
  std::atomic<int> acknowledged{0};
  std::atomic<int> aborted{0};
  std::atomic<int> unexpected{0};
  std::mutex mu;
  std::set<std::string> parents;  // each revision extended at most once
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      DbClient db(daemon_->NewChannel());
      int done = 0;
      for (int attempt = 0; done < kUpdatesPerThread && attempt < 10000; ++attempt) {
        absl::StatusOr<v1::Record> cur = db.GetRecord("todos", "counter");
        if (!cur.ok()) {
          ++unexpected;
          ADD_FAILURE() << cur.status();
          return;
        }
        absl::StatusOr<v1::Record> next = db.PutRecord(
            MakeRecord("todos", "counter", cur->revision(),
                       {{"description", StringValue(absl::StrCat("thread ", t, " update ", done))}}),
            std::vector<std::string>{"description"});
        if (next.ok()) {
          ++done;
          ++acknowledged;
          std::lock_guard<std::mutex> l(mu);
          EXPECT_TRUE(parents.insert(cur->revision()).second)
              << "revision " << cur->revision() << " was extended twice";
        } else if (absl::IsAborted(next.status())) {
          ++aborted;
        } else {
          ++unexpected;
          ADD_FAILURE() << next.status();
          return;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(acknowledged.load(), kThreads * kUpdatesPerThread);

  DbClient db(daemon_->NewChannel());
  ASSERT_OK_AND_ASSIGN(v1::Record last, db.GetRecord("todos", "counter"));
  EXPECT_EQ(GenerationOf(last.revision()), 1 + acknowledged.load());
  EXPECT_EQ(last.attributes().at("title").string(), "counter");
  ASSERT_OK_AND_ASSIGN(v1::GetRecordHistoryResponse h, db.GetRecordHistory("todos", "counter"));
  EXPECT_THAT(h.entries(), SizeIs(1 + acknowledged.load()));
  int leaves = 0;
  for (const v1::HistoryEntry& e : h.entries()) leaves += e.leaf() ? 1 : 0;
  EXPECT_EQ(leaves, 1);
  ASSERT_OK_AND_ASSIGN(v1::Record with_conflicts,
                       db.GetRecord("todos", "counter", "", /*include_conflicts=*/true));
  EXPECT_THAT(with_conflicts.conflicts(), SizeIs(0));
}

// Creates from kThreads clients: every acknowledged create is listed once,
// ids are unique, and the change feed has one entry per record.
TEST_F(ConcurrencyTest, ConcurrentCreatesAllLand) {
  constexpr int kCreatesPerThread = 25;
  std::mutex mu;
  std::map<std::string, std::string> created;  // id -> revision
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      DbClient db(daemon_->NewChannel());
      for (int i = 0; i < kCreatesPerThread; ++i) {
        absl::StatusOr<v1::Record> r =
            db.Create("todos", {{"title", StringValue(absl::StrCat("t", t, "-", i))}});
        ASSERT_OK(r);
        std::lock_guard<std::mutex> l(mu);
        EXPECT_TRUE(created.emplace(r->id(), r->revision()).second) << "duplicate id " << r->id();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_THAT(created, SizeIs(kThreads * kCreatesPerThread));

  DbClient db(daemon_->NewChannel());
  v1::ListRecordsRequest req;
  req.set_table("todos");
  req.set_page_size(37);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Record> all, db.ListAll(req));
  ASSERT_THAT(all, SizeIs(created.size()));
  for (const v1::Record& r : all) {
    auto it = created.find(r.id());
    ASSERT_NE(it, created.end()) << r.id();
    EXPECT_EQ(r.revision(), it->second);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> changes, db.GetChanges(0, {"todos"}));
  EXPECT_THAT(changes, SizeIs(1 + created.size()));  // + the table
  for (size_t i = 1; i < changes.size(); ++i) EXPECT_GT(changes[i].seq(), changes[i - 1].seq());
}

}  // namespace
}  // namespace recondb::testing
