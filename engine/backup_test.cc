// Engine::Backup: the copy is marked as a copy (store anchor "copy") and
// records which node, up to which seq and when; the live store is not
// touched; the engine's backup keys are its own; BackupInfoFromMeta reads
// them back.
#include "engine/backup.h"

#include <map>
#include <memory>
#include <string>

#include "common/clock.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_storage.h"
#include "storage/sqlite_storage.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::engine {
namespace {

using ::recondb::testing::IsOkAndHolds;
using ::recondb::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1767225600LL * 1000000 + 123456;  // 2026-01-01T00:00:00.123456Z

v1::Table Notes() {
  v1::Table t;
  t.set_name("notes");
  v1::Column* text = t.add_columns();
  text->set_name("text");
  text->set_type(v1::COLUMN_TYPE_STRING);
  return t;
}

v1::Record Note(const std::string& id, const std::string& text) {
  v1::Record r;
  r.set_table("notes");
  r.set_id(id);
  (*r.mutable_attributes())["text"].set_string(text);
  return r;
}

class EngineBackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(storage_, storage::OpenSqliteStorage({.path = dir_.File("live.sqlite3")}));
    EngineOptions options;
    options.storage = storage_.get();
    options.clock = &clock_;
    ASSERT_OK_AND_ASSIGN(engine_, Engine::Open(options));
    ASSERT_OK(engine_->CreateTable(Notes()).status());
    ASSERT_OK(engine_->PutRecord(Note("a", "first"), nullptr).status());
    ASSERT_OK(engine_->PutRecord(Note("b", "second"), nullptr).status());
  }

  // The value of meta `key` in `storage`, or the status's text.
  static std::string Meta(storage::Storage& storage, const std::string& key) {
    auto txn = storage.BeginRead();
    if (!txn.ok()) return txn.status().ToString();
    absl::StatusOr<std::string> value = (*txn)->GetMeta(key);
    return value.ok() ? *value : value.status().ToString();
  }

  FakeClock clock_{kNow};
  recondb::testing::TempDir dir_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineBackupTest, CopyIsMarkedAsACopyAndSaysWhatItHolds) {
  const std::string live_anchor = Meta(*storage_, "store_anchor");
  const std::string path = dir_.File("copy.sqlite3");
  ASSERT_OK_AND_ASSIGN(BackupInfo info, engine_->Backup(path));
  EXPECT_EQ(info.node_id, engine_->node_id());
  EXPECT_EQ(info.last_seq, engine_->LastSeq());
  EXPECT_EQ(info.taken_at, absl::FromUnixMicros(kNow));
  EXPECT_GT(info.bytes, 0);

  ASSERT_OK_AND_ASSIGN(auto copy, storage::OpenSqliteStorage({.path = path}));
  EXPECT_EQ(Meta(*copy, "store_anchor"), "copy");
  EXPECT_EQ(Meta(*copy, "backup/node_id"), engine_->node_id());
  EXPECT_EQ(Meta(*copy, "backup/last_seq"), std::to_string(engine_->LastSeq()));
  EXPECT_EQ(Meta(*copy, "backup/taken_at"), "2026-01-01T00:00:00.123456Z");
  // The data came along: the copy opens as an engine with the same records.
  EngineOptions options;
  options.storage = copy.get();
  ASSERT_OK_AND_ASSIGN(auto restored, Engine::Open(options));
  v1::GetRecordRequest get;
  get.set_table("notes");
  get.set_id("b");
  ASSERT_OK_AND_ASSIGN(v1::Record b, restored->GetRecord(get));
  EXPECT_EQ(b.attributes().at("text").string(), "second");

  // The live store is not marked.
  EXPECT_EQ(Meta(*storage_, "store_anchor"), live_anchor);
  EXPECT_THAT(Meta(*storage_, "backup/node_id"), HasSubstr("NOT_FOUND"));
}

TEST_F(EngineBackupTest, BackupKeysAreTheEnginesOwn) {
  for (const char* key : {"store_anchor", "backup/node_id", "backup/anything"}) {
    EXPECT_THAT(engine_->SetNodeMeta(key, "x"), StatusIs(absl::StatusCode::kInvalidArgument))
        << key;
  }
}

TEST_F(EngineBackupTest, MemoryBackendIsFailedPrecondition) {
  std::unique_ptr<storage::Storage> memory = storage::NewMemoryStorage();
  EngineOptions options;
  options.storage = memory.get();
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(options));
  EXPECT_THAT(engine->Backup(dir_.File("copy.sqlite3")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("memory")));
}

TEST(BackupInfoFromMetaTest, ReadsWhatBackupWrote) {
  const std::map<std::string, std::string> meta = {
      {"node_id", "other"},
      {"store_anchor", "copy"},
      {"backup/node_id", "node-1"},
      {"backup/last_seq", "42"},
      {"backup/taken_at", "2026-01-01T00:00:00.123456Z"}};
  ASSERT_OK_AND_ASSIGN(BackupInfo info, BackupInfoFromMeta(meta));
  EXPECT_EQ(info.node_id, "node-1");
  EXPECT_EQ(info.last_seq, 42);
  EXPECT_EQ(info.taken_at, absl::FromUnixMicros(kNow));
  EXPECT_EQ(FormatBackupTime(info.taken_at), "2026-01-01T00:00:00.123456Z");
}

TEST(BackupInfoFromMetaTest, AStoreThatIsNoBackupIsNotFoundAndBadValuesDataLoss) {
  EXPECT_THAT(BackupInfoFromMeta({{"node_id", "n"}}), StatusIs(absl::StatusCode::kNotFound));
  std::map<std::string, std::string> meta = {{"backup/node_id", "node-1"},
                                             {"backup/last_seq", "x"},
                                             {"backup/taken_at", "2026-01-01T00:00:00.000000Z"}};
  EXPECT_THAT(BackupInfoFromMeta(meta),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("backup/last_seq")));
  meta["backup/last_seq"] = "1";
  meta["backup/taken_at"] = "yesterday";
  EXPECT_THAT(BackupInfoFromMeta(meta),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("backup/taken_at")));
}

}  // namespace
}  // namespace recondb::engine
