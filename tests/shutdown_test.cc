// Graceful shutdown under load: SIGTERM while clients are writing. The
// daemon exits 0, and every write it acknowledged is there after a restart
// (a write cut off by the shutdown may or may not have committed, but none
// that was acknowledged is lost).
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/daemon_process.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::testing {
namespace {

constexpr int kWriters = 4;
constexpr int kWritesPerWriter = 5000;  // Far more than fit before the SIGTERM.
constexpr int kAckedBeforeStop = 100;

TEST(ShutdownTest, SigtermDuringWritesKeepsEveryAcknowledgedWrite) {
  TempDir data;
  DaemonOptions options;
  options.data_dir = data.path();
  ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Start(options));
  {
    DbClient setup(daemon->NewChannel());
    ASSERT_OK(setup.CreateTable(TodoTable()));
  }

  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<int> acked_count{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w, channel = daemon->NewChannel()] {
      DbClient db(channel, absl::Seconds(30));
      for (int i = 0; i < kWritesPerWriter; ++i) {
        const std::string id = absl::StrCat("w", w, "-", i);
        auto put = db.Create("todos", {{"title", StringValue(id)}}, id);
        if (!put.ok()) {  // The server is going away: stop writing.
          ++refused;
          return;
        }
        std::lock_guard<std::mutex> lock(mu);
        acknowledged.insert(id);
        ++acked_count;
      }
    });
  }
  // Bounded wait until writes are flowing, then stop the daemon mid-stream.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (acked_count.load() < kAckedBeforeStop && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_GE(acked_count.load(), kAckedBeforeStop);
  ASSERT_OK_AND_ASSIGN(int exit_code, daemon->Stop(absl::Seconds(30)));
  for (auto& t : writers) t.join();
  EXPECT_EQ(exit_code, 0) << daemon->log();
  EXPECT_THAT(daemon->log(), ::testing::HasSubstr("recondbd stopped"));
  // The writers were still going when the daemon stopped.
  EXPECT_EQ(refused.load(), kWriters);
  EXPECT_LT(acked_count.load(), kWriters * kWritesPerWriter);

  ASSERT_OK_AND_ASSIGN(auto restarted, DaemonProcess::Start(options));
  DbClient db(restarted->NewChannel());
  for (const std::string& id : acknowledged) {
    EXPECT_OK(db.GetRecord("todos", id)) << id;
  }
  db.Close();
  ASSERT_OK_AND_ASSIGN(int second_exit, restarted->Stop());
  EXPECT_EQ(second_exit, 0);
}

}  // namespace
}  // namespace recondb::testing
