// FaultyStorage: forwards every call, fails exactly the calls it is told to,
// and a failed call or commit leaves the wrapped store as it was.
#include "storage/testing/faulty_storage.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_storage.h"
#include "tests/support/status_matchers.h"
#include "tests/support/values.h"

namespace recondb::storage {
namespace {

using ::recondb::testing::IsOk;
using ::recondb::testing::IsOkAndHolds;
using ::recondb::testing::StatusIs;
using ::recondb::testing::StringValue;
using ::recondb::testing::TitleTable;
using ::testing::IsEmpty;
using ::testing::SizeIs;

StoredRevision FirstRevision(const std::string& id) {
  StoredRevision rev;
  rev.id = id;
  rev.revision = "1-" + std::string(32, 'a');
  rev.generation = 1;
  rev.attributes = {{"title", StringValue(id)}};
  return rev;
}

class FaultyStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto txn = storage_.BeginWrite();
    ASSERT_THAT(txn, IsOk());
    ASSERT_THAT((*txn)->CreateTable(table_), IsOk());
    ASSERT_THAT((*txn)->Commit(), IsOk());
    storage_.ResetCounts();
  }

  // Inserts record `id` in one transaction; the first failure, or OK.
  absl::Status InsertRecord(const std::string& id) {
    auto txn = storage_.BeginWrite();
    if (!txn.ok()) return txn.status();
    if (absl::Status s = (*txn)->InsertRevision(table_, FirstRevision(id)); !s.ok()) return s;
    return (*txn)->Commit();
  }

  // The ids stored, read past the wrapper.
  std::vector<std::string> StoredIds() {
    std::vector<std::string> ids;
    auto txn = base_->BeginRead();
    EXPECT_THAT(txn, IsOk());
    for (std::string id : {"a", "b", "c", "d", "e"}) {
      auto leaves = (*txn)->GetLeaves(table_, id);
      EXPECT_THAT(leaves, IsOk());
      if (leaves.ok() && !leaves->empty()) ids.push_back(id);
    }
    return ids;
  }

  std::unique_ptr<Storage> base_ = NewMemoryStorage();
  FaultyStorage storage_{base_.get()};
  v1::Table table_ = ::recondb::testing::TitleTable("things");
};

TEST_F(FaultyStorageTest, ForwardsEveryCallWithoutFaults) {
  ASSERT_THAT(InsertRecord("a"), IsOk());
  auto txn = storage_.BeginRead();
  ASSERT_THAT(txn, IsOk());
  EXPECT_THAT((*txn)->GetLeaves(table_, "a"), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT((*txn)->ListTables(), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT((*txn)->GetMeta("nope"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(storage_.Name(), "memory");
  EXPECT_EQ(storage_.Identity(), base_->Identity());
  EXPECT_EQ(storage_.InjectedCount(), 0);
}

TEST_F(FaultyStorageTest, FailedCommitKeepsNothingAndIsTransient) {
  storage_.FailNext(StorageOp::kCommit);
  EXPECT_THAT(InsertRecord("a"),
              StatusIs(absl::StatusCode::kUnavailable, "injected fault: Commit"));
  EXPECT_THAT(StoredIds(), IsEmpty());
  EXPECT_THAT(InsertRecord("a"), IsOk());
  EXPECT_EQ(StoredIds(), std::vector<std::string>{"a"});
  EXPECT_EQ(storage_.CallCount(StorageOp::kCommit), 2);
  EXPECT_EQ(storage_.InjectedCount(), 1);
}

TEST_F(FaultyStorageTest, FailedWriteCallIsRolledBackWithItsTransaction) {
  auto txn = storage_.BeginWrite();
  ASSERT_THAT(txn, IsOk());
  ASSERT_THAT((*txn)->InsertRevision(table_, FirstRevision("a")), IsOk());
  storage_.FailNext(StorageOp::kInsertRevision);
  EXPECT_THAT((*txn)->InsertRevision(table_, FirstRevision("b")),
              StatusIs(absl::StatusCode::kUnavailable));
  txn->reset();  // Destroyed without Commit.
  EXPECT_THAT(StoredIds(), IsEmpty());
}

TEST_F(FaultyStorageTest, FailAfterLetsNCallsThroughThenFailsOnce) {
  storage_.FailAfter(StorageOp::kInsertRevision, 2);
  EXPECT_THAT(InsertRecord("a"), IsOk());
  EXPECT_THAT(InsertRecord("b"), IsOk());
  EXPECT_THAT(InsertRecord("c"),
              StatusIs(absl::StatusCode::kUnavailable, "injected fault: InsertRevision"));
  EXPECT_THAT(InsertRecord("d"), IsOk());
  EXPECT_EQ(StoredIds(), (std::vector<std::string>{"a", "b", "d"}));
}

TEST_F(FaultyStorageTest, FailFromFailsEveryLaterCallUntilHeal) {
  storage_.FailFrom(StorageOp::kCommit, 1);
  EXPECT_THAT(InsertRecord("a"), IsOk());
  EXPECT_THAT(InsertRecord("b"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(InsertRecord("c"), StatusIs(absl::StatusCode::kUnavailable));
  storage_.Heal();
  EXPECT_THAT(InsertRecord("d"), IsOk());
  EXPECT_EQ(StoredIds(), (std::vector<std::string>{"a", "d"}));
  EXPECT_EQ(storage_.InjectedCount(), 2);
}

TEST_F(FaultyStorageTest, PermanentFaultFailsOnlyItsOperation) {
  storage_.FailFrom(StorageOp::kGetLeaves, 0);
  auto txn = storage_.BeginRead();
  ASSERT_THAT(txn, IsOk());
  EXPECT_THAT((*txn)->GetLeaves(table_, "a"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT((*txn)->GetHistory(table_, "a"), IsOk());
  EXPECT_THAT((*txn)->GetLeaves(table_, "a"), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(FaultyStorageTest, AnyCountsEveryOperation) {
  // BeginWrite, InsertRevision, Commit: the third call of anything fails.
  storage_.FailAfter(StorageOp::kAny, 2);
  EXPECT_THAT(InsertRecord("a"),
              StatusIs(absl::StatusCode::kUnavailable, "injected fault: Commit"));
  EXPECT_EQ(storage_.CallCount(StorageOp::kAny), 3);
  EXPECT_EQ(storage_.CallCount(StorageOp::kBeginWrite), 1);
  EXPECT_EQ(storage_.CallCount(StorageOp::kBeginRead), 0);
  storage_.ResetCounts();
  EXPECT_EQ(storage_.CallCount(StorageOp::kAny), 0);
  EXPECT_EQ(storage_.InjectedCount(), 0);
}

TEST_F(FaultyStorageTest, FailsBeginWriteAndBeginRead) {
  storage_.FailNext(StorageOp::kBeginWrite);
  storage_.FailNext(StorageOp::kBeginRead);
  EXPECT_THAT(storage_.BeginWrite(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(storage_.BeginRead(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(storage_.BeginWrite(), IsOk());
}

TEST_F(FaultyStorageTest, GivenStatusIsReturned) {
  storage_.FailNext(StorageOp::kCommit, absl::DataLossError("torn page"));
  EXPECT_THAT(InsertRecord("a"), StatusIs(absl::StatusCode::kDataLoss, "torn page"));
}

TEST_F(FaultyStorageTest, BackupCanFail) {
  storage_.FailNext(StorageOp::kBackup);
  EXPECT_THAT(storage_.Backup("/nonexistent/x", nullptr),
              StatusIs(absl::StatusCode::kUnavailable, "injected fault: Backup"));
  // Forwarded: the memory backend refuses backups.
  EXPECT_THAT(storage_.Backup("/nonexistent/x", nullptr),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// The pattern of failures over 200 calls of one fault seeded with `seed`.
std::vector<bool> RandomPattern(uint32_t seed, double probability) {
  FaultyStorage storage(NewMemoryStorage());
  storage.FailRandomly(StorageOp::kBeginRead, probability, seed);
  std::vector<bool> failed;
  for (int i = 0; i < 200; ++i) failed.push_back(!storage.BeginRead().ok());
  return failed;
}

TEST(FaultyStorageRandomTest, SameSeedFailsTheSameCalls) {
  const std::vector<bool> first = RandomPattern(7, 0.3);
  EXPECT_EQ(RandomPattern(7, 0.3), first);
  EXPECT_NE(RandomPattern(8, 0.3), first);
  const int failures = std::count(first.begin(), first.end(), true);
  EXPECT_GT(failures, 20);
  EXPECT_LT(failures, 100);
  EXPECT_EQ(RandomPattern(7, 0.0), std::vector<bool>(200, false));
  EXPECT_EQ(RandomPattern(7, 1.0), std::vector<bool>(200, true));
}

TEST(FaultyStorageRandomTest, PermanentRandomFaultStaysUntilHeal) {
  FaultyStorage storage(NewMemoryStorage());
  storage.FailRandomly(StorageOp::kBeginRead, 0.5, 1, FaultPersistence::kPermanent);
  int i = 0;
  while (storage.BeginRead().ok() && i < 100) ++i;
  ASSERT_LT(i, 100);
  for (int j = 0; j < 20; ++j) EXPECT_FALSE(storage.BeginRead().ok());
  storage.Heal();
  EXPECT_THAT(storage.BeginRead(), IsOk());
}

TEST(FaultyStorageThreadsTest, CountsCallsFromManyThreads) {
  FaultyStorage storage(NewMemoryStorage());
  storage.FailRandomly(StorageOp::kAny, 0.25, 3);
  constexpr int kThreads = 4, kCalls = 500;
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCalls; ++i) {
        auto txn = storage.BeginRead();
        if (!txn.ok()) {
          ++failed;
        } else if (!(*txn)->LastSeq().ok()) {
          ++failed;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(storage.InjectedCount(), failed.load());
  EXPECT_EQ(storage.CallCount(StorageOp::kBeginRead), kThreads * kCalls);
  EXPECT_EQ(storage.CallCount(StorageOp::kAny),
            kThreads * kCalls + storage.CallCount(StorageOp::kLastSeq));
}

TEST(StorageOpNameTest, NamesEveryOperation) {
  EXPECT_EQ(StorageOpName(StorageOp::kAny), "Any");
  EXPECT_EQ(StorageOpName(StorageOp::kGetMeta), "GetMeta");
  EXPECT_EQ(StorageOpName(StorageOp::kCreateTable), "CreateTable");
  EXPECT_EQ(StorageOpName(StorageOp::kCommit), "Commit");
}

}  // namespace
}  // namespace recondb::storage
