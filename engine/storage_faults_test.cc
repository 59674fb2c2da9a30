// A storage failure in any write leaves nothing half-written (issue 14,
// point 2). For each write the engine makes (local writes, schema changes,
// replication batches, metadata), the test first counts the storage calls
// the write makes over FaultyStorage, then, for every N of 1..that count, in
// a fresh node built the same way: fails the Nth call, checks that the
// write answers a retryable status (UNAVAILABLE) and that every read shows
// exactly the state before the write (tables, records, history with audit,
// conflicts, the change feed, LastSeq, listeners, checkpoints); then heals
// the storage, retries the write and checks that it gives the same result
// and the same state as the write that never failed. Over the memory and the
// SQLite backend (whose rollback of an abandoned transaction this also
// exercises through the engine).
#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/clock.h"
#include "engine/engine.h"
#include "engine/revision.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_storage.h"
#include "storage/sqlite_storage.h"
#include "storage/testing/faulty_storage.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/values.h"

namespace recondb::engine {
namespace {

using ::recondb::storage::FaultyStorage;
using ::recondb::storage::StorageOp;
using ::recondb::testing::IsOk;
using ::recondb::testing::StringValue;

constexpr int64_t kNow = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z
constexpr char kOtherNode[] = "0192f3a4-5b6c-7d8e-9f01-23456789abcd";

// A node over FaultyStorage(memory) holding: table "todos" (TitleTable);
// records a and b (one revision each); c in conflict (a local update c2
// and a foreign sibling c2' of c1); d deleted.
struct World {
  ::recondb::testing::TempDir dir;
  std::unique_ptr<storage::Storage> base;
  FaultyStorage faulty;
  FakeClock clock{kNow};
  std::unique_ptr<Engine> engine;
  std::vector<int64_t> notified;  // What the change listener was told.
  std::string a1, b1, c1, c_local, c_theirs;

  // Over `backend`: "memory" or "sqlite" (a new file, synchronous=NORMAL:
  // durability is not what is tested).
  explicit World(const std::string& backend) : base(OpenBase(backend, dir)), faulty(base.get()) {
    EngineOptions options;
    options.storage = &faulty;
    options.clock = &clock;
    auto opened = Engine::Open(options);
    EXPECT_THAT(opened, IsOk());
    engine = *std::move(opened);
    engine->AddChangeListener([this](int64_t seq) { notified.push_back(seq); });
    EXPECT_THAT(engine->CreateTable(::recondb::testing::TitleTable("todos")), IsOk());
    a1 = Put("a", "one", "");
    b1 = Put("b", "two", "");
    c1 = Put("c", "base", "");
    c_local = Put("c", "mine", c1);
    ForeignRevision theirs = Foreign("c", c1, 1, "theirs");
    c_theirs = theirs.rev.revision;
    EXPECT_THAT(engine->ApplyForeignRevisions({theirs}), IsOk());
    const std::string d1 = Put("d", "gone", "");
    v1::DeleteRecordRequest del;
    del.set_table("todos");
    del.set_id("d");
    del.set_revision(d1);
    EXPECT_THAT(engine->DeleteRecord(del), IsOk());
    clock.Advance(1000000);
  }

  static std::unique_ptr<storage::Storage> OpenBase(const std::string& backend,
                                                    const ::recondb::testing::TempDir& dir) {
    if (backend == "memory") return storage::NewMemoryStorage();
    auto opened = storage::OpenSqliteStorage(
        {.path = dir.File("db.sqlite3"), .durability = storage::Durability::kNormal});
    EXPECT_THAT(opened, IsOk());
    return opened.ok() ? *std::move(opened) : storage::NewMemoryStorage();
  }

  std::string Put(const std::string& id, const std::string& title, const std::string& parent) {
    v1::Record record = ::recondb::testing::TitleRecord("todos", id, title);
    record.set_revision(parent);
    auto put = engine->PutRecord(record, nullptr);
    EXPECT_THAT(put, IsOk());
    return put.ok() ? put->revision() : "";
  }

  // A revision of record `id` made elsewhere, child of `parent`.
  static ForeignRevision Foreign(const std::string& id, const std::string& parent,
                                 int64_t parent_generation, const std::string& title) {
    ForeignRevision f;
    f.table = "todos";
    f.rev.id = id;
    f.rev.parent = parent;
    f.rev.generation = parent_generation + 1;
    f.rev.attributes["title"] = StringValue(title);
    f.rev.revision = ComputeRevision(f.rev.generation,
                                     {"todos", f.rev.id, f.rev.parent, false, &f.rev.attributes});
    f.rev.audit = {"bob", kOtherNode, kNow - 5000000};
    return f;
  }

  // Everything a reader can see, through the engine and past it, with this
  // node's random id replaced by "NODE" so that two worlds compare equal.
  std::string Dump() {
    std::vector<std::string> out;
    out.push_back(absl::StrCat("engine last seq ", engine->LastSeq()));
    out.push_back(absl::StrCat("notified ", absl::StrJoin(notified, ",")));
    auto tables = engine->ListTables();
    EXPECT_THAT(tables, IsOk());
    for (const v1::Table& t : tables.ok() ? *tables : std::vector<v1::Table>{}) {
      out.push_back(absl::StrCat("table ", t.ShortDebugString()));
      auto cached = engine->GetTable(t.name());
      out.push_back(absl::StrCat(
          "engine table ", cached.ok() ? cached->ShortDebugString() : cached.status().ToString()));
    }
    // The engine caches definitions: a table the store does not have must
    // not be found either.
    for (const char* name : {"notes", "remote"}) {
      auto table = engine->GetTable(name);
      out.push_back(
          absl::StrCat("engine table ", name, " ",
                       table.ok() ? table->ShortDebugString() : table.status().ToString()));
    }
    auto changes = engine->GetChanges(0, {}, 100000);
    EXPECT_THAT(changes, IsOk());
    std::vector<std::pair<std::string, std::string>> records;
    for (const v1::Change& c : changes.ok() ? *changes : std::vector<v1::Change>{}) {
      out.push_back(absl::StrCat("change ", c.ShortDebugString()));
      if (c.kind() == v1::CHANGE_KIND_RECORD) records.emplace_back(c.table(), c.id());
    }
    std::sort(records.begin(), records.end());
    for (const auto& [table, id] : records) DumpRecord(table, id, out);
    auto checkpoint = engine->GetCheckpoint("peer");
    out.push_back(absl::StrCat("checkpoint ", checkpoint.ok() ? checkpoint->seq : -1, " ",
                               checkpoint.ok() ? checkpoint->source_incarnation : ""));
    auto note = engine->GetNodeMeta("note");
    out.push_back(absl::StrCat("note ", note.ok() ? *note : note.status().ToString()));
    auto txn = base->BeginRead();
    EXPECT_THAT(txn, IsOk());
    auto last_seq = (*txn)->LastSeq();
    out.push_back(absl::StrCat("stored last seq ", last_seq.ok() ? *last_seq : -1));
    return absl::StrReplaceAll(absl::StrJoin(out, "\n"), {{engine->node_id(), "NODE"}});
  }

  void DumpRecord(const std::string& table, const std::string& id, std::vector<std::string>& out) {
    v1::GetRecordRequest get;
    get.set_table(table);
    get.set_id(id);
    get.set_include_conflicts(true);
    auto record = engine->GetRecord(get);
    out.push_back(
        absl::StrCat("record ", table, "/", id, " ",
                     record.ok() ? record->ShortDebugString() : record.status().ToString()));
    v1::GetRecordHistoryRequest history_request;
    history_request.set_table(table);
    history_request.set_id(id);
    auto history = engine->GetRecordHistory(history_request);
    EXPECT_THAT(history, IsOk());
    std::vector<std::string> entries;
    for (const v1::HistoryEntry& e : history.ok()
                                         ? history->entries()
                                         : google::protobuf::RepeatedPtrField<v1::HistoryEntry>()) {
      entries.push_back(e.ShortDebugString());
    }
    std::sort(entries.begin(), entries.end());
    for (const std::string& e : entries) out.push_back(absl::StrCat("  history ", e));
  }
};

// One write: what it returns, as text (node id replaced like Dump's).
using Write = std::function<absl::StatusOr<std::string>(World&)>;

template <typename T>
absl::StatusOr<std::string> Text(World& w, const absl::StatusOr<T>& result) {
  if (!result.ok()) return result.status();
  std::string text;
  if constexpr (std::is_base_of_v<google::protobuf::Message, T>) {
    text = result->ShortDebugString();
  } else {
    text = absl::StrCat(*result);
  }
  return absl::StrReplaceAll(text, {{w.engine->node_id(), "NODE"}});
}

absl::StatusOr<std::string> Text(World& w, const absl::Status& status) {
  if (!status.ok()) return status;
  return std::string("OK");
}

v1::Column NoteColumn() {
  v1::Column note;
  note.set_name("note");
  note.set_type(v1::COLUMN_TYPE_STRING);
  note.set_nullable(true);
  return note;
}

struct WriteCase {
  std::string name;
  Write write;
  friend void PrintTo(const WriteCase& c, std::ostream* os) { *os << c.name; }
};

std::vector<WriteCase> Writes() {
  return {
      {"CreateTable",
       [](World& w) {
         return Text(w, w.engine->CreateTable(::recondb::testing::TitleTable("notes")));
       }},
      {"AddColumns",
       [](World& w) { return Text(w, w.engine->AddColumns("todos", {NoteColumn()})); }},
      {"PutRecordCreate",
       [](World& w) {
         return Text(w, w.engine->PutRecord(::recondb::testing::TitleRecord("todos", "e", "new"),
                                            nullptr, "alice"));
       }},
      {"PutRecordUpdate",
       [](World& w) {
         v1::Record r = ::recondb::testing::TitleRecord("todos", "a", "one more");
         r.set_revision(w.a1);
         return Text(w, w.engine->PutRecord(r, nullptr, "alice"));
       }},
      {"PutRecordRecreate",
       [](World& w) {
         return Text(w, w.engine->PutRecord(::recondb::testing::TitleRecord("todos", "d", "back"),
                                            nullptr));
       }},
      {"PutRecordConflicted",
       [](World& w) {
         v1::Record r = ::recondb::testing::TitleRecord("todos", "c", "mine again");
         r.set_revision(w.c_local);
         return Text(w, w.engine->PutRecord(r, nullptr));
       }},
      {"DeleteRecord",
       [](World& w) {
         v1::DeleteRecordRequest del;
         del.set_table("todos");
         del.set_id("b");
         del.set_revision(w.b1);
         return Text(w, w.engine->DeleteRecord(del));
       }},
      {"DeleteRecordDismissingConflict",
       [](World& w) {
         v1::DeleteRecordRequest del;
         del.set_table("todos");
         del.set_id("c");
         del.set_revision(std::min(w.c_local, w.c_theirs));  // The loser.
         return Text(w, w.engine->DeleteRecord(del));
       }},
      {"ResolveConflict",
       [](World& w) {
         v1::Record r = ::recondb::testing::TitleRecord("todos", "c", "merged");
         r.set_revision(std::max(w.c_local, w.c_theirs));  // The winner.
         return Text(w, w.engine->ResolveConflict(r, nullptr, "alice"));
       }},
      {"ResolveConflictByDelete",
       [](World& w) {
         v1::Record r;
         r.set_table("todos");
         r.set_id("c");
         r.set_deleted(true);
         r.set_revision(std::max(w.c_local, w.c_theirs));
         return Text(w, w.engine->ResolveConflict(r, nullptr, "alice"));
       }},
      {"ApplyForeignRevisions",
       [](World& w) {
         ForeignRevision f1 = World::Foreign("f", "", 0, "far");
         ForeignRevision f2 = World::Foreign("f", f1.rev.revision, 1, "farther");
         ForeignRevision a2 = World::Foreign("a", w.a1, 1, "theirs");
         return Text(w, w.engine->ApplyForeignRevisions({f2, a2, f1}));
       }},
      {"ApplyForeignRevisionsWithCheckpoint",
       [](World& w) {
         ForeignRevision f1 = World::Foreign("f", "", 0, "far");
         ForeignRevision b2 = World::Foreign("b", w.b1, 1, "theirs");
         Checkpoint checkpoint{"peer", 42, "incarnation-1"};
         return Text(w, w.engine->ApplyForeignRevisions({f1, b2}, &checkpoint));
       }},
      {"ApplyForeignTableNew",
       [](World& w) {
         v1::Table remote = ::recondb::testing::TitleTable("remote");
         remote.mutable_create_time()->set_seconds(1700000000);
         remote.set_created_by(kOtherNode);
         return Text(w, w.engine->ApplyForeignTable(remote));
       }},
      {"ApplyForeignTableExtending",
       [](World& w) {
         auto todos = w.engine->GetTable("todos");
         if (!todos.ok()) return absl::StatusOr<std::string>(todos.status());
         *todos->add_columns() = NoteColumn();
         return Text(w, w.engine->ApplyForeignTable(*todos));
       }},
      {"MergeForeignAudit",
       [](World& w) {
         ChangedRecord offered;
         offered.table = "todos";
         offered.id = "c";
         offered.leaves = {w.c_theirs};
         offered.leaf_audits = {{"bob", kOtherNode, kNow - 9000000}};  // Earlier: precedes.
         return Text(w, w.engine->MergeForeignAudit({offered}));
       }},
      {"SetNodeMeta", [](World& w) { return Text(w, w.engine->SetNodeMeta("note", "hello")); }},
  };
}

class StorageFaultsTest : public ::testing::TestWithParam<std::tuple<WriteCase, std::string>> {};

TEST_P(StorageFaultsTest, EveryFailedCallLeavesNothingAndRetrySucceeds) {
  const auto& [write_case, backend] = GetParam();
  const Write& write = write_case.write;
  // The write that never fails: its result, its state and how many storage
  // calls it makes.
  World reference(backend);
  reference.faulty.ResetCounts();
  const absl::StatusOr<std::string> expected = write(reference);
  ASSERT_THAT(expected, IsOk());
  const int64_t calls = reference.faulty.CallCount(StorageOp::kAny);
  ASSERT_GT(calls, 0);
  const std::string expected_after = reference.Dump();
  RecordProperty("storage_calls", static_cast<int>(calls));

  for (int64_t n = 1; n <= calls; ++n) {
    SCOPED_TRACE(absl::StrCat(write_case.name, " over ", backend, ": failing storage call ", n,
                              " of ", calls));
    World w(backend);
    const std::string before = w.Dump();
    w.faulty.ResetCounts();
    w.faulty.FailAfter(StorageOp::kAny, n - 1);
    const absl::StatusOr<std::string> failed = write(w);
    ASSERT_EQ(w.faulty.InjectedCount(), 1) << "the fault did not fire during the write";
    EXPECT_TRUE(absl::IsUnavailable(failed.status()) || absl::IsAborted(failed.status()))
        << "not retryable: " << failed.status();
    EXPECT_EQ(w.Dump(), before) << "half-written";
    w.faulty.Heal();
    const absl::StatusOr<std::string> retried = write(w);
    ASSERT_THAT(retried, IsOk());
    EXPECT_EQ(*retried, *expected);
    EXPECT_EQ(w.Dump(), expected_after);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Writes, StorageFaultsTest,
    ::testing::Combine(::testing::ValuesIn(Writes()), ::testing::Values("memory", "sqlite")),
    [](const ::testing::TestParamInfo<std::tuple<WriteCase, std::string>>& info) {
      return std::get<0>(info.param).name + "_" + std::get<1>(info.param);
    });

// Writers on several threads over a store that fails 10% of all calls at
// random: every write either answers UNAVAILABLE and keeps nothing, or
// succeeds; retried until it succeeds, the node ends exactly as if nothing
// had failed (each record's history is its acknowledged writes, one feed
// entry per record, the feed's last seq the engine's).
TEST(ConcurrentStorageFaultsTest, RandomFailuresUnderConcurrentWritersKeepOnlyWholeWrites) {
  World w("memory");
  const int64_t seq_before = w.engine->LastSeq();
  w.faulty.FailRandomly(StorageOp::kAny, 0.1, /*seed=*/14);
  constexpr int kThreads = 4, kWritesPerRecord = 5;
  std::vector<std::thread> threads;
  std::vector<std::string> last(kThreads);  // Each thread's record's winner.
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string id = absl::StrCat("t", t);
      std::string parent;
      for (int i = 0; i < kWritesPerRecord; ++i) {
        v1::Record r = ::recondb::testing::TitleRecord("todos", id, absl::StrCat("v", i));
        r.set_revision(parent);
        for (int attempt = 0; attempt < 100; ++attempt) {
          auto put = w.engine->PutRecord(r, nullptr);
          if (put.ok()) {
            parent = put->revision();
            break;
          }
          EXPECT_TRUE(absl::IsUnavailable(put.status())) << put.status();
          ++failures;
        }
      }
      last[t] = parent;
    });
  }
  for (std::thread& t : threads) t.join();
  w.faulty.Heal();
  EXPECT_GT(failures.load(), 0);
  EXPECT_EQ(w.engine->LastSeq(), seq_before + kThreads * kWritesPerRecord);
  auto txn = w.base->BeginRead();
  ASSERT_THAT(txn, IsOk());
  EXPECT_THAT((*txn)->LastSeq(), ::recondb::testing::IsOkAndHolds(w.engine->LastSeq()));
  auto todos = (*txn)->GetTable("todos");
  ASSERT_THAT(todos, IsOk());
  for (int t = 0; t < kThreads; ++t) {
    const std::string id = absl::StrCat("t", t);
    EXPECT_THAT((*txn)->GetHistory(*todos, id),
                ::recondb::testing::IsOkAndHolds(::testing::SizeIs(kWritesPerRecord)));
    auto leaves = (*txn)->GetLeaves(*todos, id);
    ASSERT_THAT(leaves, IsOk());
    ASSERT_EQ(leaves->size(), 1u);
    EXPECT_EQ(leaves->front().revision, last[t]);
    auto changes = (*txn)->ScanChanges(seq_before, {"todos"}, 1000);
    ASSERT_THAT(changes, IsOk());
    EXPECT_EQ(std::count_if(changes->begin(), changes->end(),
                            [&](const v1::Change& c) { return c.id() == id; }),
              1);
  }
}

}  // namespace
}  // namespace recondb::engine
