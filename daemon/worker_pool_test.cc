#include "daemon/worker_pool.h"

#include <atomic>
#include <memory>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace recondb::daemon {
namespace {

TEST(WorkerPoolTest, RunsEveryTask) {
  std::atomic<int> ran{0};
  absl::BlockingCounter done(100);
  WorkerPool pool(3);
  for (int i = 0; i < 100; ++i) {
    pool.Schedule([&] {
      ran.fetch_add(1);
      done.DecrementCount();
    });
  }
  done.Wait();
  EXPECT_EQ(ran.load(), 100);
}

TEST(WorkerPoolTest, TasksRunConcurrently) {
  // Each task waits for the other: this only ends if both run at once.
  WorkerPool pool(2);
  absl::Notification a_started, b_started;
  absl::BlockingCounter done(2);
  pool.Schedule([&] {
    a_started.Notify();
    b_started.WaitForNotification();
    done.DecrementCount();
  });
  pool.Schedule([&] {
    b_started.Notify();
    a_started.WaitForNotification();
    done.DecrementCount();
  });
  done.Wait();
}

TEST(WorkerPoolTest, DestructorRunsQueuedTasksAndTheirFollowUps) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(1);
    absl::Notification release;
    pool.Schedule([&] { release.WaitForNotification(); });
    for (int i = 0; i < 10; ++i) {
      pool.Schedule([&pool, &ran] {
        ran.fetch_add(1);
        pool.Schedule([&ran] { ran.fetch_add(1); });
      });
    }
    release.Notify();
  }
  EXPECT_EQ(ran.load(), 20);
}

}  // namespace
}  // namespace recondb::daemon
